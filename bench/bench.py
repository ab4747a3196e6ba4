#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
"""kscope benchmark: per-event overhead, start-up time and memory of each
kscope tool against the empty-program floor and against bpftrace.

For every tool in bench/tools.py it runs the tool's workload scenario
(bench/workload.c, one thread pinned to one CPU, fixed duration) under
each configuration -- no tracing, an empty BPF program on the same hooks
(the floor), the bpftrace program, kscope's variants -- repeats the whole
set R times in a shuffled order (interleaving cancels drift), and reports
per configuration:

  ns/event   (workload CPU time per iteration - the median untraced CPU
             time per iteration) / events per iteration, where a run's CPU
             time per iteration is that of its median chunk (1/50 of the
             run; bench/workload.c says why); the events per
             iteration come from an independent counter (bench/floor.c -c,
             a counting BPF program filtered on the workload's PID);
  x floor, x bpftrace   ratios of the medians;
  start-up   exec to the tracer's "Tracing" line (kscope prints it once
             attached; the bpftrace programs print it from BEGIN, which
             bpftrace runs after attaching every probe);
  memory     VmRSS and VmHWM of the tracer while tracing, and the memlock
             of the BPF maps it holds (kernel memory, not in RSS).

Tools marked per_hit=True in bench/tools.py -- the lock tools, whose
contention rate the tracer itself changes, and workq, whose handlers run
in kworkers, not in the workload -- get their per-event cost from the
tracer's BPF program time per hit in the kernel's run-time statistics
(BPF_ENABLE_STATS, on for those runs only), with the workload's CPU time
per iteration reported beside it.

Results go to bench/results/DATE/ (raw runs, summary, table) and to
stdout; --update-docs rewrites the table in docs/bench.md.
"""
import argparse
import ctypes
import json
import os
import platform
import random
import signal
import statistics
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
sys.path.insert(0, HERE)
from tools import TOOLS  # noqa: E402
from tracer import Failed, Tracer  # noqa: E402

BUILD = os.path.join(ROOT, "build", "bench")
WORKLOAD = os.path.join(BUILD, "workload")
FLOOR = os.path.join(BUILD, "floor")
KSCOPE = os.path.join(ROOT, "build", "kscope")
DOCS = os.path.join(ROOT, "docs", "bench.md")
BEGIN_MARK = "<!-- bench:begin -->"
END_MARK = "<!-- bench:end -->"


def log(msg):
    print(msg, file=sys.stderr, flush=True)




# ---- processes -------------------------------------------------------------

class Workload:
    """bench/workload.c, driven through its ready/go/EOF protocol."""

    def __init__(self, scenario, secs, cpu):
        self.p = subprocess.Popen(
            [WORKLOAD, "-c", str(cpu), "-t", str(secs), scenario],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE)
        line = self.p.stdout.readline().decode()
        if not line.startswith("ready "):
            self.p.kill()
            raise Failed("workload %s did not start" % scenario)
        self.pid = int(line.split()[1])

    def go(self):
        self.p.stdin.write(b"go\n")
        self.p.stdin.flush()
        line = self.p.stdout.readline().decode()
        if not line:
            raise Failed("workload died")
        return json.loads(line)

    def finish(self):
        try:
            self.p.stdin.close()
        except OSError:
            pass
        try:
            self.p.wait(10)
        except subprocess.TimeoutExpired:
            self.p.kill()
            self.p.wait()


def bpf_objects(pid, kind):
    """fdinfo fields of each BPF object of kind ("map", "prog") that pid
    holds open, one dict per object (an object open twice counts once)."""
    seen, objs = set(), []
    fddir = "/proc/%d/fd" % pid
    try:
        fds = os.listdir(fddir)
    except OSError:
        return None
    for fd in fds:
        try:
            if os.readlink(os.path.join(fddir, fd)) != "anon_inode:bpf-" + kind:
                continue
            info = dict((k, v.strip()) for k, v in (
                l.split(":", 1) for l in open("/proc/%d/fdinfo/%s" % (pid, fd))
                if ":" in l))
        except OSError:
            continue
        oid = info.get(kind + "_id", fd)
        if oid not in seen:
            seen.add(oid)
            objs.append(info)
    return objs


def bpf_map_memlock(pid):
    """Bytes of kernel memory charged to the BPF maps pid holds open."""
    maps = bpf_objects(pid, "map")
    return None if maps is None else sum(int(m.get("memlock", 0))
                                         for m in maps)


def bpf_prog_stats(pid):
    """(run_cnt, run_time_ns) summed over the BPF programs pid holds open
    (counted only while BPF run-time statistics are on)."""
    progs = bpf_objects(pid, "prog") or []
    return (sum(int(p.get("run_cnt", 0)) for p in progs),
            sum(int(p.get("run_time_ns", 0)) for p in progs))


BPF_SYSCALL = {"x86_64": 321, "aarch64": 280}
BPF_ENABLE_STATS = 32           # enum bpf_cmd
BPF_STATS_RUN_TIME = 0


class BpfStats:
    """BPF run-time statistics, on while this object's fd is open (the
    kernel turns them off again when the last such fd closes, even if we
    are killed; kernel.bpf_stats_enabled is left alone)."""

    def __init__(self):
        nr = BPF_SYSCALL.get(platform.machine())
        if nr is None:
            raise Failed("BPF run-time statistics: no bpf(2) number for %s"
                         % platform.machine())
        libc = ctypes.CDLL(None, use_errno=True)
        attr = (ctypes.c_uint32 * 4)(BPF_STATS_RUN_TIME, 0, 0, 0)
        self.fd = libc.syscall(nr, BPF_ENABLE_STATS, attr,
                               ctypes.sizeof(attr))
        if self.fd < 0:
            raise Failed("BPF run-time statistics: bpf(BPF_ENABLE_STATS): "
                         "%s" % os.strerror(ctypes.get_errno()))

    def close(self):
        os.close(self.fd)


def memory(pid):
    """A tracer's VmRSS and VmHWM (kB) now, and its BPF maps' memlock."""
    m = {}
    try:
        for line in open("/proc/%d/status" % pid):
            k, _, v = line.partition(":")
            if k in ("VmRSS", "VmHWM"):
                m[k] = int(v.split()[0])        # kB
    except OSError:
        pass
    m["bpf_map_bytes"] = bpf_map_memlock(pid)
    return m


# ---- one measurement ---------------------------------------------------------

def run_one(tool, cfg, args):
    """Workload first (so a counter can filter on its PID), then the
    tracer; the workload's timed loop starts once the tracer is ready."""
    wl = Workload(tool.scenario, args.secs, args.cpu)
    tr = stats = None
    rec = {"tool": tool.name, "config": cfg["label"]}
    try:
        if tool.per_hit and cfg["kind"] != "count":
            stats = BpfStats()
        if cfg["cmd"]:
            cmd = [c.replace("{pid}", str(wl.pid)) for c in cfg["cmd"]]
            tr = Tracer(cmd)
            rec["startup_ms"] = tr.ready_ms
        before = stats and tr and bpf_prog_stats(tr.p.pid)
        rec.update(wl.go())
        if tr:
            rec.update(memory(tr.p.pid))
        if before:
            after = bpf_prog_stats(tr.p.pid)
            rec["prog_run_cnt"] = after[0] - before[0]
            rec["prog_run_ns"] = after[1] - before[1]
    finally:
        if stats:
            stats.close()
        if tr:
            status, sent = tr.stop()
            rec["exit"] = status
            rec["stop_ms"] = tr.stop_ms
            if sent[1:]:
                rec["signals"] = sent
            if cfg["kind"] == "count":
                last = tr.output().strip().splitlines()[-1:]
                rec["events"] = json.loads(last[0])["events"] if last else 0
            if status not in (0, -signal.SIGINT) and cfg["kind"] != "none":
                rec["stderr"] = tr.stderr().strip()[-300:]
        wl.finish()
    return rec


# ---- configurations ----------------------------------------------------------

def kscope_modes():
    """tool -> (default mode, [available modes]) from `kscope features -j`."""
    out = subprocess.run([KSCOPE, "features", "-j"], capture_output=True,
                         text=True, check=True).stdout
    res = {}
    for line in out.splitlines():
        f = json.loads(line)
        avail = [m for m, v in f.get("modes", {}).items() if v["available"]]
        res[f["tool"]] = (f.get("mode"), avail)
    return res


def kscope_cmd(tool, args):
    """kscope as a user runs it: no duration, stopped with SIGINT (Ctrl-C).
    A first argument '@BINARY' runs that build of kscope instead (another
    checkout's, to compare two builds side by side in one run)."""
    if args and args[0].startswith("@"):
        return [args[0][1:], tool.command] + args[1:]
    return [KSCOPE, tool.command] + args


def kscope_stack_frames(mode):
    """Frames kscope asks the kernel for by default in mode: --stack-depth
    plus the tracing frames it strips, fewer for a classic tracepoint,
    whose walk starts at the traced function (include/ks_common.h,
    src/lib/bpf.c)."""
    import re
    n = {"KS_DEFAULT_STACK_DEPTH": 16, "KS_TRACING_FRAMES": 4,
         "KS_TRACING_FRAMES_TP": 1}
    for f in ("include/ks_common.h", "src/lib/bpf.c"):
        try:
            text = open(os.path.join(ROOT, f)).read()
        except OSError:
            continue
        for k in n:
            m = re.search(r"#define\s+%s\s+(\d+)" % k, text)
            if m:
                n[k] = int(m.group(1))
    return n["KS_DEFAULT_STACK_DEPTH"] + n[
        "KS_TRACING_FRAMES_TP" if mode == "tracepoint" else
        "KS_TRACING_FRAMES"]


def configs(tool, mode, avail, args):
    """Every configuration measured for one tool, in a fixed order."""
    if tool.uprobes:
        return uprobe_configs(tool, args)
    floor = lambda m: [FLOOR, "-m", m] + tool.hooks
    c = [{"label": "none", "kind": "none", "cmd": None},
         {"label": "floor", "kind": "floor", "mode": mode,
          "cmd": floor(mode)}]
    # bpftrace uses classic tracepoints: the floor of its mechanism; a
    # tool that takes them itself (a stack walker, ks_default_mode())
    # shows the floor of the mode it passed over
    if mode != "tracepoint":
        c.append({"label": "floor tracepoint", "kind": "floor",
                  "mode": "tracepoint", "cmd": floor("tracepoint")})
    elif "tp_btf" in avail:
        c.append({"label": "floor tp_btf", "kind": "floor",
                  "mode": "tp_btf", "cmd": floor("tp_btf")})
    # a bare stack capture, as deep as kscope -s takes by default (for
    # tools that take stacks at all)
    d = kscope_stack_frames(mode)
    if tool.stacks:
        c.append({
            "label": "floor + kstack(%d)%s" % (
                d, "" if tool.stack_hooks == tool.hooks else " on allocs"),
            "kind": "floor", "mode": mode,
            "cmd": [FLOOR, "-m", mode, "-s", str(d)] + tool.stack_hooks})
    if tool.live_floor:
        c.append({
            "label": "floor + kstack(%d) on allocs + live map" % d,
            "kind": "floor", "mode": mode,
            "cmd": [FLOOR, "-m", mode, "-l", str(d)] + tool.hooks})
    if not args.no_bpftrace:
        c.append({"label": "bpftrace", "kind": "bpftrace",
                  "cmd": ["bpftrace", "-e", tool.bpftrace]})
        for label, prog in tool.bpftrace_extra.items():
            c.append({"label": label, "kind": "bpftrace",
                      "cmd": ["bpftrace", "-e", prog]})
    c += kscope_cfgs(tool, mode, args)
    if args.ladder and mode == "tp_btf":
        for p, what in (("ladder_comm", "comm"),
                        ("ladder_hash", "comm + hash"),
                        ("ladder_atomic", "comm + hash + 3 atomics"),
                        ("ladder_pcpu", "comm + per-CPU hash"),
                        ("ladder_dcomm", "direct comm"),
                        ("ladder_dcomm_atomic",
                         "direct comm + hash + 3 atomics"),
                        ("ladder_ktime", "clock read")):
            c.append({"label": "floor + " + what, "kind": "floor",
                      "mode": mode,
                      "cmd": [FLOOR, "-m", mode, "-p", p] + tool.hooks})
    if args.full:       # the other attach modes, each with its own floor
        for m in avail:
            if m == mode:
                continue
            if m != "tracepoint":
                c.append({"label": "floor " + m, "kind": "floor", "mode": m,
                          "cmd": floor(m)})
            c.append({"label": "kscope -m " + m, "kind": "kscope", "mode": m,
                      "cmd": kscope_cmd(tool, ["-m", m])})
    return c


def kscope_cfgs(tool, mode, args):
    """The tool's kscope command lines, then its --extra ones."""
    return [{"label": label, "kind": "kscope", "mode": mode,
             "cmd": kscope_cmd(tool, a)}
            for label, a in list(tool.kscope.items()) +
            [("kscope " + e, e.split())
             for e in args.extra.get(tool.name, [])]]


def uprobe_floor(tool, *opts):
    """floor on a uprobe tool's hooks, in the workload's process."""
    return [FLOOR, "-m", "uprobe", "-P", "{pid}"] + list(opts) + tool.hooks


def uprobe_configs(tool, args):
    """A tool whose hooks are uprobes in the workload's C library: the
    bare-uprobe floor, bpftrace with its uprobes in that process only
    (-p), kscope as configured."""
    c = [{"label": "none", "kind": "none", "cmd": None},
         {"label": "floor", "kind": "floor", "mode": "uprobe",
          "cmd": uprobe_floor(tool)}]
    if not args.no_bpftrace:
        c.append({"label": "bpftrace", "kind": "bpftrace",
                  "mode": "uprobe",
                  "cmd": ["bpftrace", "-p", "{pid}", "-e", tool.bpftrace]})
    return c + kscope_cfgs(tool, "uprobe", args)


def count_cfg(tool, mode):
    if tool.uprobes:
        return {"label": "count", "kind": "count", "mode": "uprobe",
                "cmd": uprobe_floor(tool, "-c", "{pid}")}
    return {"label": "count", "kind": "count", "mode": mode,
            "cmd": [FLOOR, "-m", mode, "-c", "{pid}"] + tool.hooks}


# ---- statistics and tables ---------------------------------------------------

def ns_per_iter(rec):
    """The run's median chunk (see bench/workload.c), else its mean."""
    return rec.get("chunk_median_ns") or rec["cpu_ns"] / rec["iters"]


def summarize(tool, cfgs, runs, counts):
    ev = [c["events"] / c["total_iters"] for c in counts]
    epi = statistics.mean(ev)
    per_iter = {}                  # label -> {rep: ns per iteration}
    for r in runs:
        if "cpu_ns" in r:
            per_iter.setdefault(r["config"], {})[r["rep"]] = ns_per_iter(r)
    # the untraced baseline: the median of its runs, which are spread over
    # the whole run like every other configuration's
    base = statistics.median(per_iter["none"].values())
    rows = {}
    for cfg in cfgs:
        label = cfg["label"]
        mine = [r for r in runs if r["config"] == label]
        row = {"label": label, "kind": cfg["kind"], "mode": cfg.get("mode"),
               "runs": len(mine)}
        pi = per_iter.get(label, {})
        if pi:
            row["ns_per_iter"] = statistics.median(pi.values())
        if tool.per_hit:
            # per hit: the tracer's program time (BPF run-time statistics);
            # per iteration: the CPU time it added to the workload, all
            # side effects included
            d = [r["prog_run_ns"] / r["prog_run_cnt"] for r in mine
                 if r.get("prog_run_cnt")]
            hits = [r["prog_run_cnt"] / r["total_iters"] for r in mine
                    if r.get("prog_run_cnt")]
            if hits:
                row["hits_per_iter"] = statistics.median(hits)
            if pi and label != "none":
                row["cpu_added_per_iter"] = statistics.median(
                    pi.values()) - base
        else:
            d = [(v - base) / epi for v in pi.values()]
        if d and label != "none":
            row["ns_per_event"] = statistics.median(d)
            row["ns_min"], row["ns_max"] = min(d), max(d)
            row["ns_stdev"] = statistics.stdev(d) if len(d) > 1 else 0.0
        for key in ("startup_ms", "VmRSS", "VmHWM", "bpf_map_bytes",
                    "stop_ms"):
            v = [r[key] for r in mine if r.get(key) is not None]
            if v:
                row[key] = (max(v) if key == "VmHWM"
                            else statistics.median(v))
                if key == "startup_ms":
                    row["startup_min"], row["startup_max"] = min(v), max(v)
        bad = [r for r in mine if "error" in r or r.get("signals")
               or r.get("exit") not in (None, 0, -signal.SIGINT)]
        if bad:
            row["problems"] = len(bad)
        rows[label] = row
    floor = rows.get("floor", {}).get("ns_per_event")
    bt = rows.get("bpftrace", {}).get("ns_per_event")
    for row in rows.values():
        v = row.get("ns_per_event")
        if v is None or row["kind"] == "none":
            continue
        if floor and floor > 0:
            row["x_floor"] = v / floor
        if bt and bt > 0:
            row["x_bpftrace"] = v / bt
    return {"tool": tool.name, "scenario": tool.scenario,
            "hooks": tool.hooks, "events_per_iter": epi,
            "events_per_iter_runs": ev, "note": tool.note,
            "streams": tool.streams, "per_hit": tool.per_hit, "rows": [rows[c["label"]] for c in cfgs]}


def fmt(v, f="%.0f", none="–"):
    return none if v is None else f % v


def tool_table(s):
    out = []
    hooks = ", ".join("`%s`" % h for h in s["hooks"])
    base = next((r for r in s["rows"] if r["label"] == "none"), {})
    per_hit = s.get("per_hit")
    if per_hit:
        out.append("#### %s — workload `%s`, hooks %s, %.3f events/iteration "
                   "in the workload's own tasks" % (
                       s["tool"], s["scenario"], hooks,
                       s["events_per_iter"]))
        out.append("")
        out.append("Untraced: %s ns of the workload's CPU time per "
                   "iteration.  Per-hit cost: the tracer's BPF program time "
                   "per run (BPF run-time statistics); hits/iteration: its "
                   "runs per iteration (every CPU and task, the workload's "
                   "and any other)." % fmt(base.get("ns_per_iter")))
    else:
        out.append("#### %s — workload `%s`, hooks %s, %.2f events/iteration"
                   % (s["tool"], s["scenario"], hooks, s["events_per_iter"]))
        out.append("")
        out.append("Untraced: %s ns per iteration (%s ns per event)."
                   % (fmt(base.get("ns_per_iter")),
                      fmt(base.get("ns_per_iter", 0) /
                          s["events_per_iter"])))
    if s["note"]:
        out.append("Note: %s." % s["note"])
    out.append("")
    if per_hit:
        out.append("| configuration | mode | program ns/hit, median "
                   "| min–max | × floor | × bpftrace | hits/iteration "
                   "| CPU ns/iteration added | start-up ms, median (min–max) "
                   "| VmRSS MB | VmHWM MB | BPF maps MB |")
        out.append("|---|---|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|")
    else:
        out.append("| configuration | mode | ns/event added, median "
                   "| min–max | × floor | × bpftrace "
                   "| start-up ms, median (min–max) "
                   "| VmRSS MB | VmHWM MB | BPF maps MB |")
        out.append("|---|---|--:|--:|--:|--:|--:|--:|--:|--:|")
    for r in s["rows"]:
        if r["label"] == "none":
            continue
        mode = r.get("mode") or ("tracepoint" if r["kind"] == "bpftrace"
                                 else "")
        su = "–"
        if "startup_ms" in r:
            su = "%.0f (%.0f–%.0f)" % (r["startup_ms"], r["startup_min"],
                                       r["startup_max"])
        name = "`%s`" % r["label"]
        if r.get("problems"):
            name += " (%d runs with problems)" % r["problems"]
        extra = ""
        if per_hit:
            extra = " %s | %s |" % (fmt(r.get("hits_per_iter"), "%.3f"),
                                    fmt(r.get("cpu_added_per_iter"),
                                        "%+.0f"))
        out.append("| %s | %s | %s | %s–%s | %s | %s |%s %s | %s | %s | %s |"
                   % (
            name, mode, fmt(r.get("ns_per_event")), fmt(r.get("ns_min")),
            fmt(r.get("ns_max")), fmt(r.get("x_floor"), "%.2f"),
            fmt(r.get("x_bpftrace"), "%.3f"), extra, su,
            fmt(r.get("VmRSS") and r["VmRSS"] / 1024, "%.1f"),
            fmt(r.get("VmHWM") and r["VmHWM"] / 1024, "%.1f"),
            fmt(r.get("bpf_map_bytes") is not None
                and r["bpf_map_bytes"] / 1048576, "%.2f")))
    return "\n".join(out)


def targets(s):
    """The issue's goals, checked for one tool: (goal, measured, verdict)."""
    rows = {r["label"]: r for r in s["rows"]}
    dflt = next((r for r in s["rows"] if r["kind"] == "kscope"), None)
    stk = rows.get("kscope -s")
    bt = rows.get("bpftrace")
    floor = rows.get("floor")
    res = []
    unit = "program ns/hit" if s.get("per_hit") else "ns/event"

    def add(goal, measured, ok):
        res.append((goal, measured, "met" if ok else "**missed**"))
    if not dflt or "ns_per_event" not in dflt:
        return res
    if floor and floor.get("ns_per_event", 0) > 0:
        add("default ≤ 2× floor", "%.0f vs %.0f %s = %.1f×" % (
            dflt["ns_per_event"], floor["ns_per_event"], unit,
            dflt["x_floor"]),
            dflt["ns_per_event"] <= 2 * floor["ns_per_event"])
    if bt and bt.get("ns_per_event", 0) > 0:
        ok = dflt["ns_per_event"] <= bt["ns_per_event"] / 10
        why = ""
        if not ok and floor and floor.get("ns_per_event", 0) > 0 and (
                bt["ns_per_event"] / 10 < floor["ns_per_event"]):
            why = " (out of reach: 1/10 of bpftrace is below the floor)"
        add("default ≤ 1/10 of bpftrace", "%.0f vs %.0f %s = 1/%.1f%s"
            % (dflt["ns_per_event"], bt["ns_per_event"], unit,
               bt["ns_per_event"] / max(dflt["ns_per_event"], 1e-9), why),
            ok)
        if stk and stk.get("ns_per_event") is not None:
            add("`-s` ≤ 0.7× bpftrace", "%.0f vs %.0f %s = %.2f×" % (
                stk["ns_per_event"], bt["ns_per_event"], unit,
                stk["x_bpftrace"]),
                stk["ns_per_event"] <= 0.7 * bt["ns_per_event"])
        if bt.get("startup_ms") and dflt.get("startup_ms"):
            add("start-up < ½ bpftrace's", "%.0f vs %.0f ms" % (
                dflt["startup_ms"], bt["startup_ms"]),
                dflt["startup_ms"] < bt["startup_ms"] / 2)
    if dflt.get("VmRSS"):
        add("< 10 MB resident", "%.1f MB (bpftrace %s MB)" % (
            dflt["VmRSS"] / 1024,
            fmt(bt and bt.get("VmRSS") and bt["VmRSS"] / 1024, "%.0f")),
            dflt["VmRSS"] < 10 * 1024)
    return res


def targets17(s):
    """Issue 17's per-event and memory goals for one tool: (goal, measured,
    verdict).  Per tool: kmem ≤ 2× its floor; kpages ≤ 1.0× bpftrace and
    ≤ 1.15× the floor with a stack walk; memleak (kernel) ≤ 1.1× the floor
    with a stack on allocations; the lock tools ≤ 2.5× the empty program
    per hit; every tool's peak RSS (VmHWM) ≤ 12 MB."""
    rows = {r["label"]: r for r in s["rows"]}
    dflt = next((r for r in s["rows"] if r["kind"] == "kscope"), None)
    floor = rows.get("floor")
    kstack = next((r for r in s["rows"] if r["kind"] == "floor" and
                   r["label"].startswith("floor + kstack") and
                   "live" not in r["label"]), None)
    live = next((r for r in s["rows"] if r["kind"] == "floor" and
                 r["label"].endswith("+ live map")), None)
    bt = rows.get("bpftrace")
    unit = "program ns/hit" if s.get("per_hit") else "ns/event"
    res = []
    if not dflt or "ns_per_event" not in dflt:
        return res

    def ratio(goal, ref, most):
        if not ref or ref.get("ns_per_event", 0) <= 0:
            return
        x = dflt["ns_per_event"] / ref["ns_per_event"]
        res.append((goal, "%.0f vs %.0f %s = %.2f×" % (
            dflt["ns_per_event"], ref["ns_per_event"], unit, x),
            "met" if x <= most else "**missed**"))
    tool = s["tool"]
    if tool == "kmem":
        ratio("default ≤ 2× floor", floor, 2.0)
    elif tool == "kpages":
        ratio("default ≤ 1.0× bpftrace", bt, 1.0)
        ratio("default ≤ 1.15× %s" % (kstack or {}).get("label"), kstack,
              1.15)
    elif tool == "memleak":
        ratio("default ≤ 1.1× %s" % (kstack or {}).get("label"), kstack,
              1.1)
        # the limit: a leak tracer's own floor also keeps the live blocks
        if res and live and kstack and kstack.get("ns_per_event", 0) > 0:
            lx = live["ns_per_event"] / kstack["ns_per_event"]
            if res[-1][2] != "met" and lx > 1.1:
                res[-1] = (res[-1][0], res[-1][1] + " (out of reach: the "
                           "live-block map alone makes %.2f×)" % lx,
                           res[-1][2])
        ratio("default ≤ 1.1× %s" % (live or {}).get("label"), live, 1.1)
    elif tool == "memleak-user":
        ratio("default ≤ 1.5× the bare-uprobe floor", floor, 1.5)
    elif tool in ("mlock", "spinlock"):
        ratio("default ≤ 2.5× floor", floor, 2.5)
    if dflt.get("VmHWM"):
        res.append(("peak RSS ≤ 12 MB", "%.1f MB" % (dflt["VmHWM"] / 1024),
                    "met" if dflt["VmHWM"] <= 12 * 1024 else "**missed**"))
    return res


def machine():
    cpu = "?"
    for line in open("/proc/cpuinfo"):
        if line.startswith("model name"):
            cpu = line.split(":", 1)[1].strip()
            break
    mem = 0
    for line in open("/proc/meminfo"):
        if line.startswith("MemTotal"):
            mem = int(line.split()[1]) // 1024
    bt = subprocess.run(["bpftrace", "--version"], capture_output=True,
                        text=True).stdout.strip()
    rev = subprocess.run(["git", "-C", ROOT, "describe", "--always",
                          "--dirty"], capture_output=True,
                         text=True).stdout.strip()
    return {"cpu": cpu, "cpus": os.cpu_count(), "mem_mb": mem,
            "kernel": platform.release(), "bpftrace": bt or "not installed",
            "kscope": rev or "?",
            "date": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()),
            "load": os.getloadavg()}


def report(meta, sums):
    m = meta["machine"]
    out = []
    out.append("Measured %s on %s (%d CPUs, %d MB), kernel %s, %s, kscope %s; "
               "command `%s`; %d repeats × %.1f s per configuration, "
               "workload pinned to CPU %d; load average at start %.2f."
               % (m["date"], m["cpu"], m["cpus"], m["mem_mb"], m["kernel"],
                  m["bpftrace"], m["kscope"], meta["command"],
                  meta["repeats"], meta["secs"], meta["cpu"], m["load"][0]))
    for s in sums:
        out.append("")
        out.append(tool_table(s))
    for title, check in (("Targets (issue 17)", targets17),
                         ("Targets (issue 7)", targets)):
        out.append("")
        out.append("#### " + title)
        out.append("")
        out.append("| tool | goal | measured | |")
        out.append("|---|---|---|---|")
        for s in sums:
            for goal, measured, verdict in check(s):
                out.append("| %s | %s | %s | %s |" % (s["tool"], goal,
                                                       measured, verdict))
    streams = [s["tool"] for s in sums if s["streams"]]
    out.append("")
    out.append("Events per second sustained before drops: %s." % (
        "see the per-tool notes" if streams else
        "not applicable — none of these tools streams events to user space "
        "(all aggregate in kernel maps)"))
    return "\n".join(out)


def update_docs(table):
    text = open(DOCS).read()
    a, b = text.find(BEGIN_MARK), text.find(END_MARK)
    if a < 0 or b < a:
        raise Failed("%s has no %s ... %s section" % (DOCS, BEGIN_MARK,
                                                       END_MARK))
    text = text[:a + len(BEGIN_MARK)] + "\n" + table + "\n" + text[b:]
    with open(DOCS, "w") as f:
        f.write(text)


# ---- main ----------------------------------------------------------------------

def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("-r", "--repeats", type=int, default=7)
    ap.add_argument("-t", "--secs", type=float, default=0.5,
                    help="timed workload seconds per run (default 0.5)")
    ap.add_argument("--tools", help="comma-separated subset of: " +
                    ", ".join(t.name for t in TOOLS))
    ap.add_argument("--cpu", type=int, default=os.cpu_count() - 1,
                    help="CPU the workload is pinned to (default: last)")
    ap.add_argument("--full", action="store_true",
                    help="also every other attach mode kscope can use here")
    ap.add_argument("--ladder", action="store_true",
                    help="also the floor plus one piece of an aggregating "
                    "handler at a time (comm, hash map, atomics, per-CPU "
                    "hash, clock read)")
    ap.add_argument("--no-bpftrace", action="store_true")
    ap.add_argument("--extra", action="append", default=[],
                    metavar="TOOL:ARGS", help="also measure `kscope TOOL "
                    "ARGS`, e.g. --extra 'kmem:-s --stack-depth 8' "
                    "(repeatable); 'kmem:@BINARY ARGS' runs another "
                    "build of kscope")
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--out", help="results directory (default "
                    "bench/results/DATE)")
    ap.add_argument("--update-docs", action="store_true",
                    help="replace the results table in docs/bench.md")
    ap.add_argument("--from", dest="src", metavar="DIR",
                    help="measure nothing: make the tables again from the "
                    "results in DIR (e.g. after changing how they are "
                    "summarized)")
    args = ap.parse_args()
    if args.src:
        return resummarize(args)
    if os.geteuid() != 0:
        log("bench: needs root (loads BPF programs)")
        return 1
    if args.repeats < 2:
        ap.error("--repeats must be at least 2")
    extra = {}
    for e in args.extra:
        name, sep, rest = e.partition(":")
        if not sep or not rest.strip():
            ap.error("--extra wants TOOL:ARGS, got %r" % e)
        extra.setdefault(name, []).append(rest.strip())
    args.extra = extra
    for f in (WORKLOAD, FLOOR, KSCOPE):
        if not os.access(f, os.X_OK):
            log("bench: %s missing: run `make bench`" % f)
            return 1
    if not args.no_bpftrace and subprocess.run(
            ["sh", "-c", "command -v bpftrace"],
            capture_output=True).returncode:
        log("bench: bpftrace not installed; use --no-bpftrace or install it")
        return 1
    want = args.tools.split(",") if args.tools else None
    unknown = set(want or []) - {t.name for t in TOOLS}
    if unknown:
        ap.error("no bench entry for %s (bench/tools.py has: %s)" % (
            ", ".join(sorted(unknown)), ", ".join(t.name for t in TOOLS)))
    ksmodes = kscope_modes()
    tools = []
    for t in TOOLS:
        if want and t.name not in want:
            continue
        if t.command not in ksmodes:
            log("bench: %s: not in this kscope build, skipped" % t.name)
            continue
        if ksmodes[t.command][0] is None or (
                t.uprobes and "uprobe" not in ksmodes[t.command][1]):
            log("bench: %s: cannot run on this kernel, skipped" % t.name)
            continue
        tools.append(t)
    if not tools:
        log("bench: no tools to measure")
        return 1

    stamp = time.strftime("%Y%m%d-%H%M%S")
    outdir = args.out or os.path.join(HERE, "results", stamp)
    os.makedirs(outdir, exist_ok=True)
    meta = {"machine": machine(), "repeats": args.repeats,
            "secs": args.secs, "cpu": args.cpu, "seed": args.seed,
            "command": os.environ.get("BENCH_COMMAND",
                                      "python3 bench/bench.py " +
                                      " ".join(sys.argv[1:])).strip()}
    if meta["machine"]["load"][0] > 0.5:
        log("bench: warning: load average %.2f, numbers will be noisier"
            % meta["machine"]["load"][0])
    cfgs = {t.name: configs(t, ksmodes[t.command][0],
                            ksmodes[t.command][1], args)
            for t in tools}
    plan = [(t, c) for t in tools for c in cfgs[t.name]]
    with open(os.path.join(outdir, "plan.json"), "w") as f:
        json.dump({"meta": meta, "configs": cfgs}, f, indent=1)
    log("bench: %d tools, %d configurations, %d repeats, %.1f s each; "
        "results in %s" % (len(tools), len(plan), args.repeats, args.secs,
                           outdir))
    runs, counts = [], {t.name: [] for t in tools}
    rawf = open(os.path.join(outdir, "runs.jsonl"), "w")
    t_start = time.monotonic()

    def record(rec):
        rawf.write(json.dumps(rec) + "\n")
        rawf.flush()

    def count(t):
        rec = run_one(t, count_cfg(t, ksmodes[t.command][0]), args)
        rec["rep"] = "count"
        record(rec)
        counts[t.name].append(rec)
        log("  %-8s count: %d events in %d iterations = %.3f per iteration"
            % (t.name, rec["events"], rec["total_iters"],
               rec["events"] / rec["total_iters"]))

    for t in tools:
        count(t)
    for rep in range(args.repeats):
        order = list(plan)
        random.Random(args.seed + rep).shuffle(order)
        for t, c in order:
            try:
                rec = run_one(t, c, args)
            except Failed as e:
                rec = {"tool": t.name, "config": c["label"], "error": str(e)}
                log("  %-8s %-26s FAILED: %s" % (t.name, c["label"], e))
            rec["rep"] = rep
            record(rec)
            runs.append(rec)
            if "cpu_ns" in rec:
                log("  [%d/%d] %-8s %-26s %7.0f ns/iter%s" % (
                    rep + 1, args.repeats, t.name, c["label"],
                    ns_per_iter(rec),
                    "  ready %.0f ms" % rec["startup_ms"]
                    if "startup_ms" in rec else ""))
    for t in tools:
        count(t)
    rawf.close()
    meta["elapsed_s"] = time.monotonic() - t_start
    return finish(meta, tools, cfgs, runs, counts, outdir, args)


def resummarize(args):
    """--from DIR: the tables again from a run's plan.json and runs.jsonl."""
    plan = json.load(open(os.path.join(args.src, "plan.json")))
    meta, cfgs = plan["meta"], plan["configs"]
    tools = [t for t in TOOLS if t.name in cfgs]
    runs, counts = [], {t.name: [] for t in tools}
    for line in open(os.path.join(args.src, "runs.jsonl")):
        r = json.loads(line)
        if r.get("rep") == "count":
            counts[r["tool"]].append(r)
        elif r["tool"] in counts:
            runs.append(r)
    return finish(meta, tools, cfgs, runs, counts, args.src, args)


def finish(meta, tools, cfgs, runs, counts, outdir, args):
    sums = [summarize(t, cfgs[t.name], [r for r in runs
                                        if r["tool"] == t.name],
                      counts[t.name]) for t in tools]
    for s in sums:
        ev = s["events_per_iter_runs"]
        # contention moves by itself; the per-hit tables do not rely on it
        if not s.get("per_hit") and max(ev) > min(ev) * 1.02:
            log("bench: warning: %s events/iteration moved between counts: "
                "%s" % (s["tool"], ", ".join("%.3f" % e for e in ev)))
    table = report(meta, sums)
    with open(os.path.join(outdir, "summary.json"), "w") as f:
        json.dump({"meta": meta, "tools": sums}, f, indent=1)
    with open(os.path.join(outdir, "table.md"), "w") as f:
        f.write(table + "\n")
    print(table)
    log("bench: done in %.0f s; raw runs, summary.json and table.md in %s"
        % (meta.get("elapsed_s", 0), outdir))
    if args.update_docs:
        update_docs(table)
        log("bench: updated %s" % DOCS)
    return 0


if __name__ == "__main__":
    try:
        sys.exit(main())
    except Failed as e:
        log("bench: %s" % e)
        sys.exit(1)
