# SPDX-License-Identifier: GPL-2.0
from collections import defaultdict

from _check import final, truth


def check(out, env, mode):
    rep = final(out, "kprobe")
    t = truth(out)
    assert t["kills"] == t["threads"] * t["per_thread"] > 0, t
    calls = defaultdict(int)
    addrs = defaultdict(set)
    for c in rep["calls"]:
        assert c["comm"] == "lksig", c
        calls[c["lock"]] += c["count"]
        addrs[c["lock"]].add(c["addr"])
    assert calls["siglock"] >= t["kills"], (calls["siglock"], t)
    # one process: one sighand
    assert len(addrs["siglock"]) == 1, addrs["siglock"]
    assert calls["rq_lock"] >= t["yields"], (calls["rq_lock"], t)
