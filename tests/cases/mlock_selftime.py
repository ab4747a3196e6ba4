# SPDX-License-Identifier: GPL-2.0
import json
from pathlib import Path

from _check import final, truth
from _locks import by_lock, check_lock_entries, rt_drops, rt_lossy


def pipe_mutex(rep, writes, lossy):
    """The pipe's mutex: exactly one call per write (on PREEMPT_RT
    fentry, every call missing is counted as a recursion skip); returns
    the average ns of its uncontended calls."""
    locks = by_lock(rep)
    top = max(locks, key=locks.get)
    n = locks[top]
    if lossy:
        rec = rep["dropped"]["recursion"]
        assert n <= writes <= n + rec, f"{n} calls + {rec} skipped, {writes}"
    else:
        assert n == writes, f"busiest mutex {n} calls, {writes} writes"
    # one writer, nobody else on that mutex: every call takes the fast
    # path and none sleeps on the mutex.  A voluntary switch in
    # might_sleep() (PREEMPT_VOLUNTARY) would mark a call as sleeping
    # too: allowed for 1% of them; the figure is the no-sleep row's
    rows = {e["kind"]: e for e in rep["entries"] if e["addr"] == top}
    fast = rows.get("mutex:no-sleep")
    assert fast and fast["count"] >= 0.99 * n, rows
    return fast["total_ns"] / fast["count"]


def check(out, env, mode):
    lossy = rt_lossy(env, mode)
    figures = {}
    for name, t in (("alone", truth(out)),
                    ("kscope", truth(out, "truth2.json")),
                    ("other", truth(out, "truth2.json"))):
        rep = final(out, mode, name)
        assert t["threads"] == 1 and t["writes"] == t["per_thread"] > 0, t
        # nobody reads: all but the first 64 KiB found the pipe full
        assert t["full"] > t["writes"] / 2, t
        check_lock_entries(rep, comm="lkself", kinds=("mutex:",),
                           may_drop=rt_drops(lossy))
        figures[name] = round(pipe_mutex(rep, t["writes"], lossy), 1)
    # the figures docs/locks.md quotes: average ns per uncontended
    # mutex_lock() call, alone and with a second kscope's programs inside
    # the window
    (Path(out) / "selftime.json").write_text(json.dumps(figures) + "\n")
    print(f"{env} {mode} self-inclusion: {figures}")
