# SPDX-License-Identifier: GPL-2.0
from _check import final, truth
from _locks import by_lock, check_lock_entries, rt_drops, rt_lossy, \
    within_lost


def check(out, env, mode):
    rep = final(out, mode)
    t = truth(out)
    writes = t["writes"]
    assert t["per_thread"] > 0 and \
        writes == t["threads"] * t["per_thread"], t
    lossy = rt_lossy(env, mode)
    check_lock_entries(rep, comm="lkheld", kinds=("mutex",),
                       may_drop=rt_drops(lossy))
    pipe = [e for e in rep["entries"] if e["kind"] == "mutex"]
    top = max(by_lock({"entries": pipe}).values(), default=0)
    # PREEMPT_RT: the recursion guard skips runs (counted), each a hold
    # lost at most
    assert within_lost(top, writes, rep, lossy), \
        f"busiest mutex held {top} times, {writes} writes, {rep['dropped']}"
