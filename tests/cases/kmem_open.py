# SPDX-License-Identifier: GPL-2.0
from _check import check_skips_note, final, no_drops, truth


def check(out, env, mode):
    rep = final(out, mode)
    t = truth(out)
    comm = (out / "comm").read_text()
    assert rep["tool"] == "kmem"
    ents = rep["entries"]
    assert ents, "no entries"
    # the filter ran in BPF: nothing from any other task
    assert {e["comm"] for e in ents} == {comm}, {e["comm"] for e in ents}
    # struct file comes from alloc_empty_file() (6.4+: init_file()
    # inlined there) or __alloc_file() (6.1)
    filp = [e for e in ents if e["kind"] == "cache" and
            e["site"].startswith(("alloc_empty_file", "__alloc_file"))]
    count = sum(e["count"] for e in filp)
    assert count == t["opens"], f"{count} filp allocations, {t['opens']} opens"
    if t["filp_size"] > 0:
        nbytes = sum(e["bytes"] for e in filp)
        assert nbytes == t["opens"] * t["filp_size"], (nbytes, t)
    no_drops(rep["dropped"])
    check_skips_note(rep, env, mode)
