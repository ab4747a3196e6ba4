# SPDX-License-Identifier: GPL-2.0
from _check import no_drops, reports, stderr, truth


def check(out, env, mode):
    rc = (out / "kscope.rc").read_text().strip()
    assert rc == "0", f"kscope exited {rc}: {stderr(out)}"
    reps = reports(out)
    t = truth(out)
    assert len(reps) >= 2, f"expected several 0.5 s reports, got {len(reps)}"
    allocs = bytes_ = 0
    for r in reps:
        assert r["tool"] == "slabratetop"
        if mode:
            assert r["mode"] == mode, r["mode"]
        assert r["sort"] == "allocs"
        no_drops(r["dropped"])
        # interval reports: each covers its own half second or so
        assert r["interval_s"] < 5, r["interval_s"]
        keys = [(e["allocs"], e["bytes"]) for e in r["entries"]]
        assert keys == sorted(keys, reverse=True), keys
        for e in r["entries"]:
            assert e["allocs"] > 0, e
            if e["cache"] == "filp":
                allocs += e["allocs"]
                bytes_ += e["bytes"]
    assert allocs == t["opens"], \
        f"{allocs} filp allocations seen, {t['opens']} open() calls made"
    if t["filp_size"] > 0:
        assert bytes_ == t["opens"] * t["filp_size"], (bytes_, t)
