# SPDX-License-Identifier: GPL-2.0
from pathlib import Path

from _check import reports, stderr, truth


def check(out, env, mode):
    rc = (Path(out) / "kscope.rc").read_text().strip()
    assert rc == "0", f"report exited {rc}: {stderr(out)}"
    assert (Path(out) / "full.rc").read_text().strip() == "0"
    reps = {r["tool"]: r for r in reports(out)}
    full = reports(out, "full.json")
    assert len(full) == 1, len(full)
    full = full[0]
    t = truth(out)

    kp = reps["kpages"]
    assert kp["sample"] == 64, kp["sample"]
    assert full["sample"] == 1, full["sample"]
    mine = [e for e in kp["entries"] if e["comm"] == "rs_toucher"]
    count = sum(e["count"] for e in mine)
    pages = sum(e["pages"] for e in mine)
    want = sum(e["count"] for e in full["entries"])
    # exact: every allocation counted, sampled stack or not
    assert count == want, (count, want)
    assert pages == sum(e["pages"] for e in full["entries"])
    assert count >= t["pages"], (count, t)
    for e in mine:
        assert e["bytes"] == e["pages"] * t["page_size"], e
    # the toucher's faults are attributed, from the sample
    sites = [e for e in mine if e["site"] != "[not sampled]"]
    assert sites and max(e["count"] for e in sites) >= t["pages"] * 0.8, \
        mine

    ml = reps["memleak"]
    assert ml["sample"] == 64, ml["sample"]
    files = truth(out, "files.json")["files"]
    n = ml["allocated"]["count"]
    assert n >= files + t["pages"], (n, files, t)
    # 1 in 64 at random: binomial, six standard deviations either way
    sd = (n * 63 / 64 / 64) ** 0.5
    tracked = ml["tracked_allocs"]
    assert abs(tracked - n / 64) <= 6 * sd + 2, (tracked, n)
