# SPDX-License-Identifier: GPL-2.0
from _check import final, truth
from _locks import by_lock, check_lock_entries, check_spin_note


def check(out, env, mode):
    rep = final(out, mode)
    t = truth(out)
    assert t["writes"] == 40000 and t["counter"] == 40000, t
    check_lock_entries(rep, comm="lkefd",
                       kinds=("spin:spinning", "rwlock-read:spinning",
                              "rwlock-write:spinning"))
    top = max(by_lock(rep).values(), default=0)
    assert top <= t["writes"], f"{top} waits on one lock, {t['writes']} writes"
    check_spin_note(rep, out)
