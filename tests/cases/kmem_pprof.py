# SPDX-License-Identifier: GPL-2.0
from _check import go_pprof_top, pprof, reports, stderr, truth

FILP = ("alloc_empty_file", "__alloc_file")
COMM = "ks_kmem_pp"


def filp_allocs(prof):
    """allocations whose allocator was called from the filp site: the
    frame above the innermost kmem_cache_alloc* frame (leaf first)"""
    n = 0
    for s in prof["samples"]:
        frames = [ln["function"] for loc in s["locations"]
                  for ln in loc["lines"]]
        callers = [f for f in frames if not f.startswith("kmem_cache_alloc")]
        if callers and callers[0] in FILP:
            n += s["values"][0]
    return n


def check(out, env, mode):
    for name in ("run", "ivl"):
        rc = (out / f"{name}.rc").read_text().strip()
        assert rc == "0", f"{name}: kscope exited {rc}: {stderr(out)}"
    rep, = reports(out, "run.json")
    prof = pprof(out, "kmem.pb.gz")
    assert prof["types"] == [("alloc_objects", "count"),
                             ("alloc_space", "bytes")], prof["types"]
    assert prof["default"] == "alloc_space"
    assert all(s["labels"]["comm"] == COMM and s["labels"]["kind"]
               for s in prof["samples"]), prof["samples"][:3]
    assert all(loc["mapping"]["file"] == "[kernel.kallsyms]"
               for s in prof["samples"] for loc in s["locations"])
    objects, _ = go_pprof_top(out / "kmem.pb.gz", "alloc_objects")
    space, _ = go_pprof_top(out / "kmem.pb.gz", "alloc_space", "B")
    assert objects == rep["total_count"] == \
        sum(e["count"] for e in rep["entries"]), (objects, rep["total_count"])
    assert space == rep["total_bytes"], (space, rep["total_bytes"])
    t = truth(out)
    assert filp_allocs(prof) == t["opens"], (filp_allocs(prof), t)

    # with an interval: the last report's profile
    lines = reports(out, "ivl.json")
    assert len(lines) >= 3, f"only {len(lines)} reports"
    last = pprof(out, "last.pb.gz")
    objects, _ = go_pprof_top(out / "last.pb.gz", "alloc_objects")
    assert objects == lines[-1]["total_count"], (objects, lines[-1])
    assert abs(last["duration_nanos"] / 1e9 - lines[-1]["interval_s"]) \
        < 0.002, (last["duration_nanos"], lines[-1]["interval_s"])
