# SPDX-License-Identifier: GPL-2.0
from _check import final, no_drops
from kmem_bpftrace import bpftrace_maps


def check(out, env, mode):
    rep = final(out, mode)
    bt = bpftrace_maps(out / "bpftrace.json")
    assert "@count" in bt, (out / "bpftrace.err").read_text()
    count = sum(e["count"] for e in rep["entries"])
    pages = sum(e["pages"] for e in rep["entries"])
    assert count >= 20000
    # the same events in both windows (see kmem_bpftrace): exactly
    assert count == bt["@count"], (count, bt)
    assert pages == bt["@pages"], (pages, bt)
    no_drops(rep["dropped"])
