# SPDX-License-Identifier: GPL-2.0
from _check import final, no_drops, reports, truth


def hist_total(h):
    return sum(b["count"] for b in h)


def check(out, env, mode):
    t = truth(out)
    want = t["writes"] * t["online_cpus"]

    rep = final(out, mode)
    assert rep["workqueue_filter"] == "events"
    runs = [e for e in rep["entries"] if e["function"] == "refresh_vm_stats"]
    assert len(runs) == 1, [e["function"] for e in rep["entries"]]
    e = runs[0]
    assert e["count"] == want, (e["count"], want)
    q = e["queue"]
    # every item was queued after attach: each has its queue latency
    assert q["count"] == want, (q, want)
    for e in rep["entries"]:
        assert hist_total(e["hist"]) == e["count"], e
        assert hist_total(e["queue"]["hist"]) == e["queue"]["count"], e
        assert e["queue"]["max_us"] <= e["queue"]["total_us"] + 1e-3, e
    # -w events: one workqueue only, and it is "events"
    wqs = rep["workqueues"]
    assert [w["workqueue"] for w in wqs] == ["events"], wqs
    w = wqs[0]
    assert w["count"] == sum(e["count"] for e in rep["entries"]), (w, rep)
    assert w["queue"]["count"] >= want, w
    assert hist_total(w["queue"]["hist"]) == w["queue"]["count"], w
    # per (function, workqueue): all of them on events
    pairs = [p for p in rep["pairs"] if p["function"] == "refresh_vm_stats"]
    assert [p["workqueue"] for p in pairs] == ["events"], pairs
    assert pairs[0]["queue"]["count"] == want, (pairs, want)
    assert hist_total(pairs[0]["queue"]["hist"]) == want, pairs
    assert {p["workqueue"] for p in rep["pairs"]} == {"events"}, rep["pairs"]
    # executions without a queue event (items queued before attach, flush
    # barriers): exactly the entries' runs that have no queue latency
    assert rep["queue_unmatched"] == sum(e["count"] - e["queue"]["count"]
                                         for e in rep["entries"]), rep
    no_drops(rep["dropped"])

    assert (out / "unbound.rc").read_text().strip() == "0"
    ub = reports(out, "unbound.json")
    assert len(ub) == 1
    assert ub[0]["workqueue_filter"] == "events_unbound"
    names = [e["function"] for e in ub[0]["entries"]]
    assert "refresh_vm_stats" not in names, names
    assert "queue" not in (ub[0]["entries"] or [{}])[0]
