# SPDX-License-Identifier: GPL-2.0
"""Where reports go (-o/--output) and faults around a run (docs/hardening.md):
the output closed or full, the traced process exiting or exec'ing, tracefs
missing, two kscopes at once, limits that make loading fail.  Each ends
with one clear line and nothing of kscope's left attached, or keeps
running correctly."""
import gzip
import html
import json
import os
import pathlib
import signal
import subprocess
import tempfile
import time

import pytest

from test_cli import (KSCOPE, ROOT, TOOLS, features, needs_root, own_links,
                      wait_tracing)
from test_cli import live_links as _live_links
import _schema  # noqa: E402  (tests/cases, on sys.path through test_cli)

WL = ROOT / "build" / "workloads"


def live_links():
    """bpftool fails now and then when a link goes away while it lists
    them (other sessions' tools come and go): try again"""
    for _ in range(10):
        try:
            return _live_links()
        except subprocess.CalledProcessError:
            time.sleep(0.2)
    return _live_links()


def runnable(tool):
    f = features()[tool]
    if not any(m["available"] for m in f["modes"].values()):
        pytest.skip(f"{tool} cannot run on this kernel: " +
                    "; ".join(f"{k}: {m['why']}"
                              for k, m in f["modes"].items()))


def gone(links, timeout=10):
    """links (ids kscope held) are no longer attached anywhere."""
    deadline = time.time() + timeout
    while links & live_links() and time.time() < deadline:
        time.sleep(0.1)
    return not links & live_links()


def start(args, **kw):
    p = subprocess.Popen([KSCOPE, *args], stdout=kw.pop("stdout",
                         subprocess.PIPE), stderr=subprocess.PIPE, **kw)
    try:
        wait_tracing(p, time.time() + 60)
    except BaseException:
        p.kill()
        p.wait()
        raise
    return p


def stop(p):
    if p.poll() is None:
        p.kill()
        p.wait()


# ---- -o/--output -------------------------------------------------------------

@needs_root
def test_output_keeps_the_commands_stdout(tmp_path):
    """kscope memleak -j --output F -- gzip -c FILE > x.gz: gzip's bytes
    are all in x.gz (without --output, JSON mode sends the command's
    stdout to stderr), the report is in F.  memleak's -o is its age
    filter (as bcc's): --output is the long form only there."""
    runnable("memleak")
    data = tmp_path / "data"
    data.write_bytes(os.urandom(1 << 20))
    rep, gz = tmp_path / "rep.json", tmp_path / "x.gz"
    with open(gz, "wb") as out:
        p = subprocess.run([KSCOPE, "memleak", "-j", "--output", str(rep),
                            "-o", "2s", "--", "gzip", "-c", str(data)],
                           stdout=out, stderr=subprocess.PIPE, timeout=120)
    assert p.returncode == 0, p.stderr
    assert gzip.decompress(gz.read_bytes()) == data.read_bytes()
    lines = _schema.report_lines(rep.read_text(), "memleak --output")
    assert len(lines) == 1, lines
    r = lines[0]
    assert r["tool"] == "memleak" and r["exit_status"] == 0, r
    assert r["older_ms"] == 2000, r          # -o stayed memleak's age


@needs_root
@pytest.mark.parametrize("json_mode", [True, False], ids=["json", "text"])
@pytest.mark.parametrize("tool", TOOLS)
def test_output_file_every_tool(tool, json_mode, tmp_path):
    """-o/--output FILE: the reports are in FILE and nothing on stdout; the
    Tracing line is on stderr (where scripts wait for it)."""
    runnable(tool)
    out = tmp_path / "out"
    opt = "--output" if tool == "memleak" else "-o"
    args = [tool, opt, str(out), "-d", "1.5"] + (["-j"] if json_mode else [])
    if tool == "memleak":
        args += ["--", "sh", "-c", "echo from-the-command; sleep 1"]
    p = subprocess.run([KSCOPE, *args], capture_output=True, text=True,
                       timeout=120)
    assert p.returncode == 0, p.stderr
    assert "Tracing" in p.stderr
    assert p.stdout == ("from-the-command\n" if tool == "memleak" else ""), \
        p.stdout
    text = out.read_text()
    if json_mode:
        reps = _schema.report_lines(text, f"{tool} -o FILE -j")
        assert reps and all(r["tool"] == tool for r in reps), text[:300]
    else:
        assert text.strip() and "Tracing" not in text, text[:300]
        assert "\033[" not in text          # no screen clearing in a file


def test_output_unwritable_is_one_line():
    p = subprocess.run([KSCOPE, "kmem", "-o", "/no/such/dir/x", "-d", "1"],
                       capture_output=True, text=True, timeout=30)
    assert p.returncode == 1
    assert p.stderr.splitlines() == [
        "kscope kmem: cannot write /no/such/dir/x: No such file or "
        "directory"], p.stderr


@needs_root
def test_output_full_ends_with_one_line():
    """-o /dev/full: every write fails (ENOSPC); the first interval report
    ends the run with one line, exit 1, nothing left attached."""
    runnable("kmem")
    p = start(["kmem", "-j", "-o", "/dev/full", "0.2"])
    try:
        links = own_links(p.pid)
        assert links
        _, err = p.communicate(timeout=30)
    finally:
        stop(p)
    assert p.returncode == 1, err
    assert [l for l in err.decode().splitlines()
            if "Hit Ctrl-C" not in l] == [
        "kscope kmem: cannot write reports to /dev/full: No space left "
        "on device"], err
    assert gone(links)


# ---- the output pipe closed --------------------------------------------------

@needs_root
@pytest.mark.parametrize("json_mode", [True, False], ids=["json", "text"])
@pytest.mark.parametrize("tool", TOOLS)
def test_pipe_closed(tool, json_mode):
    """kscope TOOL 0.2 | head -1: when the reader is gone kscope ends by
    itself (no SIGPIPE death half-way through a report), exit 0, no
    message, nothing left attached; memleak's command ends with it."""
    runnable(tool)
    args = [tool, "0.2"] + (["-j"] if json_mode else [])
    if tool == "memleak":
        args += ["--", "sleep", "1000"]
    if json_mode:
        p = start(args)
    else:   # the Tracing line is the first on stdout
        p = subprocess.Popen([KSCOPE, *args], stdout=subprocess.PIPE,
                             stderr=subprocess.PIPE)
    try:
        if not json_mode:
            assert p.stdout.readline().startswith(b"Tracing")
        links = own_links(p.pid)
        kids = {int(k) for t in pathlib.Path(f"/proc/{p.pid}/task").iterdir()
                for k in (t / "children").read_text().split()}
        assert links
        assert p.stdout.readline()
        p.stdout.close()
        p.wait(timeout=30)
        err = p.stderr.read().decode()
    finally:
        stop(p)
    assert p.returncode == 0, (p.returncode, err)
    # notes (one NUMA node, a hypervisor's spin locks) are not about this
    # (and the rest of the Tracing line, which wait_tracing may not take)
    assert not [l for l in err.splitlines() if ": note: " not in l and
                "Hit Ctrl-C" not in l], err
    assert gone(links), "links left attached"
    for k in kids:
        deadline = time.time() + 10
        while time.time() < deadline:
            try:
                st = pathlib.Path(f"/proc/{k}/stat").read_text()
            except OSError:
                break
            if st.split(")")[1].split()[0] == "Z":
                break
            time.sleep(0.1)
        else:
            os.kill(k, signal.SIGKILL)
            pytest.fail(f"memleak's command {k} outlived kscope")


@needs_root
def test_pipe_closed_command_keeps_sigpipe(tmp_path):
    """kscope ignores SIGPIPE; the command it runs must not inherit that
    (an ignored signal stays ignored across exec)."""
    runnable("memleak")
    p = subprocess.run([KSCOPE, "memleak", "-j", "--output",
                        str(tmp_path / "r"), "--", "grep", "SigIgn",
                        "/proc/self/status"], capture_output=True, text=True,
                       timeout=60)
    assert p.returncode == 0, p.stderr
    ign = int(p.stdout.split()[1], 16)
    assert not ign >> (signal.SIGPIPE - 1) & 1, p.stdout


@needs_root
def test_report_output_file(tmp_path):
    out = tmp_path / "r.json"
    p = subprocess.run([KSCOPE, "report", "-d", "0.5", "-j", "-o", str(out)],
                       capture_output=True, text=True, timeout=300)
    assert p.returncode == 0, p.stderr
    assert p.stdout == ""
    tools = {r["tool"] for r in
             _schema.report_lines(out.read_text(), "report -j -o FILE")}
    assert "kmem" in tools, tools


def test_flamegraph_output_file(tmp_path):
    out = tmp_path / "f.svg"
    p = subprocess.run([KSCOPE, "flamegraph", "-o", str(out)],
                       input="task;a;b 3\n", capture_output=True, text=True,
                       timeout=30)
    assert p.returncode == 0, p.stderr
    assert p.stdout == ""
    assert out.read_text().startswith("<?xml") and ">b<" not in p.stdout


# ---- faults around a run -----------------------------------------------------

def filp_count(rep):
    """struct file allocations kmem counted (the opener workload: one per
    open), as test_cli's capability test finds them"""
    return sum(e["count"] for e in rep["entries"]
               if e["site"].startswith(("alloc_empty_file", "__alloc_file")))


def opener(comm, n):
    t = subprocess.run([str(WL / "opener"), comm, str(n)], check=True,
                       capture_output=True, text=True).stdout
    return json.loads(t)


@needs_root
def test_two_instances_at_once():
    """Two kmem instances trace the same task at once: each counts every
    one of the workload's opens (its own ground truth), each detaches only
    its own links, the other keeps running."""
    runnable("kmem")
    a = start(["kmem", "-j", "-c", "ks2inst"])
    b = start(["kmem", "-j", "-c", "ks2inst"])
    try:
        la, lb = own_links(a.pid), own_links(b.pid)
        assert la and lb and not la & lb
        truth = opener("ks2inst", 3000)
        a.send_signal(signal.SIGINT)
        out_a, _ = a.communicate(timeout=60)
        assert a.returncode == 0
        assert gone(la)
        assert lb <= live_links(), "the other instance lost its links"
        truth2 = opener("ks2inst", 2000)
        b.send_signal(signal.SIGINT)
        out_b, _ = b.communicate(timeout=60)
        assert b.returncode == 0
        assert gone(lb)
    finally:
        stop(a)
        stop(b)
    assert filp_count(json.loads(out_a)) == truth["opens"], out_a[:300]
    assert filp_count(json.loads(out_b)) == \
        truth["opens"] + truth2["opens"], out_b[:300]


def tracing_mounts():
    return [l.split()[1] for l in open("/proc/self/mounts")
            if l.split()[2] == "tracefs"]


@needs_root
def test_tracefs_unmounted():
    """tracefs not mounted (unmounted in a private mount namespace):
    tracepoint mode mounts it itself and counts exactly."""
    runnable("kmem")
    if not features()["kmem"]["modes"]["tracepoint"]["available"]:
        pytest.skip("kmem's tracepoint mode is unavailable here")
    if not tracing_mounts():
        pytest.skip("tracefs is not mounted here to begin with")
    umounts = "; ".join(f"umount {m}" for m in reversed(tracing_mounts()))
    script = (f"{umounts}; grep -c tracefs /proc/self/mounts; "
              f"{KSCOPE} kmem -m tracepoint -j -c kstracefs -d 3 & "
              f"sleep 1.5; {WL / 'opener'} kstracefs 2500 >&2; wait $!")
    p = subprocess.run(["unshare", "-m", "--propagation", "private", "sh",
                        "-c", script], capture_output=True, text=True,
                       timeout=120)
    assert p.returncode == 0, p.stderr
    lines = p.stdout.splitlines()
    assert lines[0] == "0", "tracefs still mounted in the namespace"
    rep = json.loads(lines[-1])
    assert rep["mode"] == "tracepoint"
    truth = json.loads([l for l in p.stderr.splitlines()
                        if l.startswith("{")][0])
    assert filp_count(rep) == truth["opens"], rep["entries"][:3]
    assert tracing_mounts(), "the host lost its tracefs mount"


def memory_cgroup():
    """a fresh memory cgroup directory (v2 if it has the controller, else
    v1), or None"""
    v2 = pathlib.Path("/sys/fs/cgroup")
    for base, limit in ((v2, "memory.max"),
                        (v2 / "unified", "memory.max"),
                        (v2 / "memory", "memory.limit_in_bytes")):
        try:
            d = pathlib.Path(tempfile.mkdtemp(prefix="ks-faults-", dir=base))
        except OSError:
            continue
        if (d / limit).exists():
            return d, limit
        d.rmdir()
    return None


@needs_root
def test_map_creation_fails_enomem():
    """BPF maps are charged to the memory cgroup (since 5.11, so on every
    kernel we run): a tool whose maps do not fit its cgroup's limit says
    so in one line and exits 1."""
    runnable("kmem")
    cg = memory_cgroup()
    if not cg:
        pytest.skip("no memory cgroup controller to limit kscope with")
    d, limit = cg
    try:
        (d / limit).write_text("30M")
        p = subprocess.run(
            ["sh", "-c", f"echo $$ > {d}/cgroup.procs; exec {KSCOPE} kmem "
             "-j -s -d 1 --max-entries 16000000"],
            capture_output=True, text=True, timeout=120)
    finally:
        for _ in range(50):
            try:
                d.rmdir()
                break
            except OSError:
                time.sleep(0.1)
    assert p.returncode == 1, p.stderr
    lines = p.stderr.splitlines()
    assert len(lines) == 1, p.stderr
    assert lines[0].startswith("kscope kmem: cannot load BPF programs")
    assert "Cannot allocate memory" in lines[0]
    assert "--max-entries" in lines[0]
    assert p.stdout == ""


@needs_root
def test_memlock_rlimit_does_not_matter():
    """RLIMIT_MEMLOCK 0: kernels since 5.11 charge BPF memory to the
    memory cgroup instead, and libbpf then leaves the limit alone: kscope
    runs and counts exactly."""
    runnable("kmem")
    p = subprocess.Popen(["prlimit", "--memlock=0", KSCOPE, "kmem", "-j",
                          "-c", "ksmemlock"], stdout=subprocess.PIPE,
                         stderr=subprocess.PIPE)
    try:
        wait_tracing(p, time.time() + 60)
        truth = opener("ksmemlock", 1500)
        p.send_signal(signal.SIGINT)
        out, err = p.communicate(timeout=60)
    finally:
        stop(p)
    assert p.returncode == 0, err
    assert filp_count(json.loads(out)) == truth["opens"]


@needs_root
def test_attach_fails_half_way():
    """RLIMIT_NOFILE so low that some of memleak's programs attach and the
    next one cannot have its link's fd: one line naming the program and
    the reason, exit 1, nothing attached (the earlier links are closed)."""
    runnable("memleak")
    half = []
    for n in range(12, 80):
        before = live_links()
        p = subprocess.run(["prlimit", f"--nofile={n}", KSCOPE, "memleak",
                            "-j", "-d", "0.3"], capture_output=True,
                           text=True, timeout=60)
        if p.returncode == 0:
            break
        assert p.returncode == 1, p.stderr
        lines = p.stderr.splitlines()
        assert len(lines) == 1, p.stderr
        assert "Too many open files" in lines[0] or \
            "Invalid argument" in lines[0], lines[0]
        if "cannot attach" in lines[0]:
            half.append(lines[0])
        assert live_links() <= before | live_links()
    else:
        pytest.fail("memleak never ran with up to 79 fds")
    assert len(half) >= 2, "no limit made attaching fail half-way"
    # a later program each time: the ones before it had attached
    assert len(set(half)) >= 2, half


@needs_root
def test_report_tools_fail_while_loading(tmp_path):
    """kscope report loads its tools in threads (ks_run_start_all()):
    with RLIMIT_NOFILE too low for all of them, the tools that lose the
    race for fds fail in those threads.  Each failed tool says so in one
    line of its own ("TOOL: cannot ... Too many open files", its own
    object named, not another thread's message), its page section says
    the same reason, the tools that started report as usual, exit 0 and
    nothing left attached."""
    page = tmp_path / "r.html"
    before = live_links()
    p = subprocess.run(["prlimit", "--nofile=60", KSCOPE, "report", "-d",
                        "0.3", "-j", "--html", str(page)],
                       capture_output=True, text=True, timeout=300)
    assert p.returncode == 0, p.stderr
    started = {r["tool"] for r in _schema.report_lines(p.stdout,
                                                      "report, fds short")}
    failed = {}
    for line in p.stderr.splitlines():
        tool, _, msg = line.partition(": ")
        if tool in TOOLS and "Too many open files" in msg:
            assert tool not in failed, p.stderr
            failed[tool] = msg
    assert started and failed, p.stderr
    assert not started & failed.keys(), (started, p.stderr)
    objs = {"mlock": "locks_bpf", "spinlock": "locks_bpf"}
    text = html.unescape(page.read_text())
    for tool, msg in failed.items():
        if "failed to load object" in msg:
            assert f"'{objs.get(tool, tool + '_bpf')}'" in msg, msg
        assert f"could not run here: {msg}" in text, (tool, msg)
    # every tool that can run here either started or said why
    can = {t for t, f in features().items()
           if any(m["available"] for m in f["modes"].values())}
    assert can <= started | failed.keys(), (can, started, p.stderr)
    assert live_links() <= before | live_links()


@needs_root
def test_traced_process_exits():
    """memleak -p PID: when PID exits, the run ends by itself with the
    final report (exit 0), nothing left attached."""
    runnable("memleak")
    target = subprocess.Popen(["sh", "-c", "sleep 3"])
    try:
        p = start(["memleak", "-j", "-p", str(target.pid)])
        links = own_links(p.pid)
        out, err = p.communicate(timeout=60)
    finally:
        stop(p)
        target.wait()
    assert p.returncode == 0, err
    rep = json.loads(out.splitlines()[-1])
    assert rep["pid"] == target.pid
    assert gone(links)


@needs_root
def test_traced_process_execs(tmp_path):
    """memleak -p PID where PID execs another program (same libc): what
    the old image allocated is gone with it; only allocations made after
    the exec may be reported."""
    runnable("memleak")
    texec = tmp_path / "texec"
    truth = tmp_path / "truth.json"
    target = subprocess.Popen(
        # dash keeps each variable in a malloc'd block until it exits
        ["sh", "-c", "sleep 2; i=0; while [ $i -lt 300 ]; do "
         "eval v$i=value$i; i=$((i+1)); done; sleep 0.5; "
         f"date +%s.%N > {texec}; "
         f"exec {WL / 'dyn_leaker'} {truth}"])
    try:
        p = start(["memleak", "-j", "-p", str(target.pid)])
        out, err = p.communicate(timeout=60)
    finally:
        stop(p)
        target.wait()
    assert p.returncode == 0, err
    rep = json.loads(out.splitlines()[-1])
    t_rep = time.mktime(time.strptime(rep["time"][:19], "%Y-%m-%dT%H:%M:%S")
                        ) - time.timezone + float("0" + rep["time"][19:-1])
    since_exec_ms = (t_rep - float(texec.read_text())) * 1000
    old = [e for e in rep["entries"] if e["oldest_ms"] > since_exec_ms + 100]
    assert not old, old[:3]
