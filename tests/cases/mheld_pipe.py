# SPDX-License-Identifier: GPL-2.0
from _check import final, truth
from _locks import by_lock, check_lock_entries


def check(out, env, mode):
    rep = final(out, mode)
    t = truth(out)
    writes = t["writes"]
    assert t["per_thread"] > 0 and \
        writes == t["threads"] * t["per_thread"], t
    check_lock_entries(rep, comm="lkheld", kinds=("mutex",))
    pipe = [e for e in rep["entries"] if e["kind"] == "mutex"]
    top = max(by_lock({"entries": pipe}).values(), default=0)
    assert top == writes, f"busiest mutex held {top} times, {writes} writes"
