#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# VM self-test: is this the two-node NUMA VM, and does NUMA balancing really
# migrate pages in it?  numamove's VM tests rely on both.  Host side check:
# numa.py beside this file.
#
# tool: none
# where: numa
# timeout: 120
#
# Knobs (see tests/vm/README.md): kernel.numa_balancing=1 is a sysctl on
# both 6.1 and 6.12; the scan timing knobs left sysctl for debugfs in 5.13
# (sched/numa_balancing/), so write whichever exists.

set -u
: "${OUT:?}"
NT=$(dirname "$0")/bin/numa_touch

uname -r >"$OUT/kernel"
# PREEMPT_RT kernels have no NUMA balancing (Debian's 6.12-rt: the
# kernel.numa_balancing sysctl is absent): nothing to migrate pages
if [ ! -e /proc/sys/kernel/numa_balancing ]; then
	echo "no kernel.numa_balancing on $(uname -r) (CONFIG_NUMA_BALANCING off)" >"$OUT/skip"
	exit 77
fi
ls -d /sys/devices/system/node/node[0-9]* 2>/dev/null | wc -l >"$OUT/nodes"
cat /sys/devices/system/node/node1/cpulist >"$OUT/node1_cpus" 2>/dev/null

knob() { # NAME VALUE: first existing path wins, recorded in knobs.txt
	for p in /sys/kernel/debug/sched/numa_balancing/$1 \
		/proc/sys/kernel/numa_balancing_$1; do
		if [ -w "$p" ]; then
			echo "$2" >"$p" && echo "$p=$(cat "$p")" >>"$OUT/knobs.txt"
			return 0
		fi
	done
	echo "$1: no knob" >>"$OUT/knobs.txt"
}
# off while numa_touch places its pages and counts them; it turns balancing
# on itself (-B) before touching them from the other node
echo 0 >/proc/sys/kernel/numa_balancing
knob scan_delay_ms 100
knob scan_period_min_ms 100
knob scan_period_max_ms 1000
knob scan_size_mb 256

vm() { awk -v k="$1" '$1 == k { print $2 }' /proc/vmstat; }
b=$(vm numa_pages_migrated)
bh=$(vm numa_hint_faults)
$NT -m 128 -f 1 -c 0 -s 12 -B >"$OUT/numa_touch.txt" || exit 1
echo "/proc/sys/kernel/numa_balancing=$(cat /proc/sys/kernel/numa_balancing)" >>"$OUT/knobs.txt"
a=$(vm numa_pages_migrated)
ah=$(vm numa_hint_faults)
echo $((a - b)) >"$OUT/numa_pages_migrated"
echo $((ah - bh)) >"$OUT/numa_hint_faults"
grep -E '^(numa_|pgmigrate_)' /proc/vmstat >"$OUT/vmstat_after"
exit 0
