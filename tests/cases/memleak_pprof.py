# SPDX-License-Identifier: GPL-2.0
from pathlib import Path

from _check import final, go_pprof_top, pprof, truth

ROOT = Path(__file__).resolve().parent.parent.parent


def check(out, env, mode):
    rep = final(out, mode)
    t = truth(out)
    path = out / "memleak.pb.gz"
    prof = pprof(out, "memleak.pb.gz")
    assert prof["types"] == [("inuse_objects", "count"),
                             ("inuse_space", "bytes")], prof["types"]
    assert prof["default"] == "inuse_space"
    assert prof["duration_nanos"] > 0 and prof["time_nanos"] > 0
    space, by_space = go_pprof_top(path, "inuse_space", "B")
    objects, by_objects = go_pprof_top(path, "inuse_objects")
    for leak in t["leaks"]:
        f = leak["func"]
        assert by_space.get(f, (0, 0))[1] == leak["bytes"], \
            f"{f}: go tool pprof says {by_space.get(f)} B, " \
            f"leaked {leak['bytes']}"
        assert by_objects.get(f, (0, 0))[1] == leak["allocs"], \
            f"{f}: {by_objects.get(f)} objects, leaked {leak['allocs']}"
    assert t["churn"] not in by_space, "outstanding at churn()"
    # by line (-lines): each leak is one source line of the leaker, the
    # one that calls its allocator
    _, by_line = go_pprof_top(path, "inuse_space", "B", "-lines")
    for leak in t["leaks"]:
        rows = [(k, c) for k, (_, c) in by_line.items()
                if k.startswith(leak["func"] + " ")]
        assert len(rows) == 1, (leak, rows)
        where, cum = rows[0]
        assert cum == leak["bytes"], (where, cum, leak)
        src, line = where.split()[1].rsplit(":", 1)
        assert src.endswith("leaker.c"), where
        text = (ROOT / src).read_text().splitlines()[int(line) - 1]
        assert leak["kind"] + "(" in text, (where, text)
    # the same report as the JSON line: its totals
    assert space == sum(e["bytes"] for e in rep["entries"])
    assert objects == sum(e["allocs"] for e in rep["entries"])
    # user frames under the leaker's mapping, with its source lines
    leaker = [m for m in prof["mappings"]
              if m["file"].endswith("/leaker")]
    assert leaker and leaker[0]["has_line_numbers"], prof["mappings"]
    for leak in t["leaks"]:
        lines = [ln for s in prof["samples"] for loc in s["locations"]
                 for ln in loc["lines"] if ln["function"] == leak["func"]]
        assert lines, leak["func"]
        assert all(ln["file"].endswith("leaker.c") and ln["line"] > 0
                   for ln in lines), lines
