#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
"""Macro cost: what a tracer takes from whole workloads' throughput.

  python3 bench/macro.py [-p PAIRS] [-t SECS] [--tracers report,memleak,...]
                         [--extra 'NAME=kscope ARGS'] [--json FILE]

Workloads (each as many processes as CPUs): `stress-ng --pipe N`,
`stress-ng --fork N` (bogo-ops/s, real time, from stress-ng's --yaml
output) and an open/close loop (`build/bench/workload -T SECS open`,
operations/s).  Paired runs: each traced run of a workload comes right
beside an untraced one (before it in even pairs, after it in odd ones)
and the pair gives one ratio, so the machine's drift from minute to
minute (a run alone varies by ±6% here) cancels within a pair; each pass
runs every (workload, tracer) pair once in a shuffled order (seeded).  A
tracer is started first and the workload only once it printed its
`Tracing` line, then the tracer is stopped with SIGINT.  Reported: per
workload and tracer the median ratio over the pairs and its
interquartile range.
Run as root from the repo root, after `make` and `make -f bench/bench.mk`.
"""
import argparse
import json
import os
import random
import re
import statistics
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from tracer import Failed, Tracer  # noqa: E402

KSCOPE = os.environ.get("KSCOPE", "./build/kscope")
WL = "./build/bench/workload"
NCPU = os.cpu_count() or 1

# name -> kscope arguments (every tool also gets -d long enough)
TRACERS = {
    "report": ["report", "-d", "3600"],
    "memleak": ["memleak"],
    "kpages": ["kpages"],
    "kmem": ["kmem"],
    "kmem -s": ["kmem", "-s"],
    "slabratetop": ["slabratetop", "-d", "3600"],
    "mlock": ["mlock"],
    "spinlock": ["spinlock"],
    "numamove": ["numamove", "-d", "3600"],
    "workq": ["workq"],
}

# the tracepoints `kscope report` attaches to, each as many times as it
# attaches a program there (6.18: `bpftool link show` while it runs);
# numamove's migrate hooks left out (they do not fire on one node)
REPORT_HOOKS = [
    "kmem/kmem_cache_alloc", "kmem/kmem_cache_alloc", "kmem/kmem_cache_alloc",
    "kmem/kmalloc", "kmem/kmalloc", "kmem/kfree", "kmem/kmem_cache_free",
    "kmem/mm_page_alloc", "kmem/mm_page_alloc", "kmem/mm_page_free",
    "percpu/percpu_alloc_percpu", "percpu/percpu_free_percpu",
    "lock/contention_begin", "lock/contention_begin",
    "lock/contention_end", "lock/contention_end",
    "workqueue/workqueue_execute_start", "workqueue/workqueue_execute_end",
]
FLOOR = "@./build/bench/floor"
# empty programs: what any tracer on those hooks pays before doing work,
# one program per hook (a report with one combined program per hook) and
# one per program report attaches (its present structure)
TRACERS["floor"] = [FLOOR, "-m", "tp_btf"] + sorted(set(REPORT_HOOKS))
TRACERS["floor ×programs"] = [FLOOR, "-m", "tp_btf"] + REPORT_HOOKS
# the least an exact count pays beside the hook itself: on each of the
# same hooks one aggregating program, a row keyed by the first argument
# and the comm in a hash, three atomic adds (floor.bpf.c's ladder rung
# "direct comm + hash + 3 atomics"): one count per event, where report
# keeps several (kmem by site, slabratetop by cache, memleak, kpages)
TRACERS["floor count"] = [FLOOR, "-m", "tp_btf", "-p",
                          "ladder_dcomm_atomic"] + sorted(set(REPORT_HOOKS))
# the least any exact count of slab allocations pays: an empty program on
# the two allocation tracepoints
TRACERS["floor alloc"] = [FLOOR, "-m", "tp_btf", "kmem/kmalloc",
                          "kmem/kmem_cache_alloc"]
# the pipe workload's writer allocates a page under the pipe's mutex and its
# reader frees it: an empty program on the allocation alone, and on both
# (docs/bench.md, "The pipe column")
TRACERS["floor page"] = [FLOOR, "-m", "tp_btf", "kmem/mm_page_alloc"]
TRACERS["floor page+free"] = [FLOOR, "-m", "tp_btf", "kmem/mm_page_alloc",
                              "kmem/mm_page_free"]


LABEL = {"pipe": "stress-ng --pipe %d", "fork": "stress-ng --fork %d",
         "open": "open/close loop ×%d"}


def workloads(secs, procs):
    """name -> command; names carry ×N when more than one N is asked"""
    out = {}
    # stress-ng takes whole seconds (1.5 runs 1 s) and 0 means forever
    st = str(max(1, int(secs)))
    for p in procs:
        n = str(p)
        sfx = "×%d" % p if len(procs) > 1 else ""
        out.update({
            "pipe" + sfx: ["stress-ng", "--pipe", n, "-t", st,
                           "--metrics-brief"],
            "fork" + sfx: ["stress-ng", "--fork", n, "-t", st,
                           "--metrics-brief"],
            "open" + sfx: [WL, "-T", str(secs), "-P", n, "open"],
        })
    return out


def wl_label(w, procs):
    base, _, n = w.partition("×")
    return LABEL[base] % (int(n) if n else procs[0])


def run_workload(cmd, limit):
    """Throughput of one workload run, operations per second; a run still
    going after limit seconds is an error (a stress-ng --fork run asked
    for 0.5 s, which it took as 0 = forever, was once found still running
    30 minutes later)"""
    if cmd[0] == "stress-ng":
        with tempfile.NamedTemporaryFile(suffix=".yaml") as y:
            subprocess.run(cmd + ["--yaml", y.name], check=True,
                           stdout=subprocess.DEVNULL,
                           stderr=subprocess.DEVNULL, timeout=limit)
            text = open(y.name).read()
        m = re.search(r"bogo-ops-per-second-real-time:\s*([0-9.]+)", text)
        if not m:
            raise RuntimeError("no bogo-ops/s in stress-ng's YAML")
        return float(m.group(1))
    out = subprocess.run(cmd, check=True, capture_output=True, text=True,
                         timeout=limit)
    return json.loads(out.stdout.splitlines()[-1])["ops_per_s"]


def start_tracer(args):
    """kscope ARGS (or '@BINARY ARGS'), attached (bench/tracer.py)"""
    cmd = [args[0][1:]] + args[1:] if args[0].startswith("@") \
        else [KSCOPE] + args
    try:
        return Tracer(cmd, timeout=60, stderr_too=True)
    except Failed as e:
        raise RuntimeError("kscope %s never printed its Tracing line: %s"
                           % (" ".join(args), e))


def stop_tracer(tr):
    # report's final report of every tool may take a while
    status, sent = tr.stop(first_wait=120)
    if sent != ["SIGINT"]:
        raise RuntimeError("tracer did not stop on SIGINT (%s)"
                           % ", ".join(sent))
    if status != 0:
        raise RuntimeError("tracer exited %d: %s"
                           % (status, tr.output().strip()[-300:]))


def md_head(first, cols):
    """a blank line and a Markdown table's head: first column, then cols
    right-aligned"""
    print()
    print("| %s | %s |" % (first, " | ".join(cols)))
    print("|---|" + "--:|" * len(cols))


def pct(v, q):
    """q-quantile of v (linear interpolation), v sorted"""
    i = q * (len(v) - 1)
    lo = int(i)
    hi = min(lo + 1, len(v) - 1)
    return v[lo] + (v[hi] - v[lo]) * (i - lo)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("-p", "--pairs", type=int, default=10)
    ap.add_argument("-t", "--secs", type=float, default=2)
    ap.add_argument("--tracers", default="report")
    ap.add_argument("--extra", action="append", default=[],
                    help="NAME=kscope arguments, e.g. 'ml64=memleak "
                    "--sample 64'; '@BINARY args' runs another program "
                    "(another build of kscope, bench/floor)")
    ap.add_argument("--workloads", default="pipe,fork,open")
    ap.add_argument("-P", "--procs", default=str(NCPU),
                    help="processes per workload, e.g. 1,2: each count "
                    "is a workload of its own, and the cost per operation "
                    "with the most over the fewest is printed (scaling)")
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--json", help="write the raw runs here")
    a = ap.parse_args()
    tracers = {}
    for name in a.tracers.split(","):
        if name:
            tracers[name] = TRACERS[name]
    for e in a.extra:
        name, _, args = e.partition("=")
        tracers[name] = args.split()
    procs = sorted({int(x) for x in a.procs.split(",")})
    wls = {k: v for k, v in workloads(a.secs, procs).items()
           if k.partition("×")[0] in a.workloads.split(",")}
    limit = 10 * a.secs + 30
    rnd = random.Random(a.seed)
    runs = []
    broken = set()
    load0 = open("/proc/loadavg").read().split()[0]
    t0 = time.monotonic()
    for pr in range(a.pairs):
        order = [(w, t) for w in wls for t in tracers]
        rnd.shuffle(order)
        for w, t in order:
            if t in broken:
                continue
            # the untraced run first in even pairs, second in odd ones:
            # a drift within a pair favours neither side
            pair = {}
            for traced in ((False, True) if pr % 2 == 0
                           else (True, False)):
                p = None
                if traced:
                    try:
                        p = start_tracer(tracers[t])
                    except RuntimeError as e:
                        print("skipping %s: %s" % (t, e), file=sys.stderr)
                        broken.add(t)
                        break
                try:
                    pair[traced] = run_workload(wls[w], limit)
                finally:
                    if p:
                        stop_tracer(p)
            if len(pair) < 2:
                continue
            r = {"pair": pr, "workload": w, "tracer": t,
                 "untraced_ops_per_s": pair[False],
                 "ops_per_s": pair[True],
                 "ratio": pair[True] / pair[False]}
            runs.append(r)
            print("pair %2d %-5s %-22s %12.1f / %12.1f ops/s = %5.1f%%" %
                  (pr, w, t, pair[True], pair[False], 100 * r["ratio"]),
                  file=sys.stderr, flush=True)
    if a.json:
        with open(a.json, "w") as f:
            for r in runs:
                f.write(json.dumps(r) + "\n")
    ratios, base = {}, {}
    for r in runs:
        ratios.setdefault((r["workload"], r["tracer"]), []).append(
            r["ratio"])
        base.setdefault(r["workload"], []).append(r["untraced_ops_per_s"])
    print("Throughput traced / untraced, median of %d pairs (each traced "
          "run beside an untraced one, %g s each) with the interquartile "
          "range; %d CPUs, load average %s at the start; %.0f s in all:" %
          (a.pairs, a.secs, NCPU, load0, time.monotonic() - t0))
    md_head("while running", [wl_label(w, procs) for w in wls])
    for t in (t for t in tracers if t not in broken):
        cells = []
        for w in wls:
            v = sorted(ratios.get((w, t), []))
            cells.append("%.0f%% (%.0f–%.0f)" % (
                100 * statistics.median(v), 100 * pct(v, .25),
                100 * pct(v, .75)) if v else "–")
        args = " ".join(tracers[t]).replace(" -d 3600", "")
        if tracers[t][0] == FLOOR and "-p" in tracers[t]:
            label = "%s: `%s` on %d hooks" % (
                t, tracers[t][tracers[t].index("-p") + 1],
                len(tracers[t]) - 5)
        elif tracers[t][0] == FLOOR:
            label = "%s: an empty program on %d hooks" % (
                t, len(tracers[t]) - 3)
        elif args.startswith("@"):
            label = "%s: `%s`" % (t, args[1:])
        else:
            label = "`kscope %s`" % args
        print("| %s | %s |" % (label, " | ".join(cells)))
    print("| (untraced, ops/s: median, min–max) | %s |" % " | ".join(
        "%.0f (%.0f–%.0f)" % (statistics.median(base[w]), min(base[w]),
                              max(base[w])) if w in base else "–"
        for w in wls))
    if len(procs) > 1:
        scaling(ratios, tracers, broken, a.workloads.split(","), procs)


def scaling(ratios, tracers, broken, names, procs):
    """what a traced operation costs with the most processes over the
    fewest: the throughput lost, (1 - ratio), per operation, relative"""
    lo, hi = procs[0], procs[-1]
    print()
    print("Cost per operation with %d processes over %d (throughput lost, "
          "1 − median ratio, at %d over at %d; 1.00: no contention "
          "between CPUs):" % (hi, lo, hi, lo))
    md_head("tracer", [LABEL[w].replace(" ×%d", "").replace(" %d", "")
                       for w in names])
    for t in (t for t in tracers if t not in broken):
        cells = []
        for w in names:
            r1 = ratios.get(("%s×%d" % (w, lo), t))
            rn = ratios.get(("%s×%d" % (w, hi), t))
            if not r1 or not rn:
                cells.append("–")
                continue
            c1 = 1 - statistics.median(r1)
            cn = 1 - statistics.median(rn)
            cells.append("%.2f (%.1f%% / %.1f%%)" % (cn / c1, 100 * cn,
                                                     100 * c1)
                         if c1 >= 0.03 else
                         "– (%.1f%% / %.1f%%: too small to divide)" %
                         (100 * cn, 100 * c1))
        print("| %s | %s |" % (t, " | ".join(cells)))


if __name__ == "__main__":
    main()
