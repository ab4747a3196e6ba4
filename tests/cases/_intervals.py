# SPDX-License-Identifier: GPL-2.0
"""Interval semantics: the interval reports of one kscope add up to the
one report of another that watched the same events over the same time.

Only what both count is compared: events, bytes, pages.  Durations are
each instance's own measurement (one instance's BPF program runs inside
the other's timed span), so times, maxima and time histograms differ
between two tracers; each report's histogram still holds its count."""
from pathlib import Path

from _check import reports, stderr


def _key(e, keys):
    return tuple(e.get(k) for k in keys)


def fold(entries, keys):
    """entries keyed by keys; counters summed, maxima maxed, histograms
    summed per bucket; averages dropped (they do not add)."""
    out = {}
    for e in entries:
        acc = out.setdefault(_key(e, keys), {})
        for f, v in e.items():
            if f in keys or f.startswith(("avg", "max", "total_")) or \
                    f.endswith(("_ns", "_us", "_ms")):
                continue
            if f == "hist":
                acc["hist_count"] = acc.get("hist_count", 0) + \
                    sum(b["count"] for b in v)
            elif isinstance(v, dict):
                sub = fold([v], ())
                acc.setdefault(f, []).append(sub[()])
            elif isinstance(v, (int, float)) and not isinstance(v, bool):
                if f.startswith("max"):
                    acc[f] = max(acc.get(f, v), v)
                else:
                    acc[f] = acc.get(f, 0) + v
    return out


def compare(out, keys, select=lambda e: True, min_reports=2, may_drop=()):
    """may_drop: drop reasons allowed (PREEMPT_RT's fentry recursion
    misses: each instance loses its own events); every count may then
    differ by at most what both instances said they dropped."""
    out = Path(out)
    for f in ("kscope.rc", "whole.rc"):
        rc = (out / f).read_text().strip()
        assert rc == "0", f"{f}: {rc}: {stderr(out)}"
    ivs = reports(out)
    whole = reports(out, "whole.json")
    assert len(whole) == 1, len(whole)
    assert len(ivs) >= min_reports, f"only {len(ivs)} interval reports"
    got = fold([e for r in ivs for e in r["entries"] if select(e)], keys)
    want = fold([e for e in whole[0]["entries"] if select(e)], keys)
    assert want, "the whole-run report has nothing to compare"
    slack = sum(r["dropped"].get(d, 0) for r in ivs + whole
                for d in may_drop)
    odd = set(got) ^ set(want)
    assert sum((got.get(k) or want.get(k)).get("count", 0)
               for k in odd) <= slack, (sorted(odd), slack)
    for k, w in want.items():
        if "hist_count" in w:
            assert w["hist_count"] == w["count"], (k, w)
    for k, w in want.items():
        g = got.get(k, {})
        for f, v in w.items():
            if isinstance(v, list):
                continue        # nested objects: checked by their tests
            assert abs(g.get(f, 0) - v) <= slack, (k, f, g.get(f), v, slack)
    for r in ivs + whole:
        assert all(v == 0 for k, v in r["dropped"].items()
                   if k not in may_drop), r["dropped"]
    return ivs, whole[0]
