#!/usr/bin/python3
# SPDX-License-Identifier: GPL-2.0
"""Start-up of whole commands: exec to their "Tracing" line, and peak RSS.

  python3 bench/ready.py [-n RUNS] [--gap SECS] 'build/kscope report' \\
      '/tmp/old/build/kscope report' ...

Each command runs RUNS times, the commands interleaved (run 1 of each,
then run 2 of each, ...) so that drift hits them alike.  A run is timed
from just before exec to the first stdout or stderr line starting with
"Tracing" (kscope prints it once every probe is attached; report prints
"Tracing with N tools"), then stopped with SIGINT like Ctrl-C; its peak
resident memory is the kernel's ru_maxrss for it (VmHWM, start-up
included).  Printed per command: median, min and max of both.  Between
two runs it waits --gap seconds (default 2): a tracer's exit leaves the
kernel freeing its maps and programs for a while after (RCU, workqueues),
which would be charged to the next command's start.

bench.py measures the same for single tools beside their floors; this is
for commands it has no scenario for (kscope report, kscope export, an
older build).
"""
import argparse
import os
import shlex
import statistics
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from tracer import Failed, Tracer  # noqa: E402


def one(cmd, limit):
    try:
        tr = Tracer(cmd, timeout=limit, stderr_too=True)
    except Failed as e:
        raise RuntimeError("%s: no Tracing line within %g s: %s"
                           % (shlex.join(cmd), limit, e))
    tr.stop()
    return tr.ready_ms, tr.maxrss_kb / 1024


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("-n", "--runs", type=int, default=7)
    ap.add_argument("--gap", type=float, default=2,
                    help="seconds between two runs")
    ap.add_argument("--limit", type=float, default=30,
                    help="seconds to wait for the Tracing line")
    ap.add_argument("commands", nargs="+")
    a = ap.parse_args()
    cmds = [shlex.split(c) for c in a.commands]
    res = {c: [] for c in a.commands}
    for _ in range(a.runs):
        for text, cmd in zip(a.commands, cmds):
            res[text].append(one(cmd, a.limit))
            time.sleep(a.gap)
    print("| command | ready ms, median (min–max) | peak RSS MB, "
          "median (min–max) |")
    print("|---|--:|--:|")
    for text in a.commands:
        ms = [r[0] for r in res[text]]
        mb = [r[1] for r in res[text]]
        print("| `%s` | %.0f (%.0f–%.0f) | %.1f (%.1f–%.1f) |"
              % (text, statistics.median(ms), min(ms), max(ms),
                 statistics.median(mb), min(mb), max(mb)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
