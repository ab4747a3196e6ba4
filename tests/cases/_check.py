# SPDX-License-Identifier: GPL-2.0
"""Helpers for the cases' ground-truth checks: parse kscope's JSON with the
json module and validate the contract every report line must meet: its
tool's JSON Schema (tests/schemas/TOOL.json, _schema.py)."""
import json
import os
import re
from pathlib import Path

from _schema import check_report

ISO = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z$")


def reports(out_dir: Path, name="kscope.json"):
    """Every JSON line kscope printed, each checked against the contract
    and its tool's schema."""
    text = (Path(out_dir) / name).read_text()
    lines = [json.loads(l) for l in text.splitlines() if l.strip()]
    for i, r in enumerate(lines):
        check_report(r, f"{name} line {i + 1}")
    return lines


def final(out_dir: Path, mode: str = "", name: str = "kscope"):
    """The single end-of-run report, in the mode that was asked for, of
    the run whose files are NAME.rc, NAME.json, NAME.err (ks_bg NAME)."""
    rc = (Path(out_dir) / f"{name}.rc").read_text().strip()
    assert rc == "0", f"{name}: kscope exited {rc}: {stderr(out_dir, name)}"
    lines = reports(out_dir, f"{name}.json")
    assert len(lines) == 1, f"{name}: expected one report, got {len(lines)}"
    if mode:
        assert lines[0]["mode"] == mode, lines[0]["mode"]
    return lines[0]


def truth(out_dir: Path, name="truth.json"):
    return json.loads((Path(out_dir) / name).read_text())


def stderr(out_dir: Path, name: str = "kscope"):
    p = Path(out_dir) / f"{name}.err"
    return p.read_text() if p.exists() else ""


def no_drops(dropped):
    """Every drop reason 0 but `recursion`: the kernel skips a program
    before the program can look at the task (-c, -p filter inside it), so
    `recursion` counts skipped runs of any task (in tracepoint mode, any
    allocation in an interrupt that came while another kprobe or tracepoint
    program ran on that CPU: 2 in a host run of kmem_bpftrace).  That none
    was the workload's is for the case's exact count against its ground
    truth to show."""
    assert all(v == 0 for k, v in dropped.items() if k != "recursion"), \
        dropped


# the note of a tracepoint-mode run on a kernel before 6.7 (src/lib/run.c)
UNCOUNTED_SKIPS = "does not count the tracepoint program runs it skips"


def kernel_before(env, major, minor):
    """the kernel of env ("host", "vm-6.1", "vm-6.12-rt", ...) is older
    than major.minor"""
    rel = os.uname().release if env == "host" else env[len("vm-"):]
    ma, mi = (int(x) for x in re.match(r"(\d+)\.(\d+)", rel).groups())
    return (ma, mi) < (major, minor)


def other_notes(rep):
    """rep's note less the one every tracepoint-mode run has on kernels
    before 6.7 (UNCOUNTED_SKIPS), checked by check_skips_note()"""
    return "; ".join(n for n in rep.get("note", "").split("; ")
                     if n and UNCOUNTED_SKIPS not in n)


def check_skips_note(rep, env, mode):
    """the UNCOUNTED_SKIPS note is there exactly in tracepoint mode on a
    kernel before 6.7"""
    want = mode == "tracepoint" and kernel_before(env, 6, 7)
    assert (UNCOUNTED_SKIPS in rep.get("note", "")) == want, \
        (env, mode, rep.get("note"))


def within(a, b, pct):
    """a agrees with b to pct percent (of b)."""
    return abs(a - b) <= abs(b) * pct / 100.0


FOLDED_LINE = re.compile(r"^(\S.*) (\d+)$")
FOLDED_TIME = re.compile(r"^# time (\S+) interval_s (\d+\.\d+)$")


def folded(out_dir: Path, name="kscope.folded"):
    """kscope's --folded output as blocks [{"time", "interval_s",
    "stacks": [(frames, weight)]}]: one block per "# time" line (an
    interval run), or one block without time.  Every other line must be
    FlameGraph's collapsed format; each stack is there once."""
    blocks = []
    for line in (Path(out_dir) / name).read_text().splitlines():
        m = FOLDED_TIME.match(line)
        if m:
            assert ISO.match(m.group(1)), line
            blocks.append({"time": m.group(1),
                           "interval_s": float(m.group(2)), "stacks": []})
            continue
        m = FOLDED_LINE.match(line)
        assert m, f"not a folded stack line: {line!r}"
        if not blocks:
            blocks.append({"time": None, "interval_s": None, "stacks": []})
        frames = m.group(1).split(";")
        assert all(frames), f"empty frame in {line!r}"
        blocks[-1]["stacks"].append((frames, int(m.group(2))))
    for b in blocks:
        keys = [";".join(f) for f, _ in b["stacks"]]
        assert len(keys) == len(set(keys)), "a stack on two lines"
        assert all(w > 0 for _, w in b["stacks"]), "a line of weight 0"
    return blocks


def pprof(out_dir: Path, name):
    """kscope's --pprof FILE read by decoders that are not kscope's: gzip
    and protoc --decode_raw (wire format, no schema) must take it, then
    python3-protobuf with profile.proto's message types gives it back
    checked (tests/pprof_decode.py)."""
    import sys
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
    from pprof_decode import decode, decode_raw
    data = (Path(out_dir) / name).read_bytes()
    assert data[:2] == b"\x1f\x8b", f"{name} is not gzip"
    assert decode_raw(data).strip(), f"protoc read nothing in {name}"
    return decode(data)


GO_TOTAL = re.compile(r"Total samples = (\d+)(\S*)")
GO_ROW = re.compile(r"^\s*(\d+)(\S*)\s+\S+%\s+\S+%\s+(\d+)(\S*)\s+\S+%\s+(.+)$")


def go_pprof_top(path, sample_index, unit=None, *extra):
    """`go tool pprof -top` (Debian's golang-go) on a profile: (the total
    of sample_index, {function: (flat, cum)}), values in unit ("B",
    "ns"), every node shown; extra arguments as given ("-lines": the
    keys are "function file:line")."""
    import shutil
    import subprocess
    if not shutil.which("go"):
        import pytest
        pytest.skip("go tool pprof: golang-go is not installed "
                    "(make test-deps)")
    args = ["go", "tool", "pprof", "-top", f"-sample_index={sample_index}",
            "-nodefraction=0", "-edgefraction=0", "-nodecount=1000000"]
    if unit:
        args.append(f"-unit={unit}")
    args += extra
    p = subprocess.run(args + [str(path)], capture_output=True, text=True,
                       timeout=120)
    assert p.returncode == 0, f"go tool pprof: {p.stderr}"
    m = GO_TOTAL.search(p.stdout)
    assert m, p.stdout
    assert m.group(1) == "0" or m.group(2) == (unit or ""), m.group(0)
    rows = {}
    for line in p.stdout.splitlines():
        r = GO_ROW.match(line)
        if r:
            for v, u in ((r.group(1), r.group(2)), (r.group(3), r.group(4))):
                assert v == "0" or u == (unit or ""), line
            rows[r.group(5).strip()] = (int(r.group(1)), int(r.group(3)))
    return int(m.group(1)), rows
