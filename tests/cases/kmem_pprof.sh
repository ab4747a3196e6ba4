#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
# tool: kmem
# modes: tp_btf
# where: host
#
# kmem --pprof (it implies -s) beside -j: N opens by one task; go tool
# pprof's totals of alloc_objects and alloc_space equal the JSON report's,
# and the stacks through the filp allocation site hold one allocation per
# open.  With an interval the file holds the last report: its totals are
# the last JSON line's.
. "$(dirname "$0")/_lib.sh"

ks_start kmem --pprof "$OUT/kmem.pb.gz" -c ks_kmem_pp
"$WL/opener" ks_kmem_pp 20000 > "$OUT/truth.json"
ks_stop

mv "$OUT/kscope.json" "$OUT/run.json"
mv "$OUT/kscope.rc" "$OUT/run.rc"
ks_start kmem --pprof "$OUT/last.pb.gz" -c ks_kmem_pp 0.05
"$WL/opener" ks_kmem_pp 100000 > "$OUT/truth-ivl.json"
ks_stop
mv "$OUT/kscope.json" "$OUT/ivl.json"
mv "$OUT/kscope.rc" "$OUT/ivl.rc"
