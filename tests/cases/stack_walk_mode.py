# SPDX-License-Identifier: GPL-2.0
import json

from _check import final, kernel_before, no_drops, truth
from kpages_touch import ALLOCATOR

FILP = ("alloc_empty_file", "__alloc_file")
ORDER = ("fentry", "kprobe", "tp_btf", "raw_tp", "tracepoint")


def default_mode(feats, tool, env, walks):
    """the first available mode, or for a run that walks a stack on every
    event the classic tracepoint in its place where the kernel counts the
    tracepoint runs it skips (6.7 on)"""
    modes = feats[tool]["modes"]
    best = next(m for m in ORDER if modes[m]["available"])
    if walks and best in ("tp_btf", "raw_tp") and \
            modes["tracepoint"]["available"] and \
            not kernel_before(env, 6, 7):
        return "tracepoint"
    return best


def caller(stack):
    """the first frame of a kmem -s stack past the slab allocator's"""
    return next((f for f in stack if not f.startswith("kmem_cache_alloc")),
                "")


def check(out, env, mode):
    feats = {}
    for line in (out / "features.json").read_text().splitlines():
        f = json.loads(line)
        feats[f["tool"]] = f
    runs = {"kp": ("kpages", True), "kps": ("kpages", False),
            "kms": ("kmem", True), "km": ("kmem", False),
            "ml": ("memleak", True)}
    for name, (tool, walks) in runs.items():
        want = default_mode(feats, tool, env, walks)
        rep = final(out, want, name)
        no_drops(rep["dropped"])
        if name in ("kp", "ml"):
            # features describes the default options' run
            assert feats[tool]["mode"] == want, (tool, feats[tool]["mode"])
    # counts against the workloads' own, in the modes taken
    for name in ("kp", "kps"):
        rep, t = final(out, name=name), truth(out, f"{name}.truth.json")
        count = sum(e["count"] for e in rep["entries"])
        assert count >= t["pages"], (name, count, t["pages"])
        assert sum(e["pages"] for e in rep["entries"]) <= \
            t["pages"] * 1.05 + 64, (name, rep["entries"])
        # sites past the allocator (kpages_touch's rule), never in it
        for e in rep["entries"]:
            assert not e.get("site", "").startswith(ALLOCATOR), e
    for name in ("kms", "km"):
        rep, t = final(out, name=name), truth(out, f"{name}.truth.json")
        if name == "kms":
            filp = [e for e in rep["entries"] if e["kind"] == "cache" and
                    caller(e["stack"]).startswith(FILP)]
        else:
            filp = [e for e in rep["entries"] if e["kind"] == "cache" and
                    e["site"].startswith(FILP)]
        count = sum(e["count"] for e in filp)
        assert count == t["opens"], (name, count, t["opens"])
