#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
# tool: workq
# modes: tp_btf raw_tp tracepoint
# where: host vm
#
# Each write to /proc/sys/vm/stat_refresh runs refresh_vm_stats once on
# every online CPU (schedule_on_each_cpu) and returns when all have run,
# so N writes are exactly N x online CPUs executions of refresh_vm_stats,
# a function nothing else queues.  Histogram totals must equal counts.
. "$(dirname "$0")/_lib.sh"

[ -w /proc/sys/vm/stat_refresh ] || ks_skip "no /proc/sys/vm/stat_refresh"
# online CPUs from the kernel's own list ("0-1", "0,2-3", ...)
cpus=$(tr ',' '\n' < /sys/devices/system/cpu/online |
	awk -F- '{ n += (NF == 2 ? $2 - $1 + 1 : 1) } END { print n }')
N=25

ks_start workq
i=0
while [ $i -lt $N ]; do
	# a write may report EINVAL about a negative counter: it ran anyway
	echo 1 > /proc/sys/vm/stat_refresh 2>/dev/null
	i=$((i + 1))
done
ks_stop
printf '{"writes": %d, "online_cpus": %d}\n' $N "$cpus" > "$OUT/truth.json"
