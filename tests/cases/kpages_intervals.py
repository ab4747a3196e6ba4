# SPDX-License-Identifier: GPL-2.0
from _check import reports, truth
from kpages_touch import ALLOCATOR


def check(out, env, mode):
    pages = sum(truth(out, f"truth{i}.json")["pages"] for i in range(8))
    reps = reports(out)
    assert (out / "kscope.rc").read_text().strip() == "0"
    assert len(reps) >= 3, f"only {len(reps)} reports"
    count = 0
    for r in reps:
        assert r["dropped"]["stack"] == 0, r["dropped"]
        for e in r["entries"]:
            assert e["comm"] == "ks_kpages_ivl", e["comm"]
            assert not e["site"].startswith(("0x",) + ALLOCATOR), \
                f"allocations at {e['site']} in report at {r['time']}"
            count += e["count"]
    assert count >= pages, f"{count} allocations for {pages} pages"
    assert count <= pages * 1.05 + 64 * len(reps), (count, pages)
