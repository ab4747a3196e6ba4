#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
"""Macro cost: what a tracer takes from whole workloads' throughput.

  python3 bench/macro.py [-r ROUNDS] [-t SECS] [--tracers report,memleak,...]
                         [--extra 'NAME=kscope ARGS'] [--json FILE]

Workloads (each as many processes as CPUs): `stress-ng --pipe N`,
`stress-ng --fork N` (bogo-ops/s, real time, from stress-ng's --yaml
output) and an open/close loop (`build/bench/workload -T SECS open`,
operations/s).  Each round runs every (workload, tracer) pair once, tracer
"none" included, in a shuffled order (seeded), so drift and the other
users of the machine hit every configuration alike; a tracer is started
first and the workload only once it printed its `Tracing` line, then the
tracer is stopped with SIGINT.  Reported: per workload and tracer the
median throughput over the rounds relative to the median untraced one.
Run as root from the repo root, after `make` and `make -f bench/bench.mk`.
"""
import argparse
import json
import os
import random
import re
import signal
import statistics
import subprocess
import sys
import tempfile
import time

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


def workloads(secs):
    n = str(NCPU)
    return {
        "pipe": ["stress-ng", "--pipe", n, "-t", str(secs),
                 "--metrics-brief"],
        "fork": ["stress-ng", "--fork", n, "-t", str(secs),
                 "--metrics-brief"],
        "open": [WL, "-T", str(secs), "open"],
    }


def run_workload(cmd):
    """Throughput of one workload run, operations per second."""
    if cmd[0] == "stress-ng":
        with tempfile.NamedTemporaryFile(suffix=".yaml") as y:
            subprocess.run(cmd + ["--yaml", y.name], check=True,
                           stdout=subprocess.DEVNULL,
                           stderr=subprocess.DEVNULL)
            text = open(y.name).read()
        m = re.search(r"bogo-ops-per-second-real-time:\s*([0-9.]+)", text)
        if not m:
            raise RuntimeError("no bogo-ops/s in stress-ng's YAML")
        return float(m.group(1))
    out = subprocess.run(cmd, check=True, capture_output=True, text=True)
    return json.loads(out.stdout.splitlines()[-1])["ops_per_s"]


def start_tracer(args):
    cmd = [args[0][1:]] + args[1:] if args[0].startswith("@") \
        else [KSCOPE] + args
    p = subprocess.Popen(cmd, stdout=subprocess.PIPE,
                         stderr=subprocess.STDOUT, text=True)
    t0 = time.monotonic()
    for line in p.stdout:
        if line.startswith("Tracing"):
            return p
        if time.monotonic() - t0 > 60:
            break
    p.kill()
    raise RuntimeError("kscope %s never printed its Tracing line"
                       % " ".join(args))


def stop_tracer(p):
    p.send_signal(signal.SIGINT)
    try:
        out, _ = p.communicate(timeout=120)
    except subprocess.TimeoutExpired:
        p.kill()
        p.communicate()
        raise RuntimeError("tracer did not stop on SIGINT")
    if p.returncode != 0:
        raise RuntimeError("tracer exited %d" % p.returncode)
    return out


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("-r", "--rounds", type=int, default=3)
    ap.add_argument("-t", "--secs", type=float, default=3)
    ap.add_argument("--tracers", default="report")
    ap.add_argument("--extra", action="append", default=[],
                    help="NAME=kscope arguments, e.g. 'ml64=memleak "
                    "--sample 64'; '@BINARY args' runs another build "
                    "of kscope")
    ap.add_argument("--workloads", default="pipe,fork,open")
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--json", help="write the raw runs here")
    a = ap.parse_args()
    tracers = {"none": None}
    for name in a.tracers.split(","):
        if name:
            tracers[name] = TRACERS[name]
    for e in a.extra:
        name, _, args = e.partition("=")
        tracers[name] = args.split()
    wls = {k: v for k, v in workloads(a.secs).items()
           if k in a.workloads.split(",")}
    rnd = random.Random(a.seed)
    runs = []
    broken = set()
    for rd in range(a.rounds):
        order = [(w, t) for w in wls for t in tracers]
        rnd.shuffle(order)
        for w, t in order:
            if t in broken:
                continue
            try:
                p = start_tracer(tracers[t]) if tracers[t] else None
            except RuntimeError as e:
                print("skipping %s: %s" % (t, e), file=sys.stderr)
                broken.add(t)
                continue
            try:
                ops = run_workload(wls[w])
            finally:
                if p:
                    stop_tracer(p)
            runs.append({"round": rd, "workload": w, "tracer": t,
                         "ops_per_s": ops})
            print("round %d %-5s %-12s %12.1f ops/s" % (rd, w, t, ops),
                  file=sys.stderr, flush=True)
    if a.json:
        with open(a.json, "w") as f:
            for r in runs:
                f.write(json.dumps(r) + "\n")
    med = {}
    for r in runs:
        med.setdefault((r["workload"], r["tracer"]), []).append(
            r["ops_per_s"])
    med = {k: statistics.median(v) for k, v in med.items()}
    print("Throughput relative to untraced (median of %d rounds, %g s "
          "each, %d CPUs, load average %s):" %
          (a.rounds, a.secs, NCPU, open("/proc/loadavg").read().split()[0]))
    print()
    print("| while running | " + " | ".join(
        {"pipe": "stress-ng --pipe %d" % NCPU,
         "fork": "stress-ng --fork %d" % NCPU,
         "open": "open/close loop ×%d" % NCPU}[w] for w in wls) + " |")
    print("|---|" + "--:|" * len(wls))
    for t in tracers:
        if t == "none" or t in broken:
            continue
        cells = ["%.0f%%" % (100 * med[(w, t)] / med[(w, "none")])
                 for w in wls]
        args = " ".join(tracers[t]).replace(" -d 3600", "")
        if args.startswith("@"):
            label = "%s: `%s`" % (t, args[1:])
        else:
            label = "`kscope %s`" % args
        print("| %s | %s |" % (label, " | ".join(cells)))
    print("| (untraced, ops/s) | %s |" % " | ".join(
        "%.0f" % med[(w, "none")] for w in wls))


if __name__ == "__main__":
    main()
