# SPDX-License-Identifier: GPL-2.0
# tool: kmem
# modes: tp_btf raw_tp tracepoint
# where: host vm
#
# N open() calls by one task while kmem reports every 20-50 ms: the filp
# allocations summed over every report (the final one included) are
# exactly N.  Each interval report takes its counts out of the kernel map
# element by element (read and delete in one step), so no allocation that
# lands while a report is being made is lost or counted twice.
. "$(dirname "$0")/_lib.sh"

# enough opens for many reports: the host (~2.5 us an open) gets ~20
# reports of 50 ms, a TCG guest (~10 us) ~50 of 20 ms
N=100000 IVL=0.02
[ "$KS_ENV" = host ] && N=400000 IVL=0.05
ks_start kmem -c ks_kmem_ivl $IVL
"$WL/opener" ks_kmem_ivl $N > "$OUT/truth.json"
ks_stop
