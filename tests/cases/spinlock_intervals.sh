# SPDX-License-Identifier: GPL-2.0
# tool: spinlock
# modes: tp_btf raw_tp tracepoint
# vm-modes: tp_btf
# where: host vm
#
# Interval semantics: 0.1 s reports of one spinlock add up, per lock, kind
# and comm, to the single report of another spinlock watching the same
# F_SETOWN/F_GETOWN threads (the file owner rwlock) (counts, total time, histograms; maxima agree), so nothing
# is lost or counted twice at an interval's edge.
. "$(dirname "$0")/_lib.sh"

ks_whole spinlock -c lkint
ks_start spinlock -c lkint 0.1
"$WL/lock_fown" lkint 2 2s > "$OUT/truth.json"
ks_stop
ks_whole_stop
