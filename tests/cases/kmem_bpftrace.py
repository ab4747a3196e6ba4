# SPDX-License-Identifier: GPL-2.0
import json
from _check import final, no_drops


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
    # the same events: bpftrace -c attaches before the command starts and
    # detaches after it has exited, kscope was attached before and stays
    # after, and the comm exists only while the command runs; so both
    # see every allocation of it, exactly
    assert count == bt["@count"], (count, bt)
    assert nbytes == bt["@bytes"], (nbytes, bt)
    no_drops(rep["dropped"])
