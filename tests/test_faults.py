# SPDX-License-Identifier: GPL-2.0
"""Where reports go (-o/--output) and faults around a run (docs/hardening.md):
the output closed or full, the traced process exiting or exec'ing, tracefs
missing, two kscopes at once, limits that make loading fail.  Each ends
with one clear line and nothing of kscope's left attached, or keeps
running correctly."""
import gzip
import os
import pathlib
import signal
import subprocess
import tempfile
import time

import pytest

from test_cli import (KSCOPE, ROOT, TOOLS, features, live_links, needs_root,
                      own_links, wait_tracing)
import _schema  # noqa: E402  (tests/cases, on sys.path through test_cli)

WL = ROOT / "build" / "workloads"


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
