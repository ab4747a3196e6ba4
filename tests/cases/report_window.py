# SPDX-License-Identifier: GPL-2.0
from pathlib import Path

from _check import reports, stderr, truth


def comms(obj):
    """every "comm" value anywhere in a report line"""
    if isinstance(obj, dict):
        for k, v in obj.items():
            if k == "comm" and isinstance(v, str):
                yield v
            else:
                yield from comms(v)
    elif isinstance(obj, list):
        for v in obj:
            yield from comms(v)


def check(out, env, mode):
    rc = (Path(out) / "kscope.rc").read_text().strip()
    assert rc == "0", f"report exited {rc}: {stderr(out)}"
    reps = {r["tool"]: r for r in reports(out)}
    assert "kmem" in reps and "kpages" in reps, sorted(reps)
    seen = set()
    for r in reps.values():
        seen.update(comms(r))
    assert "ks_rep_self" not in seen, \
        f"report counted itself: {sorted(seen)}"
    # the window was open while the opener ran
    t = truth(out)
    opens = sum(e["count"] for e in reps["kmem"]["entries"]
                if e["comm"] == "rw_opener" and e["kind"] == "cache" and
                e["site"].startswith(("alloc_empty_file", "__alloc_file")))
    assert opens == t["opens"], (opens, t)

    assert (Path(out) / "self.rc").read_text().strip() == "0"
    self_reps = reports(out, "self.json")
    no_self = reports(out, "noself.json")
    # 0.2 s reports for 2 s: at least two even in the TCG VMs
    assert len(self_reps) >= 2 and len(no_self) >= 2, \
        (len(self_reps), len(no_self))
    mine = [e for r in self_reps for e in r["entries"]
            if e["comm"] == "ks_self"]
    assert mine, "--include-self: kscope's own map reads not counted"
    others = [e for r in no_self for e in r["entries"]
              if e["comm"] == "ks_self"]
    assert not others, f"kscope counted itself: {others[:3]}"
