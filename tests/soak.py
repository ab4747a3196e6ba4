#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
"""make soak: every tool at once with 0.1 s intervals for SECONDS (default an
hour) under changing workloads (new tasks with new names, exiting
processes, files, pages, pipes, a shell whose allocations memleak follows
in user mode); each kscope's RSS and open fds sampled every few seconds.
Prints, per instance: reports read, events dropped by reason, RSS and fds
at the start of the measured part and at the end, and their least-squares
slope per hour over the part after a warm-up (the first 10%, at least
30 s) and over its second half.  Exits 1 if an instance died, stopped
reporting, grew by more than --max-rss-slope KiB/h in the second half (a
step while a table fills up to its bound is not a leak), holds more fds
at the end than after the warm-up, or dropped a stack (the stack tables
have room for far more than an interval meets).  Outside make check (root)."""
import argparse
import json
import os
import pathlib
import random
import signal
import subprocess
import sys
import threading
import time

ROOT = pathlib.Path(__file__).resolve().parent.parent
KSCOPE = os.environ.get("KSCOPE", str(ROOT / "build" / "kscope"))
sys.path.insert(0, str(ROOT / "tests" / "cases"))
import _schema  # noqa: E402
WL = ROOT / "build" / "workloads"

# the shell memleak follows in user mode: its own mallocs (dash's
# parser and variables) change with what it runs; children are not its
SHELL_LOOP = ("i=0; while :; do i=$((i+1)); v=\"$v$i\"; "
              "[ ${#v} -gt 4000 ] && v=; eval \"x$((i%50))=$i\"; "
              "echo $i > /dev/null; sleep 0.05; done")


def instances(seconds):
    ivl = "0.1"
    return {
        "kmem": ["kmem", "-j", ivl],
        "kmem-s": ["kmem", "-j", "-s", ivl],
        "kpages": ["kpages", "-j", "-s", ivl],
        "slabratetop": ["slabratetop", "-j", ivl],
        "mlock": ["mlock", "-j", "-s", ivl],
        "mheld": ["mheld", "-j", ivl],
        "spinlock": ["spinlock", "-j", ivl],
        "numamove": ["numamove", "-j", ivl],
        "workq": ["workq", "-j", "-Q", ivl],
        "memleak": ["memleak", "-j", ivl],
        "memleak-user": ["memleak", "-j", ivl, "--", "/bin/sh", "-c",
                         SHELL_LOOP],
    }


def features():
    out = subprocess.run([KSCOPE, "features", "-j"], capture_output=True,
                         text=True, check=True).stdout
    return {json.loads(l)["tool"]: json.loads(l) for l in out.splitlines()}


class Inst:
    def __init__(self, name, args):
        self.name = name
        self.p = subprocess.Popen([KSCOPE, *args], stdout=subprocess.PIPE,
                                  stderr=subprocess.PIPE)
        self.reports = 0
        self.drops = {}
        self.last_line = time.time()
        self.err = b""
        self.off_schema = 0     # lines their tool's schema refuses
        self.first_off = ""
        self.samples = []       # (t, rss KiB, fds)
        threading.Thread(target=self.read, daemon=True).start()
        threading.Thread(target=self.read_err, daemon=True).start()

    def read(self):
        for line in self.p.stdout:
            try:
                r = json.loads(line)
            except ValueError:
                self.err += b"bad JSON line: " + line[:200]
                continue
            self.reports += 1
            self.last_line = time.time()
            try:
                _schema.check_report(r, self.name)
            except AssertionError as e:
                self.off_schema += 1
                self.first_off = self.first_off or str(e)[:600]
            for k, v in r["dropped"].items():
                self.drops[k] = self.drops.get(k, 0) + v

    def read_err(self):
        for line in self.p.stderr:
            self.err += line

    def sample(self, t):
        try:
            st = pathlib.Path(f"/proc/{self.p.pid}/status").read_text()
            rss = int(st.split("VmRSS:")[1].split()[0])
            fds = len(os.listdir(f"/proc/{self.p.pid}/fd"))
        except (OSError, IndexError):
            return
        self.samples.append((t, rss, fds))


def slope(pts):
    """least-squares slope of (t, y) per hour"""
    n = len(pts)
    if n < 3:
        return float("nan")
    mt = sum(t for t, _ in pts) / n
    my = sum(y for _, y in pts) / n
    den = sum((t - mt) ** 2 for t, _ in pts)
    return sum((t - mt) * (y - my) for t, y in pts) / den * 3600 if den \
        else 0.0


class Workloads:
    """a new short-lived workload every 0.2-0.6 s, names that change"""

    def __init__(self):
        self.stop = False
        self.started = 0
        self.procs = []
        threading.Thread(target=self.run, daemon=True).start()

    def one(self, n):
        comm = f"soak{n % 997}"
        return random.choice([
            [str(WL / "opener"), comm, str(random.randint(100, 3000))],
            [str(WL / "slab_mix"), comm, str(random.randint(100, 2000)),
             str(random.randint(100, 2000))],
            [str(WL / "toucher"), comm, str(random.randint(16, 2048))],
            [str(WL / "leaker_loop"), str(random.randint(1000, 50000))],
            ["sh", "-c", "ls -R /usr/share/doc > /dev/null 2>&1 | true"],
            ["sh", "-c", "cat /proc/*/stat > /dev/null 2>&1; "
             "sync; echo 1 > /dev/null"],
            ["dd", "if=/dev/zero", "of=/dev/null", "bs=64k",
             f"count={random.randint(10, 500)}", "status=none"],
        ])

    def run(self):
        n = 0
        while not self.stop:
            self.procs = [p for p in self.procs if p.poll() is None]
            if len(self.procs) < 4:
                try:
                    self.procs.append(subprocess.Popen(
                        self.one(n), stdout=subprocess.DEVNULL,
                        stderr=subprocess.DEVNULL))
                    self.started += 1
                except OSError:
                    pass
                n += 1
            time.sleep(random.uniform(0.2, 0.6))
        for p in self.procs:
            p.kill()
            p.wait()


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--seconds", type=float, default=3600)
    ap.add_argument("--sample", type=float, default=5.0,
                    help="seconds between RSS/fd samples")
    ap.add_argument("--max-rss-slope", type=float, default=1024,
                    help="KiB per hour an instance may grow by")
    ap.add_argument("--json", help="write the figures here too")
    a = ap.parse_args()
    if os.geteuid():
        sys.exit("soak: needs root")
    feats = features()
    insts = []
    skipped = {}
    for name, args in instances(a.seconds).items():
        f = feats[args[0]]
        if not any(m["available"] for m in f["modes"].values()):
            skipped[name] = "cannot run on this kernel"
            continue
        insts.append(Inst(name, args))
    time.sleep(3)
    wl = Workloads()
    t0 = time.time()
    warm = max(30, a.seconds * 0.1)
    print(f"soak: {len(insts)} instances for {a.seconds:g} s "
          f"(skipped: {skipped or 'none'})", flush=True)
    next_print = t0 + 60
    while time.time() - t0 < a.seconds:
        t = time.time() - t0
        for i in insts:
            i.sample(t)
        if time.time() >= next_print:
            next_print += 60
            print(f"  {t:6.0f} s: " + ", ".join(
                f"{i.name} {i.samples[-1][1] if i.samples else 0} KiB"
                for i in insts), flush=True)
        time.sleep(a.sample)
    wl.stop = True
    elapsed = time.time() - t0
    fail = []
    rows = []
    for i in insts:
        alive = i.p.poll() is None
        stale = time.time() - i.last_line
        if alive:
            i.p.send_signal(signal.SIGINT)
            try:
                i.p.wait(timeout=60)
            except subprocess.TimeoutExpired:
                i.p.kill()
                i.p.wait()
        m = [s for s in i.samples if s[0] >= warm]
        rs = slope([(t, r) for t, r, _ in m])
        # a step while a table fills to its bound is not a leak: growth
        # must go on through the second half to fail
        h = [s for s in m if s[0] >= (warm + a.seconds) / 2]
        rs2 = slope([(t, r) for t, r, _ in h])
        fs = slope([(t, f) for t, _, f in m])
        row = {
            "instance": i.name, "reports": i.reports,
            "reports_per_s": round(i.reports / elapsed, 2),
            "dropped": {k: v for k, v in i.drops.items() if v},
            "rss_kib_start": m[0][1] if m else None,
            "rss_kib_end": m[-1][1] if m else None,
            "rss_kib_max": max(r for _, r, _ in m) if m else None,
            "rss_slope_kib_per_h": round(rs, 1),
            "rss_slope_2nd_half_kib_per_h": round(rs2, 1),
            "fds_start": m[0][2] if m else None,
            "fds_end": m[-1][2] if m else None,
            "fds_slope_per_h": round(fs, 2),
            "exit": i.p.returncode,
        }
        rows.append(row)
        if not alive:
            fail.append(f"{i.name} died (exit {i.p.returncode}): "
                        f"{i.err.decode(errors='replace')[-300:]}")
        elif stale > 5:
            fail.append(f"{i.name}: no report for {stale:.0f} s")
        if i.off_schema:
            fail.append(f"{i.name}: {i.off_schema} lines off their schema, "
                        f"the first: {i.first_off}")
        if rs2 > a.max_rss_slope:
            fail.append(f"{i.name}: RSS grows {rs2:.0f} KiB/h in the "
                        f"second half")
        if m and m[-1][2] > m[0][2]:
            fail.append(f"{i.name}: fds {m[0][2]} -> {m[-1][2]}")
        # a stack table holds --max-entries (10,240) stacks per 0.1 s
        # interval, far more than one interval meets here: a stack lost
        # is lost while the table had room
        if i.drops.get("stack"):
            fail.append(f"{i.name}: {i.drops['stack']} stacks dropped "
                        f"while the stack table had room")
    print(f"\nsoak ran {elapsed:.0f} s, {wl.started} workload processes; "
          f"slopes over t >= {warm:.0f} s\n")
    print(f"{'instance':14} {'reports':>8} {'rss start':>9} {'rss end':>8} "
          f"{'KiB/h':>8} {'2nd half':>8} {'fds':>7} {'fds/h':>6}  dropped")
    for r in rows:
        print(f"{r['instance']:14} {r['reports']:8} {r['rss_kib_start']!s:>9} "
              f"{r['rss_kib_end']!s:>8} {r['rss_slope_kib_per_h']:8.1f} "
              f"{r['rss_slope_2nd_half_kib_per_h']:8.1f} "
              f"{r['fds_start']!s:>3}->{r['fds_end']!s:<3} "
              f"{r['fds_slope_per_h']:6.2f}  {r['dropped'] or 'none'}")
    for s, why in skipped.items():
        print(f"{s:14} skipped: {why}")
    if a.json:
        pathlib.Path(a.json).write_text(json.dumps(
            {"seconds": elapsed, "workloads": wl.started, "warmup_s": warm,
             "instances": rows, "skipped": skipped}, indent=1) + "\n")
    for f in fail:
        print("soak: FAIL: " + f)
    return 1 if fail else 0


if __name__ == "__main__":
    sys.exit(main())
