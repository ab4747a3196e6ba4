# SPDX-License-Identifier: GPL-2.0
from _check import reports, truth


def check(out, env, mode):
    # the kernel's word that CPU 1 really went away and came back
    assert (out / "online_during").read_text().strip() == "0"
    assert (out / "online_after").read_text().strip() == "0-1"
    opens = sum(truth(out, f"truth{i}.json")["opens"] for i in (1, 2, 3))
    assert (out / "kscope.rc").read_text().strip() == "0"
    reps = reports(out)
    assert len(reps) >= 3, f"only {len(reps)} reports"
    count = 0
    for r in reps:
        if mode:
            assert r["mode"] == mode, r["mode"]
        assert all(v == 0 for v in r["dropped"].values()), r["dropped"]
        for e in r["entries"]:
            assert e["comm"] == "ks_hotplug", e["comm"]
            # struct file: alloc_empty_file() (6.4+), __alloc_file() (6.1)
            if e["kind"] == "cache" and e["site"].startswith(
                    ("alloc_empty_file", "__alloc_file")):
                count += e["count"]
    assert count == opens, \
        f"{count} filp allocations over {len(reps)} reports, {opens} opens"
