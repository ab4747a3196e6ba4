# SPDX-License-Identifier: GPL-2.0
# tool: mlock
# modes: fentry kprobe tp_btf raw_tp tracepoint
# vm-modes: fentry kprobe tp_btf
# where: host vm
#
# Interval semantics: 0.1 s reports of one mlock add up, per lock, kind
# and comm, to the single report of another mlock watching the same
# pipe writers (counts, total time, histograms; maxima agree), so nothing
# is lost or counted twice at an interval's edge.
. "$(dirname "$0")/_lib.sh"

ks_whole mlock -c lkint
ks_start mlock -c lkint 0.1
"$WL/pipe_writers" lkint 4 2s > "$OUT/truth.json"
ks_stop
ks_whole_stop
