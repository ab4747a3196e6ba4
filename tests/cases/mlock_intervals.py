# SPDX-License-Identifier: GPL-2.0
from _intervals import compare
from _locks import rt_lossy


def check(out, env, mode):
    # PREEMPT_RT: fentry programs lose runs to recursion there, counted
    # (docs/locks.md), differently in each instance
    lossy = rt_lossy(env, mode)
    ivs, whole = compare(out, keys=("addr", "kind", "comm"),
                         may_drop=("recursion", "missed") if lossy else ())
    assert whole["total_count"] > 0, whole
