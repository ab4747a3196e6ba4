# SPDX-License-Identifier: GPL-2.0
from _check import final
from _locks import bpftrace_maps, check_lock_entries


def check(out, env, mode):
    rep = final(out, mode)
    bt = bpftrace_maps(out / "bpftrace.json")
    assert "@waits" in bt, (out / "bpftrace.err").read_text()
    check_lock_entries(rep, comm="lkspin",
                       kinds=("spin:", "rwlock-read:", "rwlock-write:"))
    waits = rep["total_count"]
    assert bt["@waits"] >= 20, f"too little contention to compare: {bt}"
    assert abs(waits - bt["@waits"]) <= bt["@waits"] * 2 / 100, \
        f"kscope {waits} waits, bpftrace {bt['@waits']}"
