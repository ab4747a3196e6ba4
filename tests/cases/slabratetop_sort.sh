#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
# tool: slabratetop
# modes: fentry kprobe tp_btf raw_tp tracepoint
# where: host vm
#
# -s and -r: a task whose open()s and eventfd()s make filp the cache with
# the most allocations (ties broken by bytes) while names_cache's 4 KiB
# objects weigh more per object.  "-s allocs -r 1" must show filp alone,
# with the exact count; "-s bytes -r 3" at most three caches in
# decreasing bytes.  One report each (the interval outlasts the run).
. "$(dirname "$0")/_lib.sh"

ks_start slabratetop -c ks_slab_sort -s bytes -r 3 600
"$WL/slab_mix" ks_slab_sort 2000 6000 > "$OUT/truth_bytes.json"
ks_stop
for f in json err rc; do mv "$OUT/kscope.$f" "$OUT/bytes.$f"; done

ks_start slabratetop -c ks_slab_sort --sort allocs -r 1 600
"$WL/slab_mix" ks_slab_sort 2000 6000 > "$OUT/truth.json"
ks_stop
