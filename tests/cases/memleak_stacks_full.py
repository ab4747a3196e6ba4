# SPDX-License-Identifier: GPL-2.0
from _check import final, truth


def check(out, env, mode):
    rep = final(out, mode)
    t = truth(out)
    assert t["paths"] == 2048, t
    leaves = [e for e in rep["entries"]
              if any(f.startswith("leak_leaf") for f in e["stack"])]
    for e in leaves:
        # one path, one block: a row of two would be two paths merged
        assert e["allocs"] == 1 and e["bytes"] == t["size"], e
    d = rep["dropped"]
    assert 0 < len(leaves) <= 1024, f"{len(leaves)} leaf stacks kept"
    assert d["stacks_full"] > 0, d
    assert len(leaves) + d["stacks_full"] == t["paths"], \
        f"{len(leaves)} leaks shown + {d['stacks_full']} stacks_full, " \
        f"{t['paths']} leaked"
    assert all(v == 0 for k, v in d.items() if k != "stacks_full"), d
