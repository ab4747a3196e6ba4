# SPDX-License-Identifier: GPL-2.0
"""Boot kscope's test VMs (Debian 6.1, 6.12, 6.12-rt under QEMU/TCG) and collect
their results.

Used by tests/test_vm.py; also a command line tool for working on the VM
tier by hand:

    python3 tests/vm/vmrun.py                  # both kernels, in parallel
    python3 tests/vm/vmrun.py -k 6.12 --only kmem
    python3 tests/vm/vmrun.py --append 'init=/nonexistent' --initrd /dev/null

Python 3 standard library only (Debian 12 ships 3.11).
"""
import argparse
import base64
import dataclasses
import gzip
import importlib.util
import io
import os
import pathlib
import re
import shutil
import struct
import subprocess
import sys
import tarfile
import threading
import time

HERE = pathlib.Path(__file__).resolve().parent
REPO = HERE.parent.parent
# every label fetch-kernels.sh knows; the default set is all of them
KERNELS = ("6.1", "6.12", "6.12-rt", "6.12-arm64")


def arch(label) -> str:
    """The guest's architecture: x86 (amd64) or arm64 (-arm64 labels)."""
    return "arm64" if label.endswith("-arm64") else "x86"

INIT_MARK = b"KSCOPE-VM: INIT"
DONE_MARK = "KSCOPE-VM-DONE"


class VMError(Exception):
    """The VM tier could not do its job: always a test failure."""


class VMUnavailable(VMError):
    """This machine cannot run the tier at all (no qemu and no way to
    install it): a visible skip locally, a failure in CI."""


def env_int(name, default):
    v = os.environ.get(name, "")
    try:
        return int(v) if v else default
    except ValueError:
        raise VMError(f"{name}={v!r} is not a number")


def workdir() -> pathlib.Path:
    return pathlib.Path(os.environ.get("KSCOPE_VM_WORKDIR",
                                       REPO / "build" / "vm"))


# what runs without KSCOPE_VM_KERNELS (make check): every kernel, the
# four VMs at once (cases_for() says which cases each runs)
DEFAULT_KERNELS = KERNELS


def selected_labels():
    want = (os.environ.get("KSCOPE_VM_KERNELS", "").split()
            or list(DEFAULT_KERNELS))
    bad = [k for k in want if k not in KERNELS]
    if bad:
        raise VMError(f"KSCOPE_VM_KERNELS: unknown kernel(s) {bad}; "
                      f"known: {' '.join(KERNELS)}")
    return want


def selected_only():
    """KSCOPE_VM_ONLY="kmem numa": run only these case names (local loops)."""
    return os.environ.get("KSCOPE_VM_ONLY", "").replace(",", " ").split()


# --- host tools --------------------------------------------------------------

def _elf_is_static(path) -> bool:
    """True for an ELF with no PT_INTERP (what the initramfs can run as is)."""
    with open(path, "rb") as f:
        h = f.read(64)
        if h[:4] != b"\x7fELF" or h[4] != 2:  # 64-bit only, as the guest
            return False
        phoff, = struct.unpack_from("<Q", h, 32)
        phentsize, phnum = struct.unpack_from("<HH", h, 54)
        for i in range(phnum):
            f.seek(phoff + i * phentsize)
            if struct.unpack("<I", f.read(4))[0] == 3:  # PT_INTERP
                return False
    return True


def _static_busybox():
    for p in ("/bin/busybox", "/usr/bin/busybox", shutil.which("busybox")):
        if p and os.access(p, os.X_OK) and _elf_is_static(p):
            return p
    return None


def _libc_a():
    return any(pathlib.Path(d, "libc.a").exists() for d in
               ("/usr/lib/x86_64-linux-gnu", "/usr/lib64", "/usr/lib"))


def ensure_host_tools(log=print):
    """Install what the tier needs on a fresh Debian machine (CI)."""
    need = {
        "qemu-system-x86": lambda: shutil.which("qemu-system-x86_64"),
        # the 6.12-arm64 guest (make static-arm64 installs its compiler)
        "qemu-system-arm": lambda: shutil.which("qemu-system-aarch64"),
        "busybox-static": _static_busybox,
        "cpio": lambda: shutil.which("cpio"),
        # numa_touch is linked statically
        "gcc": lambda: shutil.which(os.environ.get("CC", "cc")),
        "libc6-dev": _libc_a,
        "binutils": lambda: shutil.which("readelf"),
        # unpacks 6.12's zstd bzImage for a faster PVH boot
        "zstd": lambda: shutil.which("zstd"),
    }
    missing = [pkg for pkg, ok in need.items() if not ok()]
    if not missing:
        return
    if os.geteuid() != 0 or not shutil.which("apt-get"):
        raise VMUnavailable(
            f"missing {' '.join(missing)} and cannot install them "
            "(needs root and apt-get): apt-get install " + " ".join(missing))
    log(f"vmrun: apt-get install {' '.join(missing)}")
    cmd = ["apt-get", "install", "-y", "-q", "--no-install-recommends"] + missing
    env = dict(os.environ, DEBIAN_FRONTEND="noninteractive")
    r = subprocess.run(cmd, env=env, stdin=subprocess.DEVNULL,
                       capture_output=True, text=True)
    if r.returncode != 0:
        # a fresh machine may have no package lists yet
        subprocess.run(["apt-get", "update", "-q"], env=env,
                       stdin=subprocess.DEVNULL, capture_output=True)
        r = subprocess.run(cmd, env=env, stdin=subprocess.DEVNULL,
                           capture_output=True, text=True)
    still = [pkg for pkg, ok in need.items() if not ok()]
    if r.returncode != 0 or still:
        raise VMError(f"apt-get install {' '.join(missing)} failed "
                      f"(still missing: {' '.join(still)}):\n"
                      + (r.stdout + r.stderr)[-3000:])


# --- kernels -----------------------------------------------------------------

@dataclasses.dataclass
class Kernel:
    label: str
    vmlinuz: pathlib.Path
    config: pathlib.Path
    package: str
    version: str


def default_cache():
    c = os.environ.get("KSCOPE_VM_CACHE")
    if c:
        return c
    c = "/var/cache/kscope-vm"
    # a developer without root still gets a cache, in their home
    parent = pathlib.Path(c) if pathlib.Path(c).exists() else pathlib.Path(c).parent
    if not os.access(parent, os.W_OK):
        c = os.path.join(os.environ.get("XDG_CACHE_HOME",
                                        os.path.expanduser("~/.cache")),
                         "kscope-vm")
    return c


def fetch_kernels(labels):
    env = dict(os.environ, KSCOPE_VM_CACHE=default_cache())
    r = subprocess.run([str(HERE / "fetch-kernels.sh")] + list(labels),
                       env=env, stdin=subprocess.DEVNULL,
                       capture_output=True, text=True)
    if r.returncode != 0:
        raise VMError("fetching the VM kernels failed:\n" + r.stderr[-4000:])
    out = {}
    for line in r.stdout.splitlines():
        label, vmlinuz, config, pkg, ver = line.split()
        out[label] = Kernel(label, pathlib.Path(vmlinuz),
                            pathlib.Path(config), pkg, ver)
    lost = [k for k in labels if k not in out]
    if lost:
        raise VMError(f"fetch-kernels.sh reported no kernel for {lost}:\n"
                      + r.stderr[-4000:])
    return out


def boot_image(kernel: Kernel) -> pathlib.Path:
    """The file to hand QEMU's -kernel.

    A bzImage decompresses itself in the guest, which under TCG costs
    seconds (xz, Debian's 6.1: ~2.5 s; zstd, 6.12: ~1 s) of a ~5 s boot.
    QEMU can instead boot the uncompressed ELF vmlinux through its PVH entry
    point (CONFIG_PVH=y on Debian), so unpack it once on the host (stdlib
    lzma for xz, the zstd command for zstd) and cache it beside vmlinuz.
    The ELF path has no KASLR (the decompressor does that), which only
    moves the kernel: kallsyms stays the truth.  Anything unexpected falls
    back to the bzImage; KSCOPE_VM_PVH=0 forces it.
    """
    if os.environ.get("KSCOPE_VM_PVH", "1") == "0":
        return kernel.vmlinuz
    elf = kernel.vmlinuz.with_name("vmlinux")
    if elf.exists():
        return elf
    try:
        if "\nCONFIG_PVH=y\n" not in kernel.config.read_text():
            return kernel.vmlinuz
    except OSError:
        return kernel.vmlinuz
    b = kernel.vmlinuz.read_bytes()
    # boot protocol: setup sectors at 0x1f1, payload offset/length at 0x248
    if len(b) < 0x250 or b[0x202:0x206] != b"HdrS":
        return kernel.vmlinuz
    start = ((b[0x1f1] or 4) + 1) * 512
    off, length = struct.unpack_from("<II", b, 0x248)
    # the payload ends with the 4-byte uncompressed size (size_append)
    payload = b[start + off:start + off + length - 4]
    data = b""
    if payload.startswith(b"\xfd7zXZ\x00"):
        import lzma
        try:
            data = lzma.LZMADecompressor().decompress(payload)
        except lzma.LZMAError:
            pass
    elif payload.startswith(b"\x28\xb5\x2f\xfd") and shutil.which("zstd"):
        # the kernel uses a 128 MiB window (-22 --ultra): allow it
        r = subprocess.run(["zstd", "-dcq", "--memory=1024MB"], input=payload,
                           capture_output=True)
        if r.returncode == 0:
            data = r.stdout
    if data[:4] != b"\x7fELF":
        return kernel.vmlinuz
    tmp = elf.with_suffix(f".tmp{os.getpid()}")
    tmp.write_bytes(data)
    tmp.rename(elf)
    return elf


# --- initramfs ---------------------------------------------------------------

def fetch_netmods(kernel: Kernel) -> pathlib.Path:
    """The kernel's virtio-net modules, for fleet boots (cached beside
    its vmlinuz)."""
    r = subprocess.run([str(HERE / "fetch-netmods.sh"), kernel.package,
                        kernel.version, str(kernel.vmlinuz.parent)],
                       stdin=subprocess.DEVNULL, capture_output=True, text=True)
    if r.returncode != 0:
        raise VMError(f"virtio-net modules of {kernel.package}:\n"
                      + r.stderr[-3000:])
    return pathlib.Path(r.stdout.strip().splitlines()[-1])


# what an arm64 initramfs is made of: `make static-arm64` builds it
ARM64_BUILD = REPO / "build" / "arm64"


def build_initramfs(path: pathlib.Path, env=None, guest_arch="x86") -> str:
    """Build the initramfs; returns the manifest's summary lines.  env:
    extra environment for mkinitramfs.sh (KSCOPE_INITRAMFS_*); guest_arch
    arm64 takes build/arm64's kscope, workloads and busybox."""
    path.parent.mkdir(parents=True, exist_ok=True)
    env = dict(os.environ, **(env or {}))
    if guest_arch == "arm64":
        if not (ARM64_BUILD / "kscope-static").exists():
            raise VMError(f"no {ARM64_BUILD}/kscope-static for the arm64 VM: "
                          "run 'make static-arm64' (make check does)")
        env.update(KSCOPE_BUILD=str(ARM64_BUILD),
                   BUSYBOX=str(ARM64_BUILD / "sysroot" / "bin" / "busybox"),
                   CC="aarch64-linux-gnu-gcc",
                   CROSS_LIBDIR="/usr/aarch64-linux-gnu/lib")
    r = subprocess.run([str(HERE / "mkinitramfs.sh"), str(path)], env=env,
                       stdin=subprocess.DEVNULL, capture_output=True, text=True)
    if r.returncode != 0:
        raise VMError("building the initramfs failed:\n" + r.stderr[-4000:])
    return r.stderr


def initramfs_path(base: pathlib.Path, label) -> pathlib.Path:
    a = arch(label)
    return base / ("initramfs.cpio" if a == "x86" else f"initramfs-{a}.cpio")


def build_initramfses(labels, base: pathlib.Path) -> dict:
    """One initramfs per guest architecture; {label: path}."""
    built, out = {}, {}
    for label in labels:
        path = initramfs_path(base, label)
        if path not in built:
            built[path] = build_initramfs(path, guest_arch=arch(label))
        out[label] = path
    return out


def initramfs_kscope(path: pathlib.Path) -> str:
    """What the manifest says about kscope: 'static (...)', 'MISSING ...'."""
    try:
        for line in pathlib.Path(str(path) + ".manifest").read_text().splitlines():
            if line.startswith("kscope: "):
                return line[len("kscope: "):]
    except OSError:
        pass
    return "unknown (no manifest)"


# --- cases -------------------------------------------------------------------

@dataclasses.dataclass
class Case:
    kind: str          # "cases" (tests/cases) or "selftest" (tests/vm/selftest)
    name: str
    script: pathlib.Path
    tool: str
    modes: list
    where: list

    def check_module(self) -> pathlib.Path:
        return self.script.with_suffix(".py")

    def rel(self, mode) -> str:
        return f"{self.kind}/{self.name}/{mode}"


def _header(text, key):
    # same rule as the guest's sed: first "# key: value" line
    m = re.search(rf"^#\s*{re.escape(key)}:[ \t]*(.*)$", text, re.M)
    return m.group(1).strip() if m else ""


def load_check(path: pathlib.Path):
    name = "kscope_check_" + path.parent.name + "_" + path.stem
    spec = importlib.util.spec_from_file_location(name, path)
    mod = importlib.util.module_from_spec(spec)
    # checks may import helpers that sit beside them
    sys.path.insert(0, str(path.parent))
    try:
        spec.loader.exec_module(mod)
    finally:
        sys.path.remove(str(path.parent))
    return mod


def discover_cases():
    """Cases the guest will run, mirroring guest-init.sh's selection."""
    only = selected_only()
    out = []
    for kind, d in (("selftest", HERE / "selftest"),
                    ("cases", REPO / "tests" / "cases")):
        for script in sorted(d.glob("*.sh")):
            text = script.read_text(errors="replace")
            # a case declares its tool; sourced helpers (_lib.sh) don't
            if script.name.startswith("_") or not _header(text, "tool"):
                continue
            where = _header(text, "where").split()
            if where and "vm" not in where and "numa" not in where:
                continue
            if only and script.stem not in only:
                continue
            modes = _header(text, "modes").split() or ["default"]
            vm_modes = _header(text, "vm-modes").split()
            bad = set(vm_modes) - set(modes)
            if bad:
                raise ValueError(f"{script.name}: vm-modes {sorted(bad)} "
                                 f"not among its modes {modes}")
            out.append(Case(kind, script.stem, script, _header(text, "tool"),
                            vm_modes or modes, where))
    return out


# Which cases each kernel runs in `make check`.  Four VMs share two host
# cores, and arm64 under TCG is the slowest, so not every kernel runs every
# case: 6.1 and 6.12 run all of them; 6.12-rt runs every lock case (what
# PREEMPT_RT changes, KERNEL_TOOLS) and KERNEL_CASES, 6.12-arm64 none in
# particular; both add a cover
# set: cases chosen so that every (tool, mode) pair any case declares runs
# at least once, so every tool runs in every mode the kernel offers.
# KSCOPE_VM_ALL_CASES=1 (or KSCOPE_VM_ONLY) runs the same cases everywhere.
FULL_KERNELS = ("6.1", "6.12")
KERNEL_TOOLS = {"6.12-rt": ("mlock", "mheld", "spinlock")}
# and these cases besides: slabratetop_preempted is about what PREEMPT_RT's
# preemptible BPF programs make the kernel skip
KERNEL_CASES = {"6.12-rt": ("slabratetop_preempted",)}
# ...but not these: mlock_mmap (heap lock names and filters, the same
# code on every kernel) takes 85 s a mode on RT under TCG, a third of the
# RT guest's time; its (tool, mode) pairs are covered there by others.
# Nor do its expectations hold on RT, where mmap_lock is an rwbase_rt
# (rt_mutex waits, no rwsem kind) and waits end unseen ('missed'): forced
# there with KSCOPE_VM_ONLY it fails, with 38349cc's build as with later.
KERNEL_LEAVE = {"6.12-rt": ("mlock_mmap",)}


def cover_set(cases):
    """Greedy: the case adding most uncovered (tool, mode) pairs first,
    ties by name, until every pair the cases declare is covered."""
    want = {(c.tool, m) for c in cases for m in c.modes}
    chosen, left = [], sorted(cases, key=lambda c: c.name)
    while want:
        best = max(left, key=lambda c: len(want & {(c.tool, m)
                                                  for m in c.modes}))
        gain = want & {(best.tool, m) for m in best.modes}
        if not gain:
            break
        chosen.append(best)
        left.remove(best)
        want -= gain
    return chosen


def cases_for(label, cases):
    """The cases kernel LABEL runs (see FULL_KERNELS), in discovery order."""
    if (label in FULL_KERNELS or selected_only()
            or os.environ.get("KSCOPE_VM_ALL_CASES", "") == "1"):
        return cases
    keep = {c.name for c in cover_set([c for c in cases
                                       if c.kind == "cases"])}
    keep |= {c.name for c in cases if c.kind == "selftest"
             or c.tool in KERNEL_TOOLS.get(label, ())
             or c.name in KERNEL_CASES.get(label, ())}
    keep -= set(KERNEL_LEAVE.get(label, ())) - {
        c.name for c in cover_set([c for c in cases if c.kind == "cases"])}
    return [c for c in cases if c.name in keep]


# --- booting -----------------------------------------------------------------

@dataclasses.dataclass
class VMRun:
    label: str
    kernel: Kernel
    dir: pathlib.Path
    console: pathlib.Path
    results: pathlib.Path
    cmdline: list
    returncode: int = None
    booted: bool = False
    done: bool = False
    boot_s: float = None        # host wall clock, QEMU start -> /init
    init_uptime: float = None   # guest's /proc/uptime when /init started
    wall_s: float = None
    error: str = None
    reported: list = dataclasses.field(default_factory=list)

    def console_lines(self):
        try:
            return self.console.read_text(errors="replace").replace(
                "\r", "").splitlines()
        except OSError:
            return []

    def tail(self, n=40) -> str:
        lines = self.console_lines()
        return "\n".join(lines[-n:]) if lines else "(console log empty)"

    def case_console(self, rel, n=40) -> str:
        """Console lines printed while one case ran (kernel warnings...)."""
        lines = self.console_lines()
        try:
            b = lines.index(f"KSCOPE-VM: CASE-BEGIN {rel}")
        except ValueError:
            return "(case never started)"
        e = next((i for i in range(b, len(lines))
                  if lines[i].startswith(f"KSCOPE-VM: CASE-END {rel} ")),
                 len(lines) - 1)
        return "\n".join(lines[b:e + 1][-n:])

    def running_case(self):
        """The case that began but never ended, if any."""
        last = None
        for line in self.console_lines():
            if line.startswith("KSCOPE-VM: CASE-BEGIN "):
                last = line.split()[2]
            elif line.startswith("KSCOPE-VM: CASE-END "):
                last = None
        return last

    def summary(self) -> dict:
        return {"kernel": self.label, "package": self.kernel.package,
                "version": self.kernel.version, "booted": self.booted,
                "done": self.done, "boot_s": self.boot_s,
                "init_uptime": self.init_uptime, "wall_s": self.wall_s,
                "error": self.error, "console": str(self.console)}


def qemu_argv(kernel, initrd, results_file, append="", numa=True,
              hostfwd=None):
    if arch(kernel.label) == "arm64":
        # virt has one UART (ttyAMA0, the console); results go to a
        # virtio console, /dev/hvc0 in the guest (ks.reschan).  The raw
        # arm64 Image boots as it is.  pauth-impdef: QEMU's own pointer
        # authentication hash instead of emulating QARMA, which costs
        # TCG a lot on every function return of the kernel
        argv = ["qemu-system-aarch64", "-M", "virt",
                "-accel", os.environ.get("KSCOPE_VM_ACCEL", "tcg,thread=single"),
                "-cpu", "max,pauth-impdef=on", "-m", "1G", "-smp", "2",
                "-display", "none", "-monitor", "none", "-no-reboot",
                "-serial", "stdio",
                "-device", "virtio-serial-pci",
                "-chardev", f"file,id=res,path={results_file}",
                "-device", "virtconsole,chardev=res",
                "-kernel", str(kernel.vmlinuz), "-initrd", str(initrd),
                "-append", append.replace("console=ttyS0,115200",
                                          "console=ttyAMA0")
                + " ks.reschan=/dev/hvc0"]
    else:
        argv = ["qemu-system-x86_64",
            # multi-threaded TCG crashed guests while BPF programs sat
            # on the slab allocator (every attach mode, a few runs in ten
            # under start/stop stress); single-threaded TCG never did
            "-accel", os.environ.get("KSCOPE_VM_ACCEL", "tcg,thread=single"),
            "-cpu", "max", "-m", "1G",
            "-smp", "2,sockets=2,cores=1,threads=1",
            "-display", "none", "-monitor", "none", "-no-reboot",
            # ttyS0: console + progress; ttyS1: results only
            "-serial", "stdio", "-serial", f"file:{results_file}",
            "-kernel", str(boot_image(kernel)), "-initrd", str(initrd),
            "-append", append]
    if hostfwd:
        # fleet boots: a virtio-net NIC on QEMU's user-mode network,
        # host loopback ports forwarded to guest ports; restrict=on: the
        # guest reaches nothing, the forwards still come in
        fwd = ",".join(f"hostfwd=tcp:127.0.0.1:{h}-:{g}"
                       for h, g in hostfwd)
        argv += ["-nic", f"user,model=virtio-net-pci,restrict=on,{fwd}"]
    if numa:
        # one CPU and half the memory per node: CPU 0 is node 0, CPU 1 node 1
        argv += ["-object", "memory-backend-ram,id=m0,size=512M",
                 "-object", "memory-backend-ram,id=m1,size=512M",
                 "-numa", "node,nodeid=0,cpus=0,memdev=m0",
                 "-numa", "node,nodeid=1,cpus=1,memdev=m1"]
    return argv


def decode_results(raw: str, dest: pathlib.Path):
    """Unpack every complete block; returns (paths, done).  A block ends
    at its END line, or, where the serial port lost that one line (seen
    once under TCG, 6.1: the case's rc=0 on the console, its result
    gone), at the next BEGIN or the end of the stream: gzip's length and
    CRC-32 then tell a whole block from a cut one, which is reported in
    decode-errors.txt as before."""
    raw = raw.replace("\r", "")
    got = []
    for m in re.finditer(r"^KSCOPE-RESULT-BEGIN (\S+)\n(.*?)"
                         r"(?:^KSCOPE-RESULT-END \1$|"
                         r"(?=^KSCOPE-RESULT-BEGIN )|\Z)", raw,
                         re.S | re.M):
        try:
            # whole first (length and CRC checked), so that a cut block
            # leaves no half of its files behind
            data = gzip.decompress(base64.b64decode(m.group(2)))
            with tarfile.open(fileobj=io.BytesIO(data), mode="r:") as tf:
                tf.extractall(dest, filter="data") \
                    if hasattr(tarfile, "data_filter") else tf.extractall(dest)
            got.append(m.group(1))
        except Exception as e:  # a garbled block must not hide the others
            (dest / "decode-errors.txt").open("a").write(
                f"{m.group(1)}: {e}\n")
    return got, re.search(rf"^{DONE_MARK}$", raw, re.M) is not None


def boot(kernel: Kernel, initrd: pathlib.Path, vmdir: pathlib.Path, *,
         numa=True, append_extra="", only=(), timeout=None,
         boot_timeout=None, case_timeout=None, hostfwd=None) -> VMRun:
    timeout = timeout or env_int("KSCOPE_VM_TIMEOUT", 1200)
    boot_timeout = boot_timeout or env_int("KSCOPE_VM_BOOT_TIMEOUT", 120)
    case_timeout = case_timeout or env_int("KSCOPE_VM_CASE_TIMEOUT", 180)
    # extra kernel arguments: debugging (loglevel=8, ...) and the by-hand
    # check that a VM that cannot boot fails the tier
    append_extra = f"{append_extra} {os.environ.get('KSCOPE_VM_APPEND', '')}"
    if vmdir.exists():
        shutil.rmtree(vmdir)
    vmdir.mkdir(parents=True)
    resfile = vmdir / "results.b64"
    append = (f"console=ttyS0,115200 panic=-1 mitigations=off "
              f"ks.env=vm-{kernel.label} ks.case_timeout={case_timeout}")
    if kernel.label.endswith("-rt"):
        # PREEMPT_RT threads every IRQ handler; under TCG the results
        # port's (ttyS1, IRQ 3) thread ran late so often that the
        # spurious-IRQ detector called it unhandled and disabled IRQ 3
        # ("irq 3: nobody cared", a call trace in the log, after ~350 s)
        append += " noirqdebug"
    if only:
        append += " ks.only=" + ",".join(only)
    append = f"{append} {append_extra}".strip()
    argv = qemu_argv(kernel, initrd, resfile, append, numa, hostfwd)
    run = VMRun(kernel.label, kernel, vmdir, vmdir / "console.log",
                vmdir / "results", argv)
    (vmdir / "qemu-cmdline.txt").write_text(" ".join(argv) + "\n")

    start = time.monotonic()
    try:
        p = subprocess.Popen(argv, stdin=subprocess.DEVNULL,
                             stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    except OSError as e:
        raise VMError(f"cannot start QEMU: {e}")

    def reader():
        # copy the console to the log as it comes (a hung VM's log is then
        # complete up to the hang) and timestamp /init's first line
        with open(run.console, "wb") as log:
            for line in p.stdout:
                log.write(line)
                log.flush()
                if not run.booted and line.startswith(INIT_MARK):
                    run.booted = True
                    run.boot_s = round(time.monotonic() - start, 2)
                    m = re.search(rb"uptime=([0-9.]+)", line)
                    if m:
                        run.init_uptime = float(m.group(1))
    t = threading.Thread(target=reader, daemon=True)
    t.start()

    while p.poll() is None:
        now = time.monotonic() - start
        if not run.booted and now > boot_timeout:
            run.error = (f"VM {kernel.label} did not reach /init within "
                         f"{boot_timeout}s (KSCOPE_VM_BOOT_TIMEOUT)")
            break
        if now > timeout:
            run.error = (f"VM {kernel.label} still running after {timeout}s "
                         "(KSCOPE_VM_TIMEOUT): a case hung or the tier "
                         "outgrew the timeout")
            break
        time.sleep(0.2)
    if p.poll() is None:
        p.kill()
    run.returncode = p.wait()
    t.join(5)
    run.wall_s = round(time.monotonic() - start, 2)

    run.results.mkdir(exist_ok=True)
    try:
        raw = resfile.read_text(errors="replace")
    except OSError:
        raw = ""
    run.reported, run.done = decode_results(raw, run.results)
    hung = run.running_case()
    if run.error and hung:
        run.error += f"; it was running {hung}"
    if run.error is None and not run.booted:
        run.error = (f"VM {kernel.label} exited (QEMU status "
                     f"{run.returncode}) before /init ran: kernel did not boot")
    elif run.error is None and not run.done:
        run.error = (f"VM {kernel.label} stopped (QEMU status "
                     f"{run.returncode}) without the {DONE_MARK} marker: "
                     "the guest crashed, panicked or powered off early")
    return run


class WorkdirLock:
    """Serialise VM tier runs that share a workdir: two runs would rebuild
    the initramfs and wipe each other's results mid-boot."""

    def __init__(self, base: pathlib.Path, log=print):
        self.path = base / ".lock"
        self.log = log
        self.f = None

    def __enter__(self):
        import fcntl
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self.f = open(self.path, "w")
        try:
            fcntl.flock(self.f, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            self.log(f"vmrun: another VM tier run holds {self.path}; waiting")
            fcntl.flock(self.f, fcntl.LOCK_EX)
        return self

    def __exit__(self, *exc):
        self.f.close()


def run_kernels(kernels: dict, initrd, base: pathlib.Path, **kw):
    """Boot every kernel at once: each VM is mostly one busy vCPU, so two
    VMs keep both host cores busy and the tier takes the longest VM's
    time, not the sum."""
    runs, errs = {}, {}
    if not isinstance(initrd, dict):
        initrd = {label: initrd for label in kernels}

    def one(label):
        try:
            kwl = dict(kw)
            if "cases" in kwl:
                # ks.only: this kernel's share (cases_for)
                kwl["only"] = [c.name for c in kwl.pop("cases")[label]]
            runs[label] = boot(kernels[label], initrd[label], base / label,
                               **kwl)
        except Exception as e:
            errs[label] = e
    ts = [threading.Thread(target=one, args=(k,)) for k in kernels]
    for t in ts:
        t.start()
    for t in ts:
        t.join()
    if errs:
        raise VMError("; ".join(f"{k}: {e}" for k, e in errs.items()))
    return runs


def result(run: VMRun, rel: str):
    """(rc, run dir) for one case run, rc None if the guest never sent it."""
    d = run.results / rel
    try:
        return int((d / "rc").read_text().strip()), d
    except (OSError, ValueError):
        return None, d


# --- command line --------------------------------------------------------------

def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("-k", "--kernel", action="append", choices=KERNELS,
                    help="kernel label (repeatable; default: all)")
    ap.add_argument("--no-numa", action="store_true",
                    help="one-node VM (numa cases then skip)")
    ap.add_argument("--append", default="",
                    help="extra kernel command line")
    ap.add_argument("--initrd", help="use this initramfs instead of building")
    ap.add_argument("--only", default="",
                    help="comma-separated case names to run")
    ap.add_argument("--timeout", type=int, help="per-VM timeout, seconds")
    a = ap.parse_args(argv)

    labels = a.kernel or selected_labels()
    base = workdir()
    t0 = time.monotonic()
    with WorkdirLock(base):
        ensure_host_tools()
        kernels = fetch_kernels(labels)
        if a.initrd:
            initrd = pathlib.Path(a.initrd)
        else:
            initrd = build_initramfses(labels, base)
        only = [o for o in a.only.split(",") if o] or selected_only()
        kw = {"only": only} if only else {"cases": {
            k: cases_for(k, discover_cases()) for k in labels}}
        runs = run_kernels(kernels, initrd, base, numa=not a.no_numa,
                           append_extra=a.append, timeout=a.timeout, **kw)
    bad = 0
    for label, run in runs.items():
        print(f"== {label}: {run.kernel.package} {run.kernel.version}: "
              f"booted={run.booted} boot_s={run.boot_s} "
              f"init_uptime={run.init_uptime} wall_s={run.wall_s} "
              f"done={run.done}")
        if run.error:
            bad += 1
            print(f"   ERROR: {run.error}\n   --- console tail ---")
            print("   " + run.tail().replace("\n", "\n   "))
        for rel in run.reported:
            rc, d = result(run, rel)
            if rc is None:
                continue
            secs = (d / "secs").read_text().strip() if (d / "secs").exists() else "?"
            note = ""
            if rc == 77:
                note = " skip: " + (d / "out" / "skip").read_text(
                    errors="replace").strip() if (d / "out" / "skip").exists() else ""
            elif rc != 0:
                bad += 1
            print(f"   {rel}: rc={rc} {secs}s{note}")
    print(f"tier wall time {time.monotonic() - t0:.1f}s")
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
