# SPDX-License-Identifier: GPL-2.0
from _check import final, no_drops, truth
from kpages_touch import ALLOCATOR

FILP = ("alloc_empty_file", "__alloc_file")


def check(out, env, mode):
    rep = final(out, mode)
    t = truth(out)
    files = truth(out, "files.json")
    ents = rep["entries"]
    no_drops(rep["dropped"])
    # nothing blamed on the allocator, nothing left beyond the walk
    for e in ents:
        # (6.1's filp site, __alloc_file, starts like an allocator's)
        assert not e["site"].startswith(ALLOCATOR) or \
            e["site"].startswith(FILP), e
        assert not e["site"].startswith("[beyond"), e
    faults = sum(e["count"] for e in ents if e["comm"] == "pagetoucher")
    assert faults >= t["pages"], (faults, t["pages"])
    # the second toucher's faults (stacks the first one's made known)
    # found their sites in short walks
    assert rep["short_walks"] >= t["pages"] * 0.95, \
        (rep["short_walks"], t["pages"], rep["total_count"])
    assert rep["short_walks"] <= rep["total_count"]
    # held files: the filp slab grew a page per few files, each found at
    # its deep site through the whole walk
    filp = sum(e["count"] for e in ents if e["comm"] == "leaker_files" and
               e["site"].startswith(FILP))
    assert filp * 100 >= files["files"], (filp, files, [
        (e["site"], e["count"]) for e in ents if e["comm"] == "leaker_files"])
