# SPDX-License-Identifier: GPL-2.0
from _check import reports, truth
from kmem_intervals import filp_count


def check(out, env, mode):
    # the kernel's word that CPU 1 really went away and came back
    assert (out / "online_during").read_text().strip() == "0"
    assert (out / "online_after").read_text().strip() == "0-1"
    opens = sum(truth(out, f"truth{i}.json")["opens"] for i in (1, 2, 3))
    assert (out / "kscope.rc").read_text().strip() == "0"
    reps = reports(out)
    assert len(reps) >= 3, f"only {len(reps)} reports"
    count = filp_count(reps, "ks_hotplug", mode)
    assert count == opens, \
        f"{count} filp allocations over {len(reps)} reports, {opens} opens"
