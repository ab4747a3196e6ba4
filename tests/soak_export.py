# SPDX-License-Identifier: GPL-2.0
"""make soak: kscope export (every tool) under workloads for a long time,
scraped every second on loopback.  Reports the slope of its resident
memory and open file descriptors (least squares, after a warm-up), the
slowest scrape, and whether any counter went backwards.  Exit status 1
when a scrape took longer than --max-latency, a counter went backwards,
the exporter died, or file descriptors grew.

Not a pytest file (`make check` does not run it):
    python3 tests/soak_export.py --duration 3600 [--json OUT]
"""
import argparse
import gzip
import json
import os
import pathlib
import subprocess
import sys
import time

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parent))
from export_lib import Exporter, get  # noqa: E402

ROOT = pathlib.Path(__file__).resolve().parent.parent
WL = ROOT / "build" / "workloads"

# one round of kernel work every --every seconds: file opens (kmem,
# slab), eventfds, pipe and tty writes (locks), page touches (kpages);
# small, and niced: the machine is shared.  No writes to
# /proc/sys/vm/stat_refresh: tests running beside it count those exactly
# (the machine's own work items keep the workqueue families busy)
ROUND = [
    ["opener", "soak_open", "2000"],
    ["slab_mix", "soak_slab", "500", "200"],
    ["pipe_writers", "soak_pipe", "2", "2000"],
    ["lock_pty", "soak_pty", "2", "2000"],
    ["toucher", "soak_touch", "2000"],
]

OM = {"Accept": "application/openmetrics-text;version=1.0.0,"
                "text/plain;version=0.0.4;q=0.5", "Accept-Encoding": "gzip"}


def proc_status(pid):
    rss = None
    for line in pathlib.Path(f"/proc/{pid}/status").read_text() \
            .splitlines():
        if line.startswith("VmRSS:"):
            rss = int(line.split()[1])      # KiB
    return rss, len(os.listdir(f"/proc/{pid}/fd"))


def slope_per_hour(ts, vs):
    """Least-squares slope of vs over ts (seconds), per hour."""
    n = len(ts)
    if n < 2:
        return 0.0
    mt, mv = sum(ts) / n, sum(vs) / n
    den = sum((t - mt) ** 2 for t in ts)
    if not den:
        return 0.0
    return sum((t - mt) * (v - mv) for t, v in zip(ts, vs)) / den * 3600


def counters(text):
    """{series: value} of every counter sample of the 0.0.4 text."""
    out = {}
    for line in text.splitlines():
        if line.startswith("#") or not line:
            continue
        name = line.split("{", 1)[0].split(" ", 1)[0]
        if name.endswith(("_total", "_bucket", "_count", "_sum")) and \
                not name.startswith("kscope_memleak"):
            series, _, v = line.rpartition(" ")
            out[series] = float(v)
    return out


def run_round():
    for cmd in ROUND:
        subprocess.run(["nice", "-n", "19", str(WL / cmd[0]), *cmd[1:]],
                       stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                       timeout=60)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--duration", type=float, default=3600,
                    help="seconds (default 3600)")
    ap.add_argument("--every", type=float, default=5,
                    help="seconds between workload rounds (default 5)")
    ap.add_argument("--warmup", type=float, default=None,
                    help="seconds left out of the slopes (default: a "
                         "tenth of the duration, at most 300)")
    ap.add_argument("--max-latency", type=float, default=0.1)
    ap.add_argument("--json", help="write the figures here too")
    a = ap.parse_args()
    warm = a.warmup if a.warmup is not None else min(300, a.duration / 10)

    ex = Exporter("--interval", "1")
    t0 = time.monotonic()
    samples = []        # (t, rss KiB, fds, latency s)
    backwards = []
    series = []         # (t, sample lines in the scrape): RSS follows them
    prev = {}
    next_round = t0
    scrapes = 0
    # (t, ms, index page ms, load average) of scrapes over 50 ms
    slow = []
    err = None
    try:
        while time.monotonic() - t0 < a.duration:
            tick = time.monotonic()
            if tick >= next_round:
                run_round()
                next_round = time.monotonic() + a.every
            # alternate what Prometheus asks (OpenMetrics, gzip) and 0.0.4
            om = scrapes % 2 == 0
            s0 = time.monotonic()
            st, _, body = get(ex.url(), OM if om else None, timeout=10)
            lat = time.monotonic() - s0
            scrapes += 1
            if st != 200:
                err = f"scrape {scrapes}: HTTP {st}"
                break
            if ex.p.poll() is not None:
                err = f"kscope export exited {ex.p.returncode}"
                break
            # the index page takes no lock: slow at the same moment as
            # /metrics means the machine (CPU) was slow, not the store
            i0 = time.monotonic()
            get(ex.url("/"), timeout=10)
            ilat = time.monotonic() - i0
            rss, fds = proc_status(ex.p.pid)
            samples.append((s0 - t0, rss, fds, lat, ilat))
            if lat > 0.05:
                # the machine's state then: slow scrapes on a shared
                # machine are mostly someone else's load
                slow.append((round(s0 - t0), round(lat * 1000, 1),
                             round(ilat * 1000, 1),
                             pathlib.Path("/proc/loadavg").read_text()
                             .split()[0]))
            if not om:
                text = body.decode()
                series.append((s0 - t0, sum(
                    1 for ln in text.splitlines()
                    if ln and not ln.startswith("#"))))
                cur = counters(text)
                for k, v in cur.items():
                    if k in prev and v < prev[k]:
                        backwards.append((round(s0 - t0), k, prev[k], v))
                prev.update(cur)
            else:
                gzip.decompress(body)
            if scrapes % 60 == 0:
                print(f"{s0 - t0:7.0f}s scrapes {scrapes} rss {rss} KiB "
                      f"fds {fds} max latency "
                      f"{max(s[3] for s in samples) * 1000:.1f} ms",
                      flush=True)
            time.sleep(max(0.0, 1.0 - (time.monotonic() - tick)))
    finally:
        took = ex.stop()
    ran = time.monotonic() - t0
    after = [s for s in samples if s[0] >= warm] or samples
    lats = sorted(s[3] for s in samples)
    fig = {
        "duration_s": round(ran),
        "scrapes": scrapes,
        "warmup_s": warm,
        "rss_kib_first": samples[0][1] if samples else None,
        "rss_kib_after_warmup": after[0][1] if after else None,
        "rss_kib_last": samples[-1][1] if samples else None,
        "rss_kib_max": max(s[1] for s in samples) if samples else None,
        "rss_slope_kib_per_hour": round(slope_per_hour(
            [s[0] for s in after], [s[1] for s in after]), 1),
        "rss_slope_last_half_kib_per_hour": round(slope_per_hour(
            [s[0] for s in samples[len(samples) // 2:]],
            [s[1] for s in samples[len(samples) // 2:]]), 1),
        "series_first": series[0][1] if series else None,
        "series_after_warmup": next((n for t, n in series if t >= warm),
                                    None),
        "series_last": series[-1][1] if series else None,
        "fds_first": samples[0][2] if samples else None,
        "fds_last": samples[-1][2] if samples else None,
        "fds_max": max(s[2] for s in samples) if samples else None,
        "fds_slope_per_hour": round(slope_per_hour(
            [s[0] for s in after], [s[2] for s in after]), 2),
        "latency_ms_median": round(lats[len(lats) // 2] * 1000, 2)
        if lats else None,
        "latency_ms_p99": round(lats[int(len(lats) * 0.99)] * 1000, 2)
        if lats else None,
        "latency_ms_max": round(lats[-1] * 1000, 2) if lats else None,
        "scrapes_over_limit": sum(1 for x in lats if x > a.max_latency),
        "scrapes_over_50ms": len(slow),
        "index_latency_ms_max": round(max(s[4] for s in samples) * 1000, 2)
        if samples else None,
        "slowest_scrapes": sorted(slow, key=lambda x: -x[1])[:10],
        "loadavg_1m_end": pathlib.Path("/proc/loadavg").read_text()
        .split()[0],
        "counters_backwards": len(backwards),
        "sigterm_exit_s": round(took, 3),
        "exit_status": ex.p.returncode,
    }
    print(json.dumps(fig, indent=1))
    if a.json:
        pathlib.Path(a.json).write_text(json.dumps(fig, indent=1) + "\n")
    bad = []
    if err:
        bad.append(err)
    if fig["scrapes_over_limit"]:
        bad.append(f"{fig['scrapes_over_limit']} scrapes slower than "
                   f"{a.max_latency * 1000:.0f} ms")
    if backwards:
        bad.append(f"counters went backwards: {backwards[:5]}")
    # a scrape's own connection comes and goes: grown means the fewest
    # open in the last tenth is above the most in the first tenth
    tenth = max(1, len(after) // 10)
    if after and min(x[2] for x in after[-tenth:]) > \
            max(x[2] for x in after[:tenth]):
        bad.append(f"open fds grew after the warm-up: {after[0][2]} -> "
                   f"{after[-1][2]}")
    if ex.p.returncode != 0:
        bad.append(f"exit status {ex.p.returncode}: {ex.stderr()}")
    for b in bad:
        print(f"soak: FAIL: {b}", file=sys.stderr)
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
