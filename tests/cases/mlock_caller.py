# SPDX-License-Identifier: GPL-2.0
from _check import final, truth
from _locks import by_lock, check_lock_entries, final_also, func_of, rows, \
    rt_drops, rt_kernel, rt_lossy


def check(out, env, mode):
    rep = final(out, mode)
    only = final_also(out, "only", mode)
    t = truth(out)
    fn = (out / "write_fn").read_text().strip()
    writes = t["writes"]
    assert writes == t["threads"] * t["per_thread"] > 0, t
    # PREEMPT_RT: mutexes are rt_mutexes; fentry loses runs to recursion
    # there, counted (docs/locks.md), differently in each instance
    rt = rt_kernel(env)
    lossy = rt_lossy(env, mode)
    for r in (rep, only):
        check_lock_entries(r, comm="lkcall",
                           kinds=("rtmutex:", "mutex:") if rt else ("mutex:",),
                           may_drop=rt_drops(rt))
    assert rep["by"] == only["by"] == "lock,caller,comm", rep["by"]
    assert (rep["sort"], only["sort"]) == ("total", "count")
    totals = [e["total_ns"] for e in rep["entries"]]
    counts = [e["count"] for e in only["entries"]]
    assert totals == sorted(totals, reverse=True), totals
    assert counts == sorted(counts, reverse=True), counts
    # the pipe's mutex (the busiest) is taken in the write function only
    locks = by_lock(rep)
    pipe = max(locks, key=locks.get)
    callers = {func_of(e["caller"]) for e in rep["entries"]
               if e["addr"] == pipe}
    assert callers == {fn}, f"pipe mutex callers {callers}, want {fn}"
    if lossy:
        rec = rep["dropped"]["recursion"]
        assert locks[pipe] <= writes <= locks[pipe] + rec, \
            (locks[pipe], rec, writes)
    elif mode in ("fentry", "kprobe"):
        assert locks[pipe] == writes, (locks[pipe], writes)
    else:
        assert 0 < locks[pipe] <= writes, (locks[pipe], writes)
    # --caller: exactly the unfiltered run's rows with that caller
    want = {k: v for k, v in rows(rep, "addr", "caller", "kind",
                                  "comm").items()
            if func_of(k[1]) == fn}
    got = rows(only, "addr", "caller", "kind", "comm")
    if lossy:
        # a row one instance saw and the other's skipped run did not (one
        # mutex:no-sleep wait, once) differs by its count, within slack
        slack = rep["dropped"]["recursion"] + only["dropped"]["recursion"]
        assert all(func_of(k[1]) == fn for k in got), (got, fn)
        assert all(abs(got.get(k, 0) - want.get(k, 0)) <= slack
                   for k in set(got) | set(want)), (got, want, slack)
        return
    assert got == want, f"--caller {fn}: {got} != {want}"
