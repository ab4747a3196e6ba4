# SPDX-License-Identifier: GPL-2.0
# tool: memleak
# modes: tp_btf raw_tp tracepoint
# where: vm
#
# Kernel mode across a CPU going away: leaker_files, pinned to CPU 1,
# opens M files there and holds them; CPU 1 goes offline while they are
# held (the task moves to CPU 0) and comes back before they are closed.
# The reports while they are held show the M outstanding filp allocations
# made on the CPU that went away, the report after the close none (the
# frees on the other CPU matched them), nothing dropped (memleak_files'
# checks).  Only in the VMs: offlining a CPU of the shared host is not ours
# to do.
. "$(dirname "$0")/_lib.sh"

CPU1=/sys/devices/system/cpu/cpu1/online
[ -w "$CPU1" ] || ks_skip "no $CPU1 to write (one CPU, or no CONFIG_HOTPLUG_CPU)"
[ "$(cat "$CPU1")" = 1 ] || ks_skip "cpu1 is offline before the case"
command -v taskset >/dev/null 2>&1 || ks_skip "no taskset to pin the workload to CPU 1"

ks_start memleak -c leaker_files 0.5
taskset 2 "$WL/leaker_files" 500 3000 "$OUT/truth.json" &
LF=$!
sleep 1
echo 0 > "$CPU1"
cat /sys/devices/system/cpu/online > "$OUT/online_during"
sleep 1
echo 1 > "$CPU1"
cat /sys/devices/system/cpu/online > "$OUT/online_after"
wait "$LF"
sleep 1
ks_stop
