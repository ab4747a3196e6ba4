# SPDX-License-Identifier: GPL-2.0
"""Least privilege (docs/hardening.md): once attached, a running kscope
holds only the capabilities its later work needs, and no_new_privs is set.
The kernel's own account of the running process (/proc/PID/status CapEff,
CapPrm, CapInh, CapAmb, CapBnd, NoNewPrivs) is the ground truth; what
each tool should keep is written here from what it does after attaching,
not read from kscope."""
import ctypes
import json
import os
import pathlib
import shutil
import re
import subprocess
import time
import urllib.request

import pytest

from test_cli import KSCOPE, TOOLS, features, needs_root, wait_tracing
from export_lib import Exporter

CAP_DAC_OVERRIDE = 1
CAP_DAC_READ_SEARCH = 2
CAP_SYS_PTRACE = 19
CAP_SYS_ADMIN = 21
CAP_PERFMON = 38
CAP_BPF = 39


def status(pid):
    s = {}
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            k, _, v = line.partition(":")
            s[k] = v.strip()
    return s


def caps(pid):
    s = status(pid)
    return {k: int(s[k], 16) for k in ("CapInh", "CapPrm", "CapEff",
                                       "CapBnd", "CapAmb")} | \
        {"NoNewPrivs": int(s["NoNewPrivs"])}


def bits(*caps_):
    return sum(1 << c for c in caps_)


def names(mask):
    return sorted(c for c in range(64) if mask >> c & 1)


def runnable(tool):
    f = features()[tool]
    if not any(m["available"] for m in f["modes"].values()):
        pytest.skip(f"{tool} cannot run on this kernel")


def check(pid, want):
    """pid holds exactly `want` (of what this test's process may hold)."""
    mine = caps("self")["CapPrm"]
    want &= mine
    c = caps(pid)
    assert names(c["CapEff"]) == names(want), c
    assert names(c["CapPrm"]) == names(want), c
    assert c["CapInh"] == 0 and c["CapAmb"] == 0, c
    # the bounding set lost the rest (kscope held CAP_SETPCAP)
    assert names(c["CapBnd"] & mine) == names(want), c
    assert c["NoNewPrivs"] == 1, c


def run_and_check(args, want, said):
    p = subprocess.Popen([KSCOPE, *args], stdout=subprocess.DEVNULL,
                         stderr=subprocess.PIPE)
    try:
        err = wait_tracing(p, time.time() + 90)
        check(p.pid, want)
        # -v says what went and what stayed
        m = re.search(r"capabilities kept: (\S+); dropped: (\S+); "
                      r"no_new_privs set", err)
        assert m, err[-2000:]
        kept = set() if m.group(1) == "none" else set(m.group(1).split(","))
        assert kept == said, kept
        assert "cap_sys_admin" in m.group(2).split(",") or \
            "cap_sys_admin" in kept
    finally:
        p.kill()
        p.wait()


@needs_root
@pytest.mark.parametrize("tool", TOOLS)
def test_tool_drops_capabilities(tool):
    """Every tool, kernel-wide: nothing kept (maps are read through the
    fds kscope holds; /proc/kallsyms was opened before the drop)."""
    runnable(tool)
    run_and_check([tool, "-j", "-v", "-d", "60"], 0, set())


@needs_root
def test_tool_still_names_kernel_symbols():
    """CAP_SYSLOG is gone, yet kernel stacks are named: the kallsyms file
    opened before the drop shows addresses."""
    runnable("kmem")
    # an idle machine may allocate nothing in a second: this test's own
    # workload (forks, execs and opens: kmallocs on every pass) makes sure
    busy = subprocess.Popen(
        ["sh", "-c", "while :; do cat /proc/self/stat >/dev/null; done"])
    try:
        out = subprocess.run([KSCOPE, "kmem", "-s", "-j", "-d", "2"],
                             capture_output=True, text=True, timeout=120)
    finally:
        busy.kill()
        busy.wait()
    assert out.returncode == 0, out.stderr
    rep = json.loads(out.stdout.splitlines()[-1])
    frames = [f for e in rep["entries"] for f in e["stack"]]
    assert frames, rep
    assert not [f for f in frames if f.startswith("0x")], frames[:5]


@needs_root
def test_memleak_pid_keeps_what_reading_the_target_needs():
    """memleak -p PID reads /proc/PID/maps and the target's files at each
    report: CAP_SYS_PTRACE and CAP_DAC_READ_SEARCH stay, nothing else."""
    runnable("memleak")
    target = subprocess.Popen(["sleep", "60"])
    try:
        run_and_check(["memleak", "-j", "-v", "-p", str(target.pid)],
                      bits(CAP_SYS_PTRACE, CAP_DAC_READ_SEARCH),
                      {"cap_sys_ptrace", "cap_dac_read_search"})
    finally:
        target.kill()
        target.wait()


@needs_root
def test_memleak_command_keeps_what_reading_the_target_needs():
    runnable("memleak")
    run_and_check(["memleak", "-j", "-v", "--", "sleep", "60"],
                  bits(CAP_SYS_PTRACE, CAP_DAC_READ_SEARCH),
                  {"cap_sys_ptrace", "cap_dac_read_search"})


@needs_root
def test_report_drops_capabilities():
    p = subprocess.Popen([KSCOPE, "report", "-v", "-j", "-d", "60"],
                         stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    try:
        err = wait_tracing(p, time.time() + 180)
        assert "capabilities kept: none" in err, err[-2000:]
        check(p.pid, 0)
    finally:
        p.kill()
        p.wait()


@needs_root
def test_report_chains_without_sys_admin():
    """report's chains (src/lib/chain.c) need no more than loading does:
    run without CAP_SYS_ADMIN (capsh drops it from the bounding set),
    kscope still holds one link per tracepoint its tools share (its
    fdinfo names each raw tracepoint link's tracepoint).  A build that
    opened the prog arrays by id chained nothing there: 2 or 3 links on
    each."""
    if not shutil.which("capsh"):
        pytest.skip("capsh not installed (libcap2-bin)")
    modes = {t: f["modes"] for t, f in features().items()}
    if not all(modes[t]["tp_btf"]["available"]
               for t in ("kmem", "slabratetop", "memleak", "kpages")):
        pytest.skip("the allocation tools do not all have tp_btf here")
    p = subprocess.Popen(["capsh", "--drop=cap_sys_admin", "--",
                          "-c", f"exec {KSCOPE} report -j -d 60"],
                         stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    try:
        wait_tracing(p, time.time() + 180)
        assert not caps(p.pid)["CapBnd"] & bits(CAP_SYS_ADMIN), \
            caps(p.pid)
        links = []
        for f in pathlib.Path(f"/proc/{p.pid}/fdinfo").iterdir():
            try:
                text = f.read_text()
            except OSError:
                continue
            links += re.findall(r"^tp_name:\s*(\S+)", text, re.M)
        for tp in ("kmalloc", "kmem_cache_alloc", "mm_page_alloc"):
            assert links.count(tp) == 1, (tp, sorted(links))
    finally:
        p.kill()
        p.wait()


@needs_root
def test_export_keeps_only_what_loading_takes():
    """kscope export starts profile runs on request: it keeps CAP_BPF and
    CAP_PERFMON, and such a run still works after the drop."""
    ex = Exporter("--tools", "kmem,slabratetop")
    try:
        check(ex.p.pid, bits(CAP_BPF, CAP_PERFMON))
        with urllib.request.urlopen(ex.url("/debug/pprof/kmem?seconds=1"),
                                    timeout=120) as r:
            assert r.status == 200
            body = r.read()
        assert body[:2] == b"\x1f\x8b", body[:100]     # a gzipped profile
        check(ex.p.pid, bits(CAP_BPF, CAP_PERFMON))
    finally:
        ex.stop()


def inotify_opens(path):
    """an inotify fd that sees every open of path (the kernel's word)"""
    libc = ctypes.CDLL(None, use_errno=True)
    fd = libc.inotify_init1(os.O_NONBLOCK | os.O_CLOEXEC)
    assert fd >= 0
    assert libc.inotify_add_watch(fd, str(path).encode(), 0x20) >= 0
    return fd


def opened(fd):
    try:
        return len(os.read(fd, 65536)) > 0
    except BlockingIOError:
        return False


@needs_root
def test_memleak_reads_target_files_inside_its_root(tmp_path):
    """A target in a chroot whose mapped program is replaced by a symlink
    to an absolute path: kscope resolves it inside the target's root (the
    jail's copy, whose symbols name the leaks), and never opens the file
    of that name in kscope's own root (inotify on it sees no open)."""
    runnable("memleak")
    jail = tmp_path / "jail"
    (jail / "bin").mkdir(parents=True)
    leaker = pathlib.Path(KSCOPE).parent / "workloads" / "leaker"
    shutil.copy(leaker, jail / "bin" / "leaker")
    decoy = tmp_path / "decoy"              # outside: another program
    shutil.copy("/bin/true", decoy)
    inside = jail / str(decoy).lstrip("/")  # the same path in the jail
    inside.parent.mkdir(parents=True)
    shutil.copy(leaker, inside)
    watch = inotify_opens(decoy)
    target = subprocess.Popen(["chroot", str(jail), "/bin/leaker", "-w",
                               "/go", "/truth.json"])
    try:
        p = subprocess.Popen([KSCOPE, "memleak", "-j", "-p",
                              str(target.pid)], stdout=subprocess.PIPE,
                             stderr=subprocess.PIPE, text=True)
        wait_tracing(p, time.time() + 90)
        # the jail's program file becomes a symlink out of the jail
        (jail / "bin" / "leaker").unlink()
        os.symlink(str(decoy), jail / "bin" / "leaker")
        (jail / "go").touch()
        out, err = p.communicate(timeout=120)
    finally:
        target.kill()
        target.wait()
    assert p.returncode == 0, err
    assert not opened(watch), "kscope opened a file outside the target's root"
    os.close(watch)
    truth = json.loads((jail / "truth.json").read_text())
    rep = json.loads(out.splitlines()[-1])
    frames = {f for e in rep["entries"] for f in e["stack"]}
    named = {lk["func"] for lk in truth["leaks"]
             if any(f.startswith(lk["func"]) for f in frames)}
    assert "leak_malloc" in named, sorted(frames)[:20]


@needs_root
def test_memleak_probes_the_file_a_container_maps(tmp_path):
    """A target in its own mount namespace (a container's situation) whose
    libc.so.6 is another file than ours at the same path (a copy
    bind-mounted over it there): /proc/PID/maps names the path, and kscope
    must probe the file the target mapped, not ours of that name, where no
    call of the target would ever be seen (the old build: an empty report,
    exit 0).  Ground truth: the leaker's own account of each leak."""
    runnable("memleak")
    leaker = pathlib.Path(KSCOPE).parent / "workloads" / "dyn_leaker"
    ldd = subprocess.run(["ldd", str(leaker)], capture_output=True,
                         text=True, check=True).stdout
    libc = next(l.split("=>")[1].split()[0] for l in ldd.splitlines()
                if "libc.so" in l)
    libc = os.path.realpath(libc)
    copy = tmp_path / "libc.so.6"
    shutil.copy(libc, copy)
    go, truth_file = tmp_path / "go", tmp_path / "truth.json"
    target = subprocess.Popen(
        ["unshare", "-m", "--propagation", "private", "sh", "-c",
         f"mount --bind {copy} {libc} && exec {leaker} -w {go} {truth_file}"])
    try:
        pid = None
        deadline = time.time() + 30
        while time.time() < deadline and pid is None:
            try:
                # unshare and sh exec the leaker in the same process
                if os.readlink(f"/proc/{target.pid}/exe") == \
                        os.path.realpath(leaker) and "libc.so" in \
                        pathlib.Path(f"/proc/{target.pid}/maps").read_text():
                    pid = target.pid
            except OSError:
                pass
            time.sleep(0.05)
        assert pid, "the target did not start"
        st = os.stat(copy)
        maps = pathlib.Path(f"/proc/{pid}/maps").read_text()
        assert f" {st.st_ino} " in maps, "the target does not map the copy"
        p = subprocess.Popen([KSCOPE, "memleak", "-j", "-p", str(pid)],
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                             text=True)
        wait_tracing(p, time.time() + 90)
        go.touch()
        out, err = p.communicate(timeout=120)
    finally:
        target.kill()
        target.wait()
    assert p.returncode == 0, err
    truth = json.loads(truth_file.read_text())
    rep = json.loads(out.splitlines()[-1])
    assert rep["object"] == libc, rep["object"]
    for lk in truth["leaks"]:
        got = sum(e["bytes"] for e in rep["entries"]
                  if any(f.startswith(lk["func"] + "+") for f in e["stack"]))
        assert got == lk["bytes"], (lk, got, rep["total_bytes"])


@needs_root
def test_pprof_keeps_what_writing_beside_the_file_takes(tmp_path):
    """--pprof FILE writes each profile beside FILE and renames it: in a
    directory root does not own (sudo kscope ... --pprof ~/p.pb.gz), that
    takes CAP_DAC_OVERRIDE, kept; the profile is there at the end."""
    runnable("kmem")
    d = tmp_path / "user"
    d.mkdir()
    os.chown(d, 65534, 65534)
    d.chmod(0o755)
    prof = d / "p.pb.gz"
    run_and_check(["kmem", "-s", "-j", "-v", "-d", "60", "--pprof",
                   str(prof)], bits(CAP_DAC_OVERRIDE), {"cap_dac_override"})
    out = subprocess.run([KSCOPE, "kmem", "-s", "-j", "-d", "1", "--pprof",
                          str(prof)], capture_output=True, text=True,
                         timeout=120)
    assert out.returncode == 0 and "cannot write" not in out.stderr, \
        out.stderr
    assert prof.read_bytes()[:2] == b"\x1f\x8b"
