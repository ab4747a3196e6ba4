# SPDX-License-Identifier: GPL-2.0
from _check import final, stderr, truth


def check(out, env, mode):
    libc = (out / "libc").read_text().strip()
    # -p: refused at once, one line naming the object
    assert (out / "pid" / "kscope.rc").read_text().strip() == "1"
    err = stderr(out / "pid").strip().splitlines()
    assert len(err) == 1 and "does not map " + libc in err[0], err
    assert (out / "pid" / "kscope.json").read_text() == ""
    # a command: runs, and its report says why it is empty
    rep = final(out / "cmd", mode)
    assert rep["total_allocs"] == 0 and rep["entries"] == [], rep
    assert rep["note"] and "never mapped " + libc in rep["note"], rep
    assert "never mapped" in stderr(out / "cmd")
    # the right object: every leak, no such note
    good = final(out / "good", mode)
    t = truth(out / "good")
    leaves = sum(e["allocs"] for e in good["entries"]
                 if any(f.startswith("leak_leaf") for f in e["stack"]))
    assert leaves == t["paths"] == 8, (leaves, t)
    assert "never mapped" not in (good.get("note") or ""), good
