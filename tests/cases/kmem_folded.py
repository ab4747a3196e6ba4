# SPDX-License-Identifier: GPL-2.0
from _check import folded, stderr, truth

FILP = ("alloc_empty_file_[k]", "__alloc_file_[k]")
COMM = "ks_kmem_fold"


def filp(blocks):
    """Weight of the stacks whose allocator was called from the filp
    site: the frame above the innermost kmem_cache_alloc* frame."""
    total = 0
    for b in blocks:
        for frames, w in b["stacks"]:
            assert frames[0] == COMM, f"the root is not the task: {frames}"
            assert all(f.endswith("_[k]") for f in frames[1:]), frames
            callers = [f for f in frames[1:]
                       if not f.startswith("kmem_cache_alloc")]
            if callers and callers[-1] in FILP:
                total += w
    return total


def check(out, env, mode):
    for name in ("count", "kscope"):
        rc = (out / f"{name}.rc").read_text().strip()
        assert rc == "0", f"{name}: kscope exited {rc}: {stderr(out)}"
    err = (out / "count.err").read_text()
    assert "dropped" not in err, err
    blocks = folded(out, "count.folded")
    assert len(blocks) >= 3, f"only {len(blocks)} interval blocks"
    assert all(b["time"] and b["interval_s"] > 0 for b in blocks)
    t = truth(out, "truth-count.json")
    n = filp(blocks)
    assert n == t["opens"], \
        f"{n} filp allocations in {len(blocks)} blocks, {t['opens']} opens"

    blocks = folded(out)
    assert len(blocks) == 1 and blocks[0]["time"] is None, blocks[:2]
    t = truth(out)
    n = filp(blocks)
    if t["filp_size"] > 0:
        assert n == t["opens"] * t["filp_size"], (n, t)
    else:
        assert n >= t["opens"], (n, t)
