# SPDX-License-Identifier: GPL-2.0
import json
from _check import final


def bpftrace_maps(path):
    maps = {}
    for line in path.read_text().splitlines():
        try:
            o = json.loads(line)
        except ValueError:
            continue        # the workload's own line, or bpftrace chatter
        if o.get("type") == "map":
            maps.update(o["data"])
    return maps


def check(out, env, mode):
    rep = final(out, mode)
    bt = bpftrace_maps(out / "bpftrace.json")
    assert "@count" in bt, (out / "bpftrace.err").read_text()
    count = sum(e["count"] for e in rep["entries"])
    nbytes = sum(e["bytes"] for e in rep["entries"])
    assert count >= 20000
    # same events, same window: 1% allowed for bpftrace's own attach edges
    assert abs(count - bt["@count"]) <= bt["@count"] / 100, (count, bt)
    assert abs(nbytes - bt["@bytes"]) <= bt["@bytes"] / 100, (nbytes, bt)
