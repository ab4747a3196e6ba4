# SPDX-License-Identifier: GPL-2.0
from _check import final
from _locks import bpftrace_maps, check_lock_entries


def check(out, env, mode):
    rep = final(out, mode)
    bt = bpftrace_maps(out / "bpftrace.json")
    assert "@waits" in bt, (out / "bpftrace.err").read_text()
    d = rep["dropped"]
    check_lock_entries(rep, comm="lknomem", kinds=("mutex:",),
                       may_drop=("no_memory",))
    rows = len(rep["entries"])
    # the map is far from full: a drop counted as map_full would be false
    assert rows < 10240 // 2, rows
    assert d["map_full"] == 0, d
    assert d["no_memory"] > 0, \
        f"no row was refused ({rows} rows, {bt['@waits']} waits): {d}"
    waits = rep["total_count"] + d["no_memory"]
    assert abs(waits - bt["@waits"]) <= bt["@waits"] * 2 / 100, \
        f"kscope {rep['total_count']} counted + {d['no_memory']} " \
        f"no_memory, bpftrace {bt['@waits']} waits"
