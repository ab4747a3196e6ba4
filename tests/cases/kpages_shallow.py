# SPDX-License-Identifier: GPL-2.0
from _check import final, no_drops, truth
from kpages_touch import ALLOCATOR

BEYOND = "[beyond the 1 frames walked]"


def check(out, env, mode):
    rep = final(out, mode)
    t = truth(out)
    ents = rep["entries"]
    assert ents, "no rows"
    count = sum(e["count"] for e in ents)
    assert count >= t["pages"], f"{count} allocations for {t['pages']} pages"
    for e in ents:
        assert not e["site"].startswith(ALLOCATOR), e["site"]
    # one frame past the tracing frames is inside the allocator
    beyond = sum(e["count"] for e in ents if e["site"] == BEYOND)
    assert beyond == count, (beyond, count, [e["site"] for e in ents])
    no_drops(rep["dropped"])
