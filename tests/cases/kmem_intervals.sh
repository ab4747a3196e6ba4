# SPDX-License-Identifier: GPL-2.0
# tool: kmem
# modes: tp_btf raw_tp tracepoint
# where: host vm
#
# N open() calls by one task while kmem reports every 50 ms: the filp
# allocations summed over every report (the final one included) are
# exactly N.  Each interval report takes its counts out of the kernel map
# element by element (read and delete in one step), so no allocation that
# lands while a report is being made is lost or counted twice.
. "$(dirname "$0")/_lib.sh"

# enough opens for many reports: a host opens a file in ~2 us, a TCG
# guest in ~50 us
N=20000
[ "$KS_ENV" = host ] && N=400000
ks_start kmem -c ks_kmem_ivl 0.05
"$WL/opener" ks_kmem_ivl $N > "$OUT/truth.json"
ks_stop
