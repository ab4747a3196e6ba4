# SPDX-License-Identifier: GPL-2.0
from _check import no_drops, reports, truth


def filp_count(reps, comm, mode):
    """filp allocations by comm summed over every report, each report
    checked for its mode, no drops and no other task"""
    count = 0
    for r in reps:
        if mode:
            assert r["mode"] == mode, r["mode"]
        no_drops(r["dropped"])
        for e in r["entries"]:
            assert e["comm"] == comm, e["comm"]
            # struct file: alloc_empty_file() (6.4+), __alloc_file() (6.1)
            if e["kind"] == "cache" and e["site"].startswith(
                    ("alloc_empty_file", "__alloc_file")):
                count += e["count"]
    return count


def check(out, env, mode):
    t = truth(out)
    reps = reports(out)
    assert (out / "kscope.rc").read_text().strip() == "0"
    # the opener runs for a while: many reports, not one
    assert len(reps) >= 3, f"only {len(reps)} reports"
    count = filp_count(reps, "ks_kmem_ivl", mode)
    assert count == t["opens"], \
        f"{count} filp allocations over {len(reps)} reports, " \
        f"{t['opens']} opens"
