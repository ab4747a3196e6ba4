#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
# tool: kmem
# modes: tp_btf
# where: host
#
# kmem --folded (it implies -s): N opens by one task are N filp
# allocations, each under the filp allocation site.  One run reports every
# 20 ms with --weight count (one "# time" block per report, the counts of
# all blocks adding up to N); one reports once, in bytes (N x the filp
# cache's object size).
. "$(dirname "$0")/_lib.sh"

ks_start_to count.folded kmem --folded --weight count -c ks_kmem_fold 0.02
"$WL/opener" ks_kmem_fold 50000 > "$OUT/truth-count.json"
ks_stop
mv "$OUT/kscope.rc" "$OUT/count.rc"
mv "$OUT/kscope.err" "$OUT/count.err"

ks_start_to kscope.folded kmem --folded -c ks_kmem_fold
"$WL/opener" ks_kmem_fold 20000 > "$OUT/truth.json"
ks_stop
