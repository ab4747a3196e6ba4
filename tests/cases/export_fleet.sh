#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
# tool: export
# where: fleet
# timeout: 400
#
# One machine of the fleet test (tests/test_vm_fleet.py): kscope export
# serves this guest's metrics on port 9961, which QEMU forwards to a port
# on the host's loopback where the host's Prometheus scrapes it.  The
# guest makes known work: NUMA-misplaced migrations (numa_far, ground
# truth /proc/vmstat numa_pages_migrated read after export attached and
# after the workload) and ks.fleet_writes writes to
# /proc/sys/vm/stat_refresh (refresh_vm_stats runs once per CPU for each),
# then sends that truth to the host on the results port
# ("KSCOPE-FLEET-TRUTH {json}") and keeps serving for ks.fleet_hold
# seconds while the host compares.
. "$(dirname "$0")/_lib.sh"

param() {
	sed -n "s/.*[[:space:]]ks\.$1=\([^[:space:]]*\).*/\1/p" /proc/cmdline |
		tail -n 1
}
HOLD=$(param fleet_hold)
WRITES=$(param fleet_writes)
: "${HOLD:=60}" "${WRITES:=100}"
KX=/bin/kscope-export
say() { echo "KSCOPE-VM: fleet: $*" >/dev/console; }
tell() { echo "KSCOPE-FLEET-$*" >/dev/ttyS1; }

[ -x "$KX" ] || ks_skip "no $KX in this initramfs (kscope export is not in the static build)"
nodes=$(ls -d /sys/devices/system/node/node[0-9]* 2>/dev/null | wc -l)
[ "$nodes" -ge 2 ] || ks_skip "needs two NUMA nodes, this machine has $nodes"

# virtio-net: modules taken from this kernel's package by the host
d=/netmods/$(uname -r)
[ -s "$d/order" ] || { tell "ERROR no virtio-net modules for $(uname -r)"; exit 1; }
while read -r m; do
	insmod "$d/$m" 2>>"$OUT/insmod.err" ||
		echo "insmod $m failed" >>"$OUT/insmod.err"
done <"$d/order"
n=0
while ! ip link show eth0 >/dev/null 2>&1; do
	n=$((n + 1))
	[ $n -lt 50 ] || { tell "ERROR no eth0: $(cat "$OUT/insmod.err")"; exit 1; }
	sleep 0.1
done
# QEMU's user-mode network gives the guest this address (no DHCP here)
ip link set eth0 up
ip addr add 10.0.2.15/24 dev eth0
say "eth0 up"

cpu0=$(cut -d, -f1 /sys/devices/system/node/node0/cpulist | cut -d- -f1)
taskset -p -c "$cpu0" $$ >/dev/null 2>&1
ks_numa_balance

"$KX" export --listen 0.0.0.0:9961 --tools numamove,workq,slabratetop \
	--interval 1 2>"$OUT/export.err" &
KX_PID=$!
n=0
until grep -q "serving" "$OUT/export.err"; do
	n=$((n + 1))
	if [ $n -gt 1200 ] || ! kill -0 $KX_PID 2>/dev/null; then
		tell "ERROR kscope export did not serve: $(tr '\n' ' ' <"$OUT/export.err")"
		exit 1
	fi
	sleep 0.1
done
say "serving"
vm() { awk -v k="$1" '$1 == k { print $2 }' /proc/vmstat; }
v0=$(vm numa_pages_migrated)
tell "SERVING"
"$WL/numa_far" ks_fleet 32 1 "$cpu0" 6 >"$OUT/truth.json"
i=0
while [ $i -lt "$WRITES" ]; do
	echo 1 >/proc/sys/vm/stat_refresh
	i=$((i + 1))
done
v1=$(vm numa_pages_migrated)
cpus=$(grep -c ^processor /proc/cpuinfo)
tell "TRUTH {\"env\": \"$KS_ENV\", \"numa_before\": $v0, \"numa_after\": $v1, \"stat_refresh_writes\": $WRITES, \"cpus\": $cpus, \"workload\": $(cat "$OUT/truth.json")}"
say "truth sent, holding ${HOLD}s"
sleep "$HOLD"
kill -TERM $KX_PID
wait $KX_PID
rc=$?
say "kscope export exited $rc"
exit $rc
