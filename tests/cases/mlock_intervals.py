# SPDX-License-Identifier: GPL-2.0
from _intervals import compare
from _locks import rt_skips


def check(out, env, mode):
    # PREEMPT_RT: programs lose runs to recursion there (fentry often, the
    # tracepoint modes rarely), counted (docs/locks.md), differently in
    # each instance
    lossy = rt_skips(env)
    ivs, whole = compare(out, keys=("addr", "kind", "comm"),
                         may_drop=("recursion", "missed") if lossy else ())
    assert whole["total_count"] > 0, whole
