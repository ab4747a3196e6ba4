# SPDX-License-Identifier: GPL-2.0
from collections import defaultdict

from _check import final
from _locks import bpftrace_maps, check_lock_entries, check_spin_note

# the READ/WRITE bits of the first contention_begin -> kscope's kind
KINDS = {"0": "spin", "2": "rwlock-read", "4": "rwlock-write"}


def check(out, env, mode):
    rep = final(out, mode)
    bt = bpftrace_maps(out / "bpftrace.json")
    assert "@waits" in bt, (out / "bpftrace.err").read_text()
    check_lock_entries(rep, comm="lkspin",
                       kinds=("spin:", "rwlock-read:", "rwlock-write:"))
    want = {KINDS[k]: v for k, v in bt["@waits"].items()}
    got = defaultdict(int)
    for e in rep["entries"]:
        got[e["kind"].split(":")[0]] += e["count"]
    total = sum(want.values())
    assert total >= 20, f"too little contention to compare: {bt}"
    # the workload reads and writes the lock: both kinds must be there
    assert want.get("rwlock-read") and want.get("rwlock-write"), want
    for kind in set(want) | set(got):
        w, g = want.get(kind, 0), got.get(kind, 0)
        assert abs(g - w) <= max(w * 2 / 100, 1), \
            f"{kind}: kscope {g} waits, bpftrace {w} (all: {dict(got)} " \
            f"vs {want})"
    check_spin_note(rep, out)
