# SPDX-License-Identifier: GPL-2.0
import re

from _locks import rt_lossy
from _check import folded, stderr, truth


def lost_runs(out):
    """runs the recursion guard skipped (and kprobe misses), as --folded
    says them on stderr: "kscope mlock: dropped N events: recursion R" """
    return sum(int(n) for n in re.findall(r"\b(?:recursion|missed) (\d+)",
                                          stderr(out)))


def check(out, env, mode):
    rc = (out / "kscope.rc").read_text().strip()
    assert rc == "0", f"kscope exited {rc}: {stderr(out)}"
    t = truth(out)
    blocks = folded(out)
    stacks = blocks[0]["stacks"] if blocks else []
    assert all(f[0] == "lkpipe" for f, _ in stacks), stacks
    n = sum(w for f, w in stacks if "pipe_write_[k]" in f)
    if rt_lossy(env, mode):
        # runs the recursion guard skipped on PREEMPT_RT, counted: each
        # loses a call at most (see mlock_pipe.py)
        lost = lost_runs(out)
        assert t["writes"] - lost <= n <= t["writes"], \
            f"{n} mutex_lock calls, {t['writes']} writes, {lost} runs " \
            f"lost (RT {mode})"
    elif mode in ("fentry", "kprobe"):
        assert n == t["writes"], f"{n} mutex_lock calls, {t['writes']} writes"
    else:
        assert n <= t["writes"], f"{n} waits, {t['writes']} writes"
