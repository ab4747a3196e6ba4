# SPDX-License-Identifier: GPL-2.0
from _check import final, no_drops, truth

ALLOCATOR = ("alloc_pages", "folio_alloc", "alloc_frozen", "__alloc",
             "get_page_from_freelist", "bpf_", "trace")


def check(out, env, mode):
    rep = final(out, mode)
    t = truth(out)
    ents = rep["entries"]
    assert {e["comm"] for e in ents} == {"pagetoucher"}
    pages = sum(e["pages"] for e in ents)
    count = sum(e["count"] for e in ents)
    assert count >= t["pages"], f"{count} allocations for {t['pages']} pages"
    # page tables and the odd slab page, not thousands more
    assert pages <= t["pages"] * 1.05 + 64, (pages, t)
    for e in ents:
        assert e["bytes"] == e["pages"] * t["page_size"]
        assert not e["site"].startswith(ALLOCATOR), e["site"]
    no_drops(rep["dropped"])
