# SPDX-License-Identifier: GPL-2.0
"""Bad input: exit status 2 (usage) or 1 (runtime) and ONE line on stderr
naming the problem; never a crash, a libbpf dump or a silent empty run.
Also the help/usage contract and a clean exit on SIGINT/SIGTERM."""
import json
import os
import pathlib
import re
import select
import shlex
import shutil
import signal
import subprocess
import sys
import tempfile
import time

import pytest

ROOT = pathlib.Path(__file__).resolve().parent.parent
KSCOPE = str(ROOT / "build" / "kscope")
sys.path.insert(0, str(ROOT / "tests" / "cases"))
import _schema  # noqa: E402

needs_root = pytest.mark.skipif(os.geteuid() != 0, reason="needs root (BPF)")


def run(*args, timeout=30):
    return subprocess.run([KSCOPE, *args], capture_output=True, text=True,
                          timeout=timeout)


def no_such_pid():
    pid = 4000000
    while os.path.exists(f"/proc/{pid}"):
        pid += 1
    return str(pid)


BAD = [
    (["nosuchtool"], 2, "unknown command 'nosuchtool'"),
    (["kmem", "-d", "abc"], 2, "bad duration 'abc'"),
    (["kmem", "-d", "-5"], 2, "bad duration '-5'"),
    (["kmem", "-d", "0"], 2, "bad duration '0'"),
    (["kmem", "x"], 2, "bad interval 'x'"),
    (["kmem", "1", "0"], 2, "bad count '0'"),
    (["kmem", "1", "2", "3"], 2, "unexpected argument '3'"),
    (["kmem", "-p", "12ab"], 2, "bad PID '12ab'"),
    (["kmem", "-p", None], 1, "no such process"),
    (["kmem", "-t", None], 1, "no such thread"),
    (["kmem", "--cgroup", "/sys/fs/cgroup/no/such/group"], 1,
     "cgroup /sys/fs/cgroup/no/such/group"),
    (["kmem", "--cgroup", "/tmp"], 1, "not a cgroup v2 directory"),
    (["kmem", "-c", "a-name-longer-than-15"], 2, "longer than"),
    (["kmem", "--stack-depth", "1000"], 2, "bad stack depth '1000'"),
    (["kmem", "--stack-depth", "0"], 2, "bad stack depth '0'"),
    (["kmem", "-m", "warp"], 2, "unknown mode 'warp'"),
    (["kmem", "--max-entries", "1"], 2, "bad --max-entries '1'"),
    (["kmem", "--frobnicate"], 2, "unknown option '--frobnicate'"),
    (["kmem", "-Zj"], 2, "unknown option '-Z'"),
    (["kmem", "-p"], 2, "needs a value"),
    # tools without stacks have no -s/--stacks (slabratetop's -s sorts)
    (["numamove", "-s"], 2, "unknown option '-s'"),
    (["workq", "--stacks"], 2, "unknown option '--stacks'"),
    (["workq", "--stack-depth", "4"], 2, "unknown option '--stack-depth'"),
    (["slabratetop", "--stacks"], 2, "unknown option '--stacks'"),
    (["memleak", "-s"], 2, "unknown option '-s'"),
    # 1e9 minutes is 6e19 ns, past 64 bits (found by fuzz_args)
    (["memleak", "-o", "1000000000m"], 2, "bad age '1000000000m'"),
    (["memleak", "-o", "nan"], 2, "bad age 'nan'"),
    (["report", "-d", "-1"], 2, "bad duration '-1'"),
    (["features", "--bogus"], 2, "unknown option '--bogus'"),
    (["help", "nosuchtool"], 2, "unknown command 'nosuchtool'"),
    # stack outputs: only for tools with stacks, one stdout format
    (["kmem", "--folded", "-j"], 2, "choose one"),
    (["kmem", "--weight", "count"], 2, "--weight is for --folded"),
    (["kmem", "--folded", "--weight", "bytes"], 2, "bad --weight 'bytes'"),
    (["numamove", "--folded"], 2, "unknown option '--folded'"),
    (["workq", "--pprof", "x.pb.gz"], 2, "unknown option '--pprof'"),
    (["kmem", "--pprof", ""], 2, "--pprof needs a file name"),
    (["kmem", "--pprof"], 2, "needs a value"),
    (["kmem", "--pprof", "/no/such/dir/k.pb.gz"], 1,
     "--pprof /no/such/dir/k.pb.gz: cannot write in /no/such/dir/"),
    (["kmem", "--pprof", "/tmp"], 1, "--pprof /tmp: a directory"),
    (["slabratetop", "--weight", "count"], 2, "unknown option '--weight'"),
    (["flamegraph", "--unit", "furlongs"], 2, "bad --unit 'furlongs'"),
    (["flamegraph", "--width", "5"], 2, "bad --width '5'"),
    (["flamegraph", "--bogus"], 2, "unknown option '--bogus'"),
    (["flamegraph", "a", "b"], 2, "unexpected argument 'b'"),
    (["flamegraph", "/no/such/file"], 1, "/no/such/file"),
]


@pytest.mark.parametrize("args,code,msg", BAD,
                         ids=[" ".join(a if a else "PID" for a in b[0])
                              for b in BAD])
def test_bad_input(args, code, msg):
    args = [a if a is not None else no_such_pid() for a in args]
    p = run(*args)
    assert p.returncode == code, (p.returncode, p.stderr)
    lines = p.stderr.strip().splitlines()
    assert len(lines) == 1, f"expected one stderr line, got:\n{p.stderr}"
    assert msg in lines[0], lines[0]
    assert lines[0].startswith("kscope")
    assert p.stdout == ""


@needs_root
def test_unavailable_mode_is_one_line():
    tried = 0
    for tool, f in features().items():
        for mode, m in f["modes"].items():
            if m["supported"] and not m["available"]:
                p = run(tool, "-m", mode, "-d", "1")
                assert p.returncode == 1, (tool, mode, p.stderr)
                lines = p.stderr.strip().splitlines()
                assert len(lines) == 1, (tool, mode, p.stderr)
                assert "unavailable" in lines[0] or "cannot" in lines[0], \
                    (tool, mode, lines[0])
                tried += 1
    if not tried:
        pytest.skip("every supported mode is available on this kernel")


def test_help_and_usage():
    p = run("-h")
    assert p.returncode == 0 and "Commands:" in p.stdout
    # each command's headline is its summary up to the first ": ", "; "
    # or ". ", never cut inside parentheses ("(kmem:mm_page_alloc)")
    heads = dict(l.split(None, 1) for l in p.stdout.splitlines()
                 if l.startswith("  ") and len(l.split(None, 1)) == 2)
    assert heads["kpages"] == "Page allocations (kmem:mm_page_alloc)", heads
    assert heads["kmem"] == ("Kernel memory allocations (kmalloc, "
                             "kmem_cache_alloc)"), heads
    for tool, head in heads.items():
        assert head.count("(") == head.count(")"), (tool, head)
    for tool in ("kmem", "kpages"):
        h = run("help", tool)
        assert h.returncode == 0
        assert h.stdout == run(tool, "-h").stdout
        assert "Examples:" in h.stdout and "--cgroup" in h.stdout
    p = subprocess.run([KSCOPE], capture_output=True, text=True)
    assert p.returncode == 2 and "Usage:" in p.stderr


def test_man_pages(tmp_path):
    """make man: kscope.8 and a page per command (help aside), which groff
    renders without a warning, whose NAME is the command table's line and
    which carry every option of the command's -h."""
    man = tmp_path / "man"
    p = subprocess.run(["make", "-s", "man", f"MAN_DIR={man}"], cwd=ROOT,
                       capture_output=True, text=True)
    assert p.returncode == 0, p.stderr
    heads = dict(l.split(None, 1) for l in run("-h").stdout.split(
        "Commands:\n", 1)[1].split("\n\n", 1)[0].splitlines())
    pages = {f.name for f in man.iterdir()}
    assert pages == {"kscope.8"} | {f"kscope-{c}.8" for c in heads
                                    if c != "help"}, pages
    for page in sorted(pages):
        cmd = page[len("kscope-"):-2] if page != "kscope.8" else None
        g = subprocess.run(["groff", "-man", "-ww", "-Tutf8", str(man / page)],
                           capture_output=True, text=True)
        assert g.returncode == 0 and g.stderr == "", (page, g.stderr)
        text = subprocess.run(["col", "-bx"], input=g.stdout,
                              capture_output=True, text=True).stdout
        flat = " ".join(text.split())
        if cmd:
            assert f"kscope-{cmd} - {' '.join(heads[cmd].split())}" in flat, \
                (page, flat[:300])
            helptext = run(cmd, "-h").stdout
            opts = re.findall(r"^  (-\w, )?(--[\w-]+)", helptext, re.M)
            assert opts, (cmd, "no options in -h")
            for short, long in opts:
                assert f"{short}{long}" in flat, (page, short, long)
            for sec in ("SYNOPSIS", "DESCRIPTION", "OPTIONS", "SEE ALSO"):
                assert sec in text, (page, sec)
        else:
            for c in heads:
                assert c in flat, (page, c)


@pytest.mark.parametrize("tool,stacks,depth", [
    ("kmem", "instead of call site", True),
    ("mlock", "stack of each wait", True),
    ("mheld", "stack that took the lock", True),
    ("memleak", None, True),
    ("numamove", None, False),
    ("workq", None, False),
    ("slabratetop", None, False),
])
def test_help_stacks_lines(tool, stacks, depth):
    """-h lists -s (with what it does for this tool) and --stack-depth
    exactly for the tools that have them."""
    h = run(tool, "-h").stdout
    s_line = [l for l in h.splitlines() if "--stacks" in l]
    if stacks:
        assert len(s_line) == 1 and stacks in s_line[0], s_line
    else:
        assert not s_line, s_line
    assert ("--stack-depth" in h) == depth, h
    # the stack outputs come with the stacks
    assert ("--folded" in h) == depth, h
    assert ("--weight" in h) == depth, h
    assert ("--pprof" in h) == depth, h


TOOLS = ["kmem", "kpages", "slabratetop", "mlock", "mheld", "spinlock",
         "numamove", "workq", "memleak"]


def features():
    return {f["tool"]: f
            for f in _schema.feature_lines(run("features", "-j").stdout)}


def own_links(pid):
    """The ids of the BPF links process pid holds open (fdinfo link_id)."""
    ids = set()
    fdinfo = pathlib.Path(f"/proc/{pid}/fdinfo")
    for f in fdinfo.iterdir():
        try:
            for line in f.read_text().splitlines():
                if line.startswith("link_id:"):
                    ids.add(int(line.split()[1]))
        except OSError:
            pass
    return ids


def live_links():
    out = subprocess.run(["bpftool", "-j", "link", "show"],
                         capture_output=True, text=True, check=True).stdout
    return {l["id"] for l in json.loads(out or "[]")}


def children(pid):
    kids = set()
    for t in pathlib.Path(f"/proc/{pid}/task").iterdir():
        try:
            kids.update(int(k) for k in (t / "children").read_text().split())
        except OSError:
            pass
    return kids


def wait_tracing(p, deadline):
    err = b""
    # read stderr as it comes, straight from the pipe (a slow start on
    # a loaded machine is a wait, not an error), until the Tracing line
    while b"Tracing" not in err and time.time() < deadline:
        if select.select([p.stderr.fileno()], [], [], 0.2)[0]:
            chunk = os.read(p.stderr.fileno(), 65536)
            if not chunk:
                break       # kscope exited: the assert says why
            err += chunk
    assert b"Tracing" in err, err.decode(errors="replace")
    return err.decode(errors="replace")


@needs_root
@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGTERM,
                                 signal.SIGKILL], ids=lambda s: s.name)
@pytest.mark.parametrize("tool", TOOLS)
def test_signal_final_report_and_detach(tool, sig):
    """No -d and no interval: the run lasts until the signal, then one
    final report (none for SIGKILL), and none of the BPF links kscope
    held is left attached.  memleak runs a command, which must end with
    kscope whatever the signal (SIGKILL: the parent-death signal)."""
    f = features()[tool]
    if not any(m["available"] for m in f["modes"].values()):
        pytest.skip(f"{tool} cannot run on this kernel: " +
                    "; ".join(f"{k}: {m['why']}"
                              for k, m in f["modes"].items()))
    cmd = [KSCOPE, tool, "-j"]
    if tool == "memleak":
        cmd += ["--", "sleep", "1000"]
    p = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    kids = set()
    try:
        wait_tracing(p, time.time() + 60)
        links = own_links(p.pid)
        assert links, "kscope holds no BPF link while tracing"
        assert links <= live_links()
        if tool == "memleak":
            kids = children(p.pid)
            assert kids, "memleak's command is not running"
        p.send_signal(sig)
        if sig == signal.SIGKILL:
            # no report to read; the command may hold the pipes open
            p.wait(timeout=20)
            out = rest = b""
        else:
            out, rest = p.communicate(timeout=60)
    finally:
        # a failed check must not leave a tracer attached for the rest
        # of the run (one stayed for hours once, slowing everything)
        if p.poll() is None:
            p.kill()
            p.wait()
    if sig == signal.SIGKILL:
        assert p.returncode == -signal.SIGKILL
    else:
        assert p.returncode == 0, rest.decode(errors="replace")
        lines = out.decode().splitlines()
        # top-like tools report every second; the last is the final one
        assert lines and _schema.report_lines(out.decode(), f"{tool} -j "
                                              f"ended by {sig.name}")[-1][
            "tool"] == tool
        if tool != "slabratetop":
            assert len(lines) == 1, lines
    # the kernel releases a dead process's links as its files close
    deadline = time.time() + 10
    while links & live_links() and time.time() < deadline:
        time.sleep(0.1)
    assert not links & live_links(), "links left attached after exit"
    for k in kids:
        deadline = time.time() + 10
        while os.path.exists(f"/proc/{k}") and time.time() < deadline:
            # a zombie is gone for our purpose: reaped by init
            try:
                if pathlib.Path(f"/proc/{k}/stat").read_text().split(
                        ")")[1].split()[0] == "Z":
                    break
            except OSError:
                break
            time.sleep(0.1)
        alive = os.path.exists(f"/proc/{k}")
        if alive:
            try:
                state = pathlib.Path(f"/proc/{k}/stat").read_text().split(
                    ")")[1].split()[0]
            except OSError:
                state = "gone"
            if state != "Z":
                os.kill(k, signal.SIGKILL)
                pytest.fail(f"memleak's command {k} still running after "
                            f"kscope got {sig.name}")


# ---- running without root ------------------------------------------------

def as_user(args, caps=(), timeout=60, before=None):
    """kscope as user nobody, with only the capabilities caps (capsh from
    Debian's libcap2-bin), from a copy nobody may execute."""
    exe = pathlib.Path(tempfile.mkdtemp(prefix="ks-user-")) / "kscope"
    shutil.copy(KSCOPE, exe)
    exe.parent.chmod(0o755)
    exe.chmod(0o755)
    keep = ",".join(caps)
    cmd = " ".join(shlex.quote(a) for a in [str(exe), *args])
    argv = ["capsh", "--caps=cap_setuid,cap_setgid,cap_setpcap" +
            ("," + keep if keep else "") + "+eip", "--keep=1",
            "--user=nobody"]
    if keep:
        argv.append("--addamb=" + keep)
    argv += ["--", "-c", f"grep CapEff /proc/self/status >&2; exec {cmd}"]
    try:
        p = subprocess.Popen(argv, stdout=subprocess.PIPE,
                             stderr=subprocess.PIPE, text=True)
        if before:
            before(p)
        out, err = p.communicate(timeout=timeout)
        return subprocess.CompletedProcess(argv, p.returncode, out, err)
    finally:
        shutil.rmtree(exe.parent, ignore_errors=True)


needs_capsh = pytest.mark.skipif(not shutil.which("capsh"),
                                 reason="capsh (libcap2-bin) not installed")


@needs_root
@needs_capsh
def test_unprivileged_features_say_why():
    """Without root or CAP_BPF+CAP_PERFMON every mode is out for that
    reason (raw_tp once said "yes", tracepoint "tracefs is not mounted"),
    and a tool says so in one line."""
    p = as_user(["features", "-j"])
    assert p.returncode == 0, p.stderr
    for f in _schema.feature_lines(p.stdout, "features -j as nobody"):
        for mode, m in f["modes"].items():
            assert not m["available"], (f["tool"], mode, m)
            if m["supported"]:
                assert "needs root, or the capabilities CAP_BPF and " \
                       "CAP_PERFMON" in m["why"], (f["tool"], mode, m)
    p = as_user(["kmem", "-d", "1"])
    assert p.returncode == 1
    lines = [l for l in p.stderr.splitlines() if not l.startswith("CapEff")]
    assert lines == ["kscope kmem: cannot trace: needs root, or the "
                     "capabilities CAP_BPF and CAP_PERFMON (see 'Running "
                     "without root' in the README)"], p.stderr


@needs_root
@needs_capsh
def test_capabilities_instead_of_root():
    """As README's "Running without root" says: CAP_BPF and CAP_PERFMON
    trace (counts exact); without CAP_SYSLOG kallsyms may be hidden and
    kscope says why sites are bare addresses; with it they are named."""
    wl = ROOT / "build" / "workloads" / "opener"

    def opener(_p):
        time.sleep(1.0)   # attached by then on this host (~150 ms)
        subprocess.run([str(wl), "capopen", "3000"], check=True,
                       capture_output=True)

    hidden = subprocess.run(
        ["sh", "-c", "cat /proc/sys/kernel/perf_event_paranoid "
         "/proc/sys/kernel/kptr_restrict"], capture_output=True,
        text=True).stdout.split()
    for caps in (("cap_bpf", "cap_perfmon"),
                 ("cap_bpf", "cap_perfmon", "cap_syslog")):
        p = as_user(["kmem", "-j", "-d", "4", "-c", "capopen"], caps,
                    before=opener)
        assert p.returncode == 0, p.stderr
        eff = int(p.stderr.split("CapEff:")[1].split()[0], 16)
        assert not eff >> 21 & 1, "CAP_SYS_ADMIN leaked in"
        rep = _schema.report_lines(p.stdout, f"kmem -j with {caps}")[-1]
        filp = sum(e["count"] for e in rep["entries"]
                   if e["kind"] == "cache" and e["count"] == 3000)
        assert filp >= 3000, rep["entries"][:4]
        sites = [e["site"] for e in rep["entries"]]
        if "cap_syslog" in caps or (int(hidden[0]) <= 1 and
                                    int(hidden[1]) == 0):
            assert any(s.startswith(("alloc_empty_file", "__alloc_file"))
                       for s in sites), sites
            assert "note" not in rep, rep["note"]
        else:
            assert all(s.startswith("0x") for s in sites), sites
            assert "kernel addresses are hidden" in rep["note"], rep
            assert "kernel addresses are hidden" in p.stderr, p.stderr
