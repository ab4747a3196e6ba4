# SPDX-License-Identifier: GPL-2.0
from _check import final
from kmem_bpftrace import bpftrace_maps


def check(out, env, mode):
    rep = final(out, mode)
    bt = bpftrace_maps(out / "bpftrace.json")
    assert "@count" in bt, (out / "bpftrace.err").read_text()
    count = sum(e["count"] for e in rep["entries"])
    pages = sum(e["pages"] for e in rep["entries"])
    assert count >= 20000
    assert abs(count - bt["@count"]) <= bt["@count"] / 100, (count, bt)
    assert abs(pages - bt["@pages"]) <= bt["@pages"] / 100, (pages, bt)
