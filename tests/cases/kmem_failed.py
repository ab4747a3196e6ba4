# SPDX-License-Identifier: GPL-2.0
from _check import final, no_drops, truth


def check(out, env, mode):
    rep = final(out, mode)
    t = truth(out)
    assert t["failed"] == t["resized"] > 0, t
    ring = [e for e in rep["entries"]
            if e["kind"] == "kmalloc" and e["site"].startswith("pipe_resize_ring")]
    count = sum(e["count"] for e in ring)
    # the failed 1 GiB kcalloc()s come from the same call site
    assert count == t["resized"], \
        f"{count} pipe_resize_ring kmallocs counted, {t['resized']} succeeded" \
        f" and {t['failed']} failed"
    no_drops(rep["dropped"])
