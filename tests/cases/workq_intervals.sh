# SPDX-License-Identifier: GPL-2.0
# tool: workq
# modes: tp_btf raw_tp tracepoint
# where: host vm
#
# Interval semantics of a differencing tool: 0.1 s reports of one workq
# add up to the single report of another for the work items the writes to
# /proc/sys/vm/stat_refresh queue (refresh_vm_stats, one per CPU each).
. "$(dirname "$0")/_lib.sh"

[ -w /proc/sys/vm/stat_refresh ] || ks_skip "no /proc/sys/vm/stat_refresh"
ks_whole workq
ks_start workq 0.1
i=0
while [ $i -lt 60 ]; do
	echo 1 > /proc/sys/vm/stat_refresh 2>/dev/null
	i=$((i + 1))
	[ $((i % 10)) -eq 0 ] && sleep 0.1
done
ks_stop
ks_whole_stop
