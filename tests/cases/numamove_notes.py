# SPDX-License-Identifier: GPL-2.0
import re

from _check import UNCOUNTED_SKIPS, other_notes, reports, truth


def expect_note(nodes, balancing):
    if nodes < 2:
        return "one NUMA node"
    if balancing == 0:
        return "NUMA balancing is off"
    if balancing < 0:
        return "no NUMA balancing"
    return None


def check_run(out, name, mode, nodes, balancing):
    assert (out / f"{name}.rc").read_text().strip() == "0"
    err = (out / f"{name}.err").read_text()
    reps = reports(out, f"{name}.json")
    assert reps, f"no reports in {name}.json"
    want = expect_note(nodes, balancing)
    for r in reps:
        if mode:
            assert r["mode"] == mode, r["mode"]
        assert r["numa_nodes"] == nodes, (r["numa_nodes"], nodes)
        assert r["numa_balancing"] == (balancing if balancing >= 0
                                       else None), r
        assert len(r["entries"]) == 1, r["entries"]
        e = r["entries"][0]
        assert set(("migrations", "pages", "time_ms")) <= set(e), e
        if want:
            assert want in r.get("note", ""), (want, r)
        else:
            assert not other_notes(r), r
        if nodes < 2:
            # nothing can be misplaced on one node
            assert e["migrations"] == 0 and e["pages"] == 0, e
    if want:
        assert re.search(r"^kscope numamove: note: .*" + want, err, re.M), err
    else:
        assert not [l for l in err.splitlines() if "note:" in l and
                    UNCOUNTED_SKIPS not in l], err
    return reps


def check(out, env, mode):
    t = truth(out)
    nodes, bal = t["nodes"], t["balancing"]
    reps = check_run(out, "asis", mode, nodes, bal)
    if nodes < 2:
        # the kernel agrees: it migrated nothing either
        assert t["after"] == t["before"], t
    assert sum(r["entries"][0]["pages"] for r in reps) <= \
        t["after"] - t["before"] + 8
    if (out / "off.json").exists():
        check_run(out, "off", mode, nodes, 0)
        assert (out / "restored").read_text() == str(bal)
    assert (out / "text.rc").read_text().strip() == "0"
    text = (out / "text.out").read_text()
    assert re.search(r"^\d+ migrations, \d+ pages \(.*\), \d+\.\d{3} ms",
                     text, re.M), text
    want = expect_note(nodes, bal)
    if want:
        assert want in (out / "text.err").read_text()
