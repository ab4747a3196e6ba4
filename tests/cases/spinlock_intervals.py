# SPDX-License-Identifier: GPL-2.0
from _intervals import compare
from _locks import rt_drops, rt_kernel


def check(out, env, mode):
    # PREEMPT_RT: runs skipped by the recursion guard, counted (as in
    # mlock_intervals)
    ivs, whole = compare(out, keys=("addr", "kind", "comm"),
                         may_drop=rt_drops(rt_kernel(env)))
    assert whole["total_count"] > 0, whole
