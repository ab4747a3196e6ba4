#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
# tool: slabratetop
# modes: fentry kprobe tp_btf raw_tp tracepoint
# where: host vm
#
# N open() calls by a task picked with -c: exactly N filp allocations of
# the filp cache's object size, summed over half-second reports (each
# report is the difference of in-kernel counters, so none is lost at an
# interval boundary), and nothing from kscope's own file opens.
. "$(dirname "$0")/_lib.sh"

ks_start slabratetop -c ks_slab_filp 0.5
"$WL/opener" ks_slab_filp 3000 > "$OUT/truth.json"
# let one more interval go by so the last reports are not all empty
sleep 0.6
ks_stop
