#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
# tool: numamove
# modes: tp_btf raw_tp tracepoint
# where: host vm
#
# numamove says why it may see nothing: one NUMA node, or NUMA balancing
# off (kernel.numa_balancing = 0), as a note on stderr and a JSON "note",
# with "numa_nodes" and "numa_balancing" in every report.  Runs once as
# the machine is and, where the sysctl exists, once with balancing off.
. "$(dirname "$0")/_lib.sh"

nodes=$(ls -d /sys/devices/system/node/node[0-9]* 2>/dev/null | wc -l)
[ "$nodes" -ge 1 ] || nodes=1
bal=-1
[ -r /proc/sys/kernel/numa_balancing ] &&
	bal=$(cat /proc/sys/kernel/numa_balancing)
vm() { awk -v k="$1" '$1 == k { print $2 }' /proc/vmstat; }

ks_start numamove 0.3
v0=$(vm numa_pages_migrated)
sleep 1
v1=$(vm numa_pages_migrated)
ks_stop
printf '{"nodes": %s, "balancing": %s, "before": %s, "after": %s}\n' \
	"$nodes" "$bal" "${v0:-0}" "${v1:-0}" > "$OUT/truth.json"

if [ "$bal" != -1 ] && [ -w /proc/sys/kernel/numa_balancing ]; then
	for f in json err rc; do mv "$OUT/kscope.$f" "$OUT/asis.$f"; done
	echo 0 > /proc/sys/kernel/numa_balancing
	ks_start numamove 0.3
	sleep 0.5
	ks_stop
	echo "$bal" > /proc/sys/kernel/numa_balancing
	for f in json err rc; do mv "$OUT/kscope.$f" "$OUT/off.$f"; done
	printf '%s' "$bal" > "$OUT/restored"
else
	for f in json err rc; do mv "$OUT/kscope.$f" "$OUT/asis.$f"; done
fi
# text mode says it too, on stderr, and still prints its line on stdout
if [ -n "$MODE" ]; then
	"$KSCOPE" numamove -m "$MODE" 0.3 1 > "$OUT/text.out" 2> "$OUT/text.err"
else
	"$KSCOPE" numamove 0.3 1 > "$OUT/text.out" 2> "$OUT/text.err"
fi
echo $? > "$OUT/text.rc"
