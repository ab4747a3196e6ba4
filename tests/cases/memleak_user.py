# SPDX-License-Identifier: GPL-2.0
import re

from _check import reports, stderr, truth

# "leak_malloc+0x2a (leaker.c:68) [leaker]" -> "leak_malloc"
FUNC = re.compile(r"^([^+ ]+)\+0x[0-9a-f]+")


def func(frame):
    m = FUNC.match(frame)
    return m.group(1) if m else None


def check_run(d, mode):
    rc = (d / "kscope.rc").read_text().strip()
    assert rc == "0", f"{d.name}: kscope exited {rc}: {stderr(d)}"
    assert not (d / "no-exit").exists(), \
        f"{d.name}: the run did not end when the traced process exited"
    reps = reports(d)
    assert len(reps) == 1, f"{d.name}: {len(reps)} reports, expected one"
    rep = reps[0]
    t = truth(d)
    assert rep["tool"] == "memleak"
    assert rep["mode"] == "uprobe", rep["mode"]
    assert rep["pid"] == t["pid"], (rep["pid"], t["pid"])
    assert all(v == 0 for v in rep["dropped"].values()), rep["dropped"]
    ents = rep["entries"]
    for e in ents:
        assert set(e) >= {"stack", "bytes", "allocs", "oldest_ms"}, e
        assert isinstance(e["stack"], list) and e["allocs"] > 0, e
    for leak in t["leaks"]:
        at = [e for e in ents if any(func(f) == leak["func"]
                                     for f in e["stack"])]
        allocs = sum(e["allocs"] for e in at)
        nbytes = sum(e["bytes"] for e in at)
        assert (allocs, nbytes) == (leak["allocs"], leak["bytes"]), \
            (f"{d.name}: {leak['func']}: reported {allocs} allocations, "
             f"{nbytes} bytes; leaked {leak['allocs']}, {leak['bytes']}",
             at)
    # everything churn() allocated was freed again
    churn = [e for e in ents if any(func(f) == t["churn"]
                                    for f in e["stack"])]
    assert not churn, f"{d.name}: outstanding at churn(): {churn}"
    # every leak is outstanding, so the totals hold at least the leaks
    assert rep["total_allocs"] >= sum(l["allocs"] for l in t["leaks"])
    assert rep["frees"]["matched"] >= t["churn_iterations"], rep["frees"]
    assert rep["frees"]["missed_reused"] == 0, rep["frees"]
    # nothing dropped, nothing reused: every tracked allocation was either
    # freed (a matched free) or is outstanding now
    assert rep["tracked_allocs"] == rep["frees"]["matched"] + \
        rep["total_allocs"], (rep["tracked_allocs"], rep["frees"],
                              rep["total_allocs"])
    return rep


def check(out, env, mode):
    rep = check_run(out / "static", mode)
    # a static program is its own allocator
    assert rep["object"].endswith("leaker"), rep["object"]
    if (out / "dyn").exists():
        rep = check_run(out / "dyn", mode)
        assert "libc" in rep["object"] or \
            rep["object"].endswith("dyn_leaker"), rep["object"]
    if (out / "libc").exists():
        libc = (out / "libc").read_text().strip()
        rep = check_run(out / "obj", mode)
        assert rep["object"] == libc, (rep["object"], libc)
        assert (out / "noobj.rc").read_text().strip() == "1"
        err = (out / "noobj.err").read_text().splitlines()
        assert len(err) == 1 and "does not define malloc" in err[0], err
        assert (out / "noobj.out").read_text() == ""
    check_run(out / "pid", mode)
