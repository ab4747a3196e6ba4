# SPDX-License-Identifier: GPL-2.0
from pathlib import Path

from _check import no_drops, reports, stderr, truth
from _locks import bpftrace_maps

# the tracepoints two or more of report's tools hook, and those tools
SHARED = {"kmalloc": ("kmem", "memleak"),
          "kmem_cache_alloc": ("kmem", "slabratetop", "memleak"),
          "mm_page_alloc": ("kpages", "memleak"),
          "contention_begin": ("mlock", "spinlock"),
          "contention_end": ("mlock", "spinlock")}
ALLOCATOR = ("alloc_pages", "folio_alloc", "alloc_frozen", "__alloc",
             "get_page_from_freelist", "bpf_", "trace")
FILP_SITES = ("alloc_empty_file", "__alloc_file")


def check(out, env, mode):
    out = Path(out)
    rc = (out / "kscope.rc").read_text().strip()
    assert rc == "0", f"report exited {rc}: {stderr(out)}"
    reps = {r["tool"]: r for r in reports(out)}
    for t in ("kmem", "kpages", "slabratetop", "mlock"):
        assert t in reps, f"{t} did not run: {stderr(out)}"
    for t in ("kmem", "kpages", "slabratetop"):
        no_drops(reps[t]["dropped"])

    # one link per shared tracepoint and mode (the tools that hook it
    # in tp_btf or raw_tp mode: raw tracepoint links, named)
    links = (out / "tp_links.txt").read_text().split()
    for tp, tools in SHARED.items():
        modes = {reps[t]["mode"] for t in tools
                 if t in reps and reps[t]["mode"] in ("tp_btf", "raw_tp")}
        assert links.count(tp) == len(modes), \
            (tp, links.count(tp), {t: reps[t]["mode"] for t in tools
                                   if t in reps})

    kmem = reps["kmem"]["entries"]
    opens = sum(e["count"] for e in kmem
                if e["comm"] == "rw_chain" and e["kind"] == "cache" and
                e["site"].startswith(FILP_SITES))
    t = truth(out, "truth_open.json")
    assert opens == t["opens"], (opens, t)

    tp = truth(out, "truth_pages.json")
    mine = [e for e in reps["kpages"]["entries"] if e["comm"] == "pgchain"]
    count = sum(e["count"] for e in mine)
    pages = sum(e["pages"] for e in mine)
    assert count >= tp["pages"], f"{count} allocations for {tp['pages']} pages"
    assert pages <= tp["pages"] * 1.05 + 64, (pages, tp)
    # sampled stacks taken in a chained program still start at the fault
    for e in mine:
        assert not e["site"].startswith(ALLOCATOR), e["site"]

    # every filp allocation, by any task, against kmem's of the same
    # window (the two tools' windows open a few microseconds apart)
    filp_kmem = sum(e["count"] for e in kmem if e["kind"] == "cache" and
                    e["site"].startswith(FILP_SITES))
    filp_slab = sum(e["allocs"] for e in reps["slabratetop"]["entries"]
                    if e["cache"] == "filp")
    assert filp_kmem >= t["opens"]
    assert abs(filp_slab - filp_kmem) <= filp_kmem / 100 + 20, \
        (filp_slab, filp_kmem)

    if (out / "bpftrace.json").exists():
        assert all(v == 0 for v in reps["mlock"]["dropped"].values()), \
            reps["mlock"]["dropped"]
        bt = bpftrace_maps(out / "bpftrace.json")
        assert "@waits" in bt, (out / "bpftrace.err").read_text()
        assert bt["@waits"] >= 20, f"too little contention to compare: {bt}"
        waits = sum(e["count"] for e in reps["mlock"]["entries"]
                    if e["comm"] == "lkchain" and
                    e["kind"].startswith("mutex:"))
        assert abs(waits - bt["@waits"]) <= bt["@waits"] * 2 / 100, \
            f"mlock {waits} waits, bpftrace {bt['@waits']}"
