#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
# tool: numamove
# modes: fentry kprobe tp_btf raw_tp tracepoint
# where: numa
# timeout: 240
#
# Real NUMA-misplaced migrations in the two-node VM: a task faults 64 MiB
# in on node 1, then touches it from a CPU of node 0 with NUMA balancing
# on.  kscope's pages, summed over its interval reports, must agree with
# the numa_pages_migrated delta of /proc/vmstat read just after kscope
# attached and just before it stops (see numamove_far.py for the
# tolerance).  Everything else runs pinned to node 0's CPU with node-0
# memory, so only the workload's pages are misplaced.
. "$(dirname "$0")/_lib.sh"

nodes=$(ls -d /sys/devices/system/node/node[0-9]* 2>/dev/null | wc -l)
[ "$nodes" -ge 2 ] || ks_skip "needs two NUMA nodes, this machine has $nodes"
[ -w /proc/sys/kernel/numa_balancing ] ||
	ks_skip "no kernel.numa_balancing (CONFIG_NUMA_BALANCING off)"
cpu0=$(cut -d, -f1 /sys/devices/system/node/node0/cpulist | cut -d- -f1)
taskset -p -c "$cpu0" $$ >/dev/null 2>&1 || ks_skip "cannot pin to CPU $cpu0"

ks_numa_balance
old=$KS_NUMA_OLD

vm() { awk -v k="$1" '$1 == k { print $2 }' /proc/vmstat; }
ks_start numamove 0.5
v0=$(vm numa_pages_migrated)
"$WL/numa_far" ks_numa_far 64 1 "$cpu0" 8 > "$OUT/truth.json"
rc=$?
v1=$(vm numa_pages_migrated)
ks_stop
echo "$old" > /proc/sys/kernel/numa_balancing
[ $rc = 0 ] || exit 1
printf '{"before": %s, "after": %s, "nodes": %s}\n' "$v0" "$v1" "$nodes" \
	> "$OUT/vmstat.json"
