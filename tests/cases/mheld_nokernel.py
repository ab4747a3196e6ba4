# SPDX-License-Identifier: GPL-2.0
import pytest
from _check import reports


def check(out, env, mode):
    kprobes = (out / "kprobes").read_text().strip()
    fentry = (out / "fentry").read_text().strip()
    rc = (out / "kscope.rc").read_text().strip()
    err = (out / "kscope.err").read_text()
    if kprobes == "no" and fentry == "no":
        assert rc == "1", f"exit {rc}, expected 1: {err}"
        lines = err.splitlines()
        assert len(lines) == 1, f"expected one line, got: {err!r}"
        line = lines[0]
        assert line.startswith("kscope mheld: "), line
        assert "fentry" in line and "kprobe" in line, line
        assert (out / "kscope.json").read_text() == "", "report printed"
    elif kprobes == "yes":
        assert rc == "0", f"exit {rc} with kprobes available: {err}"
        rep = reports(out)
        assert len(rep) == 1 and rep[0]["mode"] in ("fentry", "kprobe"), rep
    elif fentry == "yes":
        assert rc == "0", f"exit {rc} where bpftrace attaches fentry: {err}"
        rep = reports(out)
        assert len(rep) == 1 and rep[0]["mode"] == "fentry", rep
    else:
        # no kprobes, and nothing independent of kscope says whether
        # fentry works (no bpftrace here)
        pytest.skip("cannot tell independently whether fentry works "
                    "(no bpftrace)")
