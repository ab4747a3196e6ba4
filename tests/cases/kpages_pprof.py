# SPDX-License-Identifier: GPL-2.0
from _check import final, go_pprof_top, pprof, truth


def check(out, env, mode):
    rep = final(out, mode)
    t = truth(out)
    prof = pprof(out, "kpages.pb.gz")
    assert prof["types"] == [("alloc_objects", "count"),
                             ("alloc_space", "bytes")], prof["types"]
    objects, _ = go_pprof_top(out / "kpages.pb.gz", "alloc_objects")
    space, _ = go_pprof_top(out / "kpages.pb.gz", "alloc_space", "B")
    count = sum(e["count"] for e in rep["entries"])
    assert objects == count, (objects, count)
    assert space == sum(e["bytes"] for e in rep["entries"]), space
    assert objects >= t["pages"], (objects, t)
