# SPDX-License-Identifier: GPL-2.0
from _check import final, no_drops, reports, truth


def check(out, env, mode):
    # -s allocs -r 1: every open() and eventfd() allocates one struct
    # file, and no cache gets more than one object per file from these
    # calls (an LSM's per-file blob ties at most, and loses on bytes)
    rep = final(out, mode)
    t = truth(out)
    assert rep["sort"] == "allocs"
    assert len(rep["entries"]) == 1, rep["entries"]
    top = rep["entries"][0]
    files = t["opens"] + t["eventfds"]
    assert top["cache"] == "filp", top
    assert top["allocs"] == files, (top, t)
    if t["filp_size"] > 0:
        assert top["bytes"] == files * t["filp_size"], (top, t)
    assert rep["caches"] > 1, rep

    # -s bytes -r 3
    assert (out / "bytes.rc").read_text().strip() == "0"
    reps = reports(out, "bytes.json")
    assert len(reps) == 1, len(reps)
    rep = reps[0]
    if mode:
        assert rep["mode"] == mode
    assert rep["sort"] == "bytes"
    ents = rep["entries"]
    assert len(ents) == min(3, rep["caches"]), (len(ents), rep["caches"])
    keys = [(e["bytes"], e["allocs"]) for e in ents]
    assert keys == sorted(keys, reverse=True), keys
    # filp (opens + eventfds objects) outweighs every cache but the
    # names_cache's 4 KiB path buffers and possibly dentries
    tb = truth(out, "truth_bytes.json")
    filp = [e for e in ents if e["cache"] == "filp"]
    assert filp, f"filp not among the top 3 by bytes: {ents}"
    assert filp[0]["allocs"] == tb["opens"] + tb["eventfds"], (filp, tb)
    no_drops(rep["dropped"])
