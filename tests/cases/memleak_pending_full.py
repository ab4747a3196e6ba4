# SPDX-License-Identifier: GPL-2.0
from _check import final, truth

ROOM = 16	# --max-entries in the .sh


def check(out, env, mode):
    rep = final(out, mode)
    t = truth(out)
    assert t["threads"] > ROOM, t
    rows = [e for e in rep["entries"]
            if any(f.startswith(t["function"]) for f in e["stack"])]
    shown = sum(e["allocs"] for e in rows)
    assert sum(e["bytes"] for e in rows) == shown * t["size"], rows
    d = rep["dropped"]
    # the first ROOM threads in got an entry, every later one none
    assert shown == ROOM, f"{shown} blocks shown, {ROOM} expected: {d}"
    assert d["pending_full"] == t["threads"] - ROOM, d
    assert all(v == 0 for k, v in d.items() if k != "pending_full"), d
    assert len(rep["entries"]) == len(rows), rep["entries"]
