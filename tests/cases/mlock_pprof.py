# SPDX-License-Identifier: GPL-2.0
from _locks import rt_lossy, within_lost
from _check import final, go_pprof_top, pprof, truth


def check(out, env, mode):
    rep = final(out, mode)
    t = truth(out)
    prof = pprof(out, "mlock.pb.gz")
    assert prof["types"] == [("contentions", "count"),
                             ("delay", "nanoseconds")], prof["types"]
    assert prof["default"] == "delay"
    n, by_fn = go_pprof_top(out / "mlock.pb.gz", "contentions")
    ns, _ = go_pprof_top(out / "mlock.pb.gz", "delay", "ns")
    assert n == sum(e["count"] for e in rep["entries"]), n
    assert ns == sum(e["total_ns"] for e in rep["entries"]), ns
    # per lock, by label, against the JSON rows
    want, got = {}, {}
    for e in rep["entries"]:
        k = (e["lock"], e["kind"], e["comm"])
        want[k] = want.get(k, 0) + e["count"]
    for s in prof["samples"]:
        lb = s["labels"]
        k = (lb["lock"], lb["kind"], lb["comm"])
        got[k] = got.get(k, 0) + s["values"][0]
    assert got == want, (got, want)
    # pipe_write(), anon_pipe_write() since 6.16
    writes = max([c for f, (_, c) in by_fn.items()
                  if f.endswith("pipe_write")] or [0])
    if mode in ("fentry", "kprobe"):
        # exactly, or on PREEMPT_RT short by the runs the recursion guard
        # skipped, counted: each loses a wait at most (see mlock_pipe.py)
        assert within_lost(writes, t["writes"], rep, rt_lossy(env, mode)), \
            (writes, t, rep["dropped"])
    else:
        # contended waits only: at most one per write; in a TCG guest a
        # run may see none (seen on 6.12: 20000 writes in 40 ms, no wait)
        assert writes <= t["writes"], (writes, t)
        assert writes > 0 or env != "host", "no contended wait on the host"
