#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
# tool: workq
# modes: tp_btf raw_tp tracepoint
# where: host vm
#
# -Q and -w: refresh_vm_stats items are queued with queue_work on the
# "events" workqueue (system_wq) by the stat_refresh writer, after kscope
# attached, so with -Q -w events every one of the N x CPUs runs has a
# queueing latency; -w events_unbound must not show the function at all.
. "$(dirname "$0")/_lib.sh"

[ -w /proc/sys/vm/stat_refresh ] || ks_skip "no /proc/sys/vm/stat_refresh"
cpus=$(tr ',' '\n' < /sys/devices/system/cpu/online |
	awk -F- '{ n += (NF == 2 ? $2 - $1 + 1 : 1) } END { print n }')
N=15
refresh() {
	i=0
	while [ $i -lt $N ]; do
		echo 1 > /proc/sys/vm/stat_refresh 2>/dev/null
		i=$((i + 1))
	done
}

ks_start workq -w events_unbound
refresh
ks_stop
for f in json err rc; do mv "$OUT/kscope.$f" "$OUT/unbound.$f"; done

ks_start workq -Q -w events
refresh
ks_stop
printf '{"writes": %d, "online_cpus": %d}\n' $N "$cpus" > "$OUT/truth.json"
