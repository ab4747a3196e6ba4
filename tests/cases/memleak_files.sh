#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
# tool: memleak
# modes: tp_btf raw_tp tracepoint
# where: host vm
#
# Kernel mode: leaker_files holds M open files for a while, then closes
# them.  Half-second reports while they are held must show at least M
# outstanding filp-sized allocations from the open path, and the report
# after they were closed none (their frees are seen, even when an RCU
# callback does them in another task: frees are never filtered).
. "$(dirname "$0")/_lib.sh"

# beside it, 1 in 2 allocations tracked: the frees of those must all be
# matched too (with sampling a free looks its block up before deleting
# it: a lookup that misses must never be a tracked block's).  Only in
# the modes whose programs have a guard of their own (tp_btf, raw_tp):
# a classic tracepoint's program does not run while any other kprobe or
# tracepoint program runs on that CPU, and kernels before 6.7 count
# those skips nowhere (docs/memleak.md); a second instance's stack walks
# widen that window (6.1, tracepoint: 9 of 500 frees, done by an RCU
# callback, never seen in one fresh check)
sampled=
case "$MODE" in
tp_btf | raw_tp) sampled=sampled ;;
esac
[ -z "$sampled" ] || ks_bg sampled memleak -c leaker_files --sample 2 0.5
ks_start memleak -c leaker_files 0.5
# held 5 s: a report's first symbol lookup reads /proc/kallsyms, which
# under TCG, with two kscopes reading it at once, held both instances'
# interval reports up for 3.3 s (6.12, raw_tp): with 3 s the sampled
# one had no report while the files were held
"$WL/leaker_files" 500 5000 "$OUT/truth.json"
sleep 1
ks_stop
[ -z "$sampled" ] || ks_bg_stop sampled
