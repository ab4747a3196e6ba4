# SPDX-License-Identifier: GPL-2.0
# tool: slabratetop
# modes: fentry kprobe tp_btf raw_tp tracepoint
# vm-modes: fentry kprobe tp_btf
# where: host vm
#
# Interval semantics of a differencing tool: 0.1 s reports of one
# slabratetop -c add up, per cache, to the single report of another (-d
# style: one report at the end, its interval as long as the run).
. "$(dirname "$0")/_lib.sh"

ks_whole slabratetop -c ks_slab_int 1000
ks_start slabratetop -c ks_slab_int 0.1
"$WL/slab_mix" ks_slab_int 100000 100000 > "$OUT/truth.json"
ks_stop
ks_whole_stop
