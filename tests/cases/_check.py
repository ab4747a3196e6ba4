# SPDX-License-Identifier: GPL-2.0
"""Helpers for the cases' ground-truth checks: parse kscope's JSON with the
json module and validate the contract every report line must meet."""
import json
import re
from pathlib import Path

ISO = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z$")


def reports(out_dir: Path, name="kscope.json"):
    """Every JSON line kscope printed, each checked against the contract."""
    text = (Path(out_dir) / name).read_text()
    lines = [json.loads(l) for l in text.splitlines() if l.strip()]
    for r in lines:
        for k in ("tool", "time", "interval_s", "mode", "dropped", "entries"):
            assert k in r, f"report misses {k!r}: {r}"
        assert ISO.match(r["time"]), r["time"]
        assert isinstance(r["dropped"], dict)
        assert all(isinstance(v, int) for v in r["dropped"].values())
        assert isinstance(r["entries"], list)
    return lines


def final(out_dir: Path, mode: str = ""):
    """The single end-of-run report, in the mode that was asked for."""
    rc = (Path(out_dir) / "kscope.rc").read_text().strip()
    assert rc == "0", f"kscope exited {rc}: {stderr(out_dir)}"
    lines = reports(out_dir)
    assert len(lines) == 1, f"expected one report, got {len(lines)}"
    if mode:
        assert lines[0]["mode"] == mode, lines[0]["mode"]
    return lines[0]


def truth(out_dir: Path, name="truth.json"):
    return json.loads((Path(out_dir) / name).read_text())


def stderr(out_dir: Path):
    p = Path(out_dir) / "kscope.err"
    return p.read_text() if p.exists() else ""


def within(a, b, pct):
    """a agrees with b to pct percent (of b)."""
    return abs(a - b) <= abs(b) * pct / 100.0
