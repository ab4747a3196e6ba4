# SPDX-License-Identifier: GPL-2.0
from _check import final, reports, truth
from _locks import by_lock, check_lock_entries, rt_drops, rt_lossy, \
    within_lost


def trylocks(rep):
    return max(by_lock({"entries": [e for e in rep["entries"]
                                    if e["kind"] == "mutex:trylock"]}
                       ).values(), default=0)


def check(out, env, mode):
    lossy = rt_lossy(env, mode)
    drops = rt_drops(lossy)
    one = final(out, mode)
    t1 = truth(out)
    assert t1["threads"] == 1 and t1["again"] == 0, t1
    assert t1["writes"] == t1["per_thread"] > 0, t1
    check_lock_entries(one, comm="lkpty", kinds=("mutex",), may_drop=drops)
    n = trylocks(one)
    assert within_lost(n, t1["writes"], one, lossy), \
        f"{n} trylock holds, {t1['writes']} writes, {one['dropped']}"

    assert (out / "kscope2.rc").read_text().strip() == "0"
    two = reports(out, "kscope2.json")[0]
    t2 = truth(out, "truth2.json")
    assert t2["writes"] == t2["threads"] * t2["per_thread"] > 0, t2
    check_lock_entries(two, comm="lkpty", kinds=("mutex",), may_drop=drops)
    n = trylocks(two)
    # a failed trylock (-EAGAIN) must not count as a hold
    assert within_lost(n, t2["written"], two, lossy), \
        f"{n} trylock holds, {t2['written']} writes got the lock " \
        f"({t2}, {two['dropped']})"
