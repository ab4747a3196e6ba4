# SPDX-License-Identifier: GPL-2.0
from collections import defaultdict

from _check import final, truth
from _locks import check_lock_entries, rt_drops, rt_kernel


def check(out, env, mode):
    rep = final(out, mode)
    t = truth(out)
    want = t["waits_under_holder"]
    assert want == t["rounds"] * t["waiters"] > 0, t
    # PREEMPT_RT: a mutex is an rt_mutex (rtmutex: kinds), its owner in
    # its rt_mutex_base; fentry runs lost to recursion are counted
    rt = rt_kernel(env)
    check_lock_entries(rep, comm="lkwait",
                       kinds=("rtmutex:", "mutex:") if rt else ("mutex:",),
                       may_drop=rt_drops(rt))
    assert rep["by"] == "lock,comm,owner", rep["by"]
    held = defaultdict(int)
    for e in rep["entries"]:
        o = e["owner"]
        assert (o["pid"] == 0) == (o["comm"] == ""), e
        if o["comm"] == "lkhold":
            assert o["pid"] == t["holder_tid"], (o, t)
            held[e["addr"]] += e["count"]
    # one pipe mutex; every wait of a round begins under the holder
    # (a waiter that came late would wait behind another waiter)
    assert len(held) == 1, held
    n = sum(held.values())
    assert 0.9 * want <= n <= want, f"{n} waits owned by lkhold, {want}"
