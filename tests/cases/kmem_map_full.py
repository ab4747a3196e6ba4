# SPDX-License-Identifier: GPL-2.0
from _check import final, reports, truth
from _locks import bpftrace_maps


def check(out, env, mode):
    rep = final(out, mode)
    t = truth(out)
    bt = bpftrace_maps(out / "bpftrace.json")
    assert "@count" in bt, (out / "bpftrace.err").read_text()
    counted = sum(e["count"] for e in rep["entries"])
    full = rep["dropped"]["map_full"]
    # 40 comms, each with its filp allocations: far more keys than 16
    assert len({e["comm"] for e in rep["entries"]}) < t["threads"]
    assert len(rep["entries"]) == 16, len(rep["entries"])
    assert full > 0, rep["dropped"]
    assert counted + full == bt["@count"], \
        f"counted {counted} + map_full {full} != bpftrace's {bt['@count']}"
    assert rep["total_count"] == counted

    assert (out / "stacks.rc").read_text().strip() == "0"
    rep = reports(out, "stacks.json")[0]
    counted = sum(e["count"] for e in rep["entries"])
    lost = rep["dropped"]["map_full"] + rep["dropped"]["stack"]
    assert len(rep["entries"]) <= 16 and lost > 0, rep["dropped"]
    assert counted + lost == bt["@count"], \
        f"-s: counted {counted} + dropped {rep['dropped']} != {bt['@count']}"
