# SPDX-License-Identifier: GPL-2.0
from _locks import rt_lossy
from _check import folded, stderr, truth


def check(out, env, mode):
    rc = (out / "kscope.rc").read_text().strip()
    assert rc == "0", f"kscope exited {rc}: {stderr(out)}"
    t = truth(out)
    blocks = folded(out)
    stacks = blocks[0]["stacks"] if blocks else []
    assert all(f[0] == "lkpipe" for f, _ in stacks), stacks
    n = sum(w for f, w in stacks if "pipe_write_[k]" in f)
    if rt_lossy(env, mode):
        # lost runs of fentry on PREEMPT_RT: see mlock_pipe.py
        assert t["writes"] - t["writes"] // 1000 <= n <= t["writes"], \
            f"{n} mutex_lock calls, {t['writes']} writes (RT fentry)"
    elif mode in ("fentry", "kprobe"):
        assert n == t["writes"], f"{n} mutex_lock calls, {t['writes']} writes"
    else:
        assert n <= t["writes"], f"{n} waits, {t['writes']} writes"
