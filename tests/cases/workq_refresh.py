# SPDX-License-Identifier: GPL-2.0
from _check import final, no_drops, truth


def hist_total(h):
    return sum(b["count"] for b in h)


def check_hist(h):
    assert all(b["min"] <= b["max"] for b in h), h
    assert all(a["max"] < b["min"] for a, b in zip(h, h[1:])), h


def check(out, env, mode):
    rep = final(out, mode)
    t = truth(out)
    assert rep["tool"] == "workq"
    no_drops(rep["dropped"])
    want = t["writes"] * t["online_cpus"]
    runs = [e for e in rep["entries"] if e["function"] == "refresh_vm_stats"]
    assert len(runs) == 1, [e["function"] for e in rep["entries"]]
    e = runs[0]
    assert e["count"] == want, \
        f"{e['count']} runs of refresh_vm_stats, expected {t['writes']} " \
        f"writes x {t['online_cpus']} CPUs = {want}"
    for e in rep["entries"]:
        assert set(("function", "count", "total_us", "max_us", "hist")) \
            <= set(e), e
        assert hist_total(e["hist"]) == e["count"], e
        check_hist(e["hist"])
        assert e["count"] > 0
        assert 0 <= e["max_us"] <= e["total_us"] + 1e-3, e
        assert e["max_us"] * e["count"] >= e["total_us"] - 1e-3, e
        # the largest run falls in the last histogram bucket
        last = e["hist"][-1]
        assert last["min"] <= int(e["max_us"]) <= last["max"], e
        assert "queue" not in e, "queue fields without -Q"
