# SPDX-License-Identifier: GPL-2.0
from _check import final, no_drops, truth

FILP = ("alloc_empty_file", "__alloc_file")


def check(out, env, mode):
    t = truth(out)
    r = final(out, mode)
    stacks = {tuple(e["stack"]) for e in r["entries"]}
    # the table had room: every distinct stack fits, and none was lost
    assert 40 <= len(stacks) < 512, f"{len(stacks)} distinct stacks"
    no_drops(r["dropped"])
    count = 0
    for e in r["entries"]:
        assert e["comm"] == "ks_kinds", e["comm"]
        assert e["stack"], f"entry without a stack: {e}"
        callers = [f for f in e["stack"]
                   if not f.startswith("kmem_cache_alloc")]
        if e["kind"] == "cache" and callers and callers[0].startswith(FILP):
            count += e["count"]
    assert count == t["files"], \
        f"{count} filp allocations, {t['files']} files made"
