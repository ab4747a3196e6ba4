# SPDX-License-Identifier: GPL-2.0
import json
from _check import reports
from _locks import check_lock_entries, hypervisor, rt_kernel


def check(out, env, mode):
    modes = (out / "modes").read_text().split()
    assert modes, "no mode ran"
    for m in modes:
        assert (out / f"{m}.rc").read_text().strip() == "0", m
        rep = reports(out, f"{m}.json")
        assert len(rep) == 1, rep
        rep = rep[0]
        assert rep["mode"] == m, rep["mode"]
        t = json.loads((out / f"{m}.truth.json").read_text())
        want = t["threads"] * t["per_thread"]
        assert want > 0 and t["writes"] == want and t["counter"] == want, t
        # "reentered": spin lock calls made by kscope's own map updates
        # (their bucket locks) while it counted another call
        check_lock_entries(rep, comm="lkcall",
                           kinds=("spin:", "rwlock-read:", "rwlock-write:"),
                           may_drop=("reentered",))
        calls = rep["calls"]
        assert rep["total_calls"] == sum(c["count"] for c in calls)
        assert all(c["comm"] == "lkcall" for c in calls), calls
        # spin_lock_irq() of the eventfd's spinlock_t: rt_spin_lock on
        # PREEMPT_RT (an rtlock), _raw_spin_lock_irq elsewhere
        fn = "rt_spin_lock" if rt_kernel(env) else "_raw_spin_lock_irq"
        irq = [c for c in calls if c["function"] == fn]
        top = max(irq, key=lambda c: c["count"], default=None)
        assert top and top["count"] == t["writes"], \
            f"{m}: busiest {fn} lock {top}, {t['writes']} writes"
        # its contended waits: at most one per write
        waits = sum(e["count"] for e in rep["entries"]
                    if e["addr"] == top["addr"])
        assert waits <= t["writes"], (waits, t)
        if not hypervisor(out):
            assert waits > 0, "no contended waits on the eventfd lock"
