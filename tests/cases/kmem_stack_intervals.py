# SPDX-License-Identifier: GPL-2.0
from _check import reports, truth

FILP = ("alloc_empty_file", "__alloc_file")


def check(out, env, mode):
    t = truth(out)
    reps = reports(out)
    assert (out / "kscope.rc").read_text().strip() == "0"
    assert len(reps) >= 3, f"only {len(reps)} reports"
    count = 0
    for r in reps:
        assert r["dropped"]["stack"] == 0, r["dropped"]
        for e in r["entries"]:
            assert e["comm"] == "ks_kmem_stk", e["comm"]
            assert e["stack"], f"entry without a stack at {r['time']}: {e}"
            assert not any(f.startswith("0x") for f in e["stack"]), e
            # the caller of kmem_cache_alloc is the filp site (deeper
            # frames are also under alloc_empty_file for its LSM blob)
            callers = [f for f in e["stack"]
                       if not f.startswith("kmem_cache_alloc")]
            if e["kind"] == "cache" and callers[0].startswith(FILP):
                count += e["count"]
    assert count == t["opens"], \
        f"{count} filp allocations over {len(reps)} reports, " \
        f"{t['opens']} opens"
