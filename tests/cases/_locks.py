# SPDX-License-Identifier: GPL-2.0
"""Checks shared by the lock tools' cases (mlock_*, mheld_*, spinlock_*)."""
import json
from collections import defaultdict

from _check import other_notes


def bpftrace_maps(path):
    maps = {}
    for line in path.read_text().splitlines():
        try:
            o = json.loads(line)
        except ValueError:
            continue        # bpftrace chatter
        if isinstance(o, dict) and o.get("type") == "map":
            maps.update(o["data"])
    return maps


def check_lock_entries(rep, comm, kinds, may_drop=()):
    """The entry contract: keys, the -c filter, kinds, and that each
    histogram holds exactly the entry's events and fits its max; no drops
    but those named in may_drop."""
    total = 0
    by = rep["by"].split(",")
    need = ["kind", "count", "total_ns", "max_ns", "hist"] + \
        (["lock", "addr", "lock_name"] if "lock" in by else []) + \
        [k for k in ("caller", "comm", "tid", "cgroup", "owner") if k in by]
    for e in rep["entries"]:
        for k in need:
            assert k in e, f"entry misses {k!r}: {e}"
        if "comm" in by:
            assert e["comm"] == comm, f"filtered comm leaked: {e['comm']!r}"
        assert e["kind"].startswith(kinds), e["kind"]
        assert e["count"] > 0
        assert sum(b["count"] for b in e["hist"]) == e["count"], e
        assert e["max_ns"] <= e["total_ns"], e
        assert e["hist"][-1]["min"] <= e["max_ns"] <= e["hist"][-1]["max"], e
        assert "lock" not in by or int(e["addr"], 16) > 0
        total += e["count"]
    assert rep["total_count"] == total, (rep["total_count"], total)
    assert all(v == 0 for k, v in rep["dropped"].items()
               if k not in may_drop), rep["dropped"]


def by_lock(rep):
    """Counts summed per lock address (all kinds of one lock)."""
    n = defaultdict(int)
    for e in rep["entries"]:
        n[e["addr"]] += e["count"]
    return n


def hypervisor(out):
    """The machine's /proc/cpuinfo has the hypervisor flag (the case saved
    its flags line as $OUT/cpuflags)."""
    line = (out / "cpuflags").read_text()
    flags = set(line.split(":", 1)[1].split()) if ":" in line else set()
    return "hypervisor" in flags


def check_spin_note(rep, out):
    """spinlock's note on guests: there exactly when the machine's
    /proc/cpuinfo (its flags line, saved by the case as $OUT/cpuflags) has
    the hypervisor flag (x86 guests spin in virt_spin_lock(), untraced,
    unless they have paravirtual spin locks)."""
    if hypervisor(out):
        assert "virt_spin_lock" in rep.get("note", ""), rep.get("note")
    else:
        assert not other_notes(rep), rep["note"]


def final_also(out, name, mode=""):
    """The one report of a kscope started with ks_bg NAME."""
    from _check import reports
    rc = (out / f"{name}.rc").read_text().strip()
    assert rc == "0", f"kscope ({name}) exited {rc}: " + \
        (out / f"{name}.err").read_text()
    lines = reports(out, f"{name}.json")
    assert len(lines) == 1, f"{name}: expected one report, got {len(lines)}"
    if mode:
        assert lines[0]["mode"] == mode, lines[0]["mode"]
    return lines[0]


def func_of(frame):
    """'anon_pipe_write+0x43 [mod]' -> 'anon_pipe_write'"""
    return frame.split("+", 1)[0].split(" ", 1)[0]


def rows(rep, *keys):
    """{(entry[k] for k in keys): count} of a report's entries"""
    n = defaultdict(int)
    for e in rep["entries"]:
        n[tuple(e[k] for k in keys)] += e["count"]
    return dict(n)


def rt_lossy(env, mode):
    """PREEMPT_RT runs BPF programs preemptible: the kernel's recursion
    guard skips a program whose CPU is already inside one (another task
    preempted it there), fentry and kprobe alike (seen: 28 and 5 of a
    few thousand runs), counted in dropped.recursion (docs/locks.md)."""
    return rt_kernel(env) and mode in ("fentry", "kprobe")


# what a PREEMPT_RT run may drop: program runs the recursion guard
# skipped, and exits missed after a skipped entry
RT_DROPS = ("recursion", "missed")


def rt_kernel(env):
    """a PREEMPT_RT kernel: mutexes are rt_mutexes, and in any attach mode
    a preempted program can make the kernel's recursion guard skip another
    run on its CPU (the contention tracepoint modes too, rarely: 6 runs
    once in mlock_intervals), each counted in dropped.recursion.
    rt_lossy() is the fentry/kprobe case, where it is common enough to
    change what a case expects."""
    return env.endswith("-rt")


def rt_drops(on):
    """may_drop for check_lock_entries() and compare(): RT_DROPS when on
    (an rt_kernel() or rt_lossy() run), else none"""
    return RT_DROPS if on else ()


def rt_lost(rep):
    """what a report says rt_lossy() runs lost: program runs the recursion
    guard skipped and exits missed; each loses one event at most"""
    return sum(rep["dropped"][d] for d in RT_DROPS)


def within_lost(n, want, rep, lossy):
    """n == want, or on an rt_lossy() run short of it by at most
    rt_lost(rep)"""
    if not lossy:
        return n == want
    return want - rt_lost(rep) <= n <= want
