# SPDX-License-Identifier: GPL-2.0
# tool: kmem
# modes: tp_btf raw_tp tracepoint
# where: vm
#
# CPU 1 goes offline and comes back while kmem reports every 50 ms and a
# task opens files on that CPU (pinned there: offlining breaks its
# affinity and moves it): the filp allocations summed over every report
# are exactly the opens, nothing dropped, kscope ends normally.  Only in
# the VMs: offlining a CPU of the shared host is not ours to do.
. "$(dirname "$0")/_lib.sh"

CPU1=/sys/devices/system/cpu/cpu1/online
[ -w "$CPU1" ] || ks_skip "no $CPU1 to write (one CPU, or no CONFIG_HOTPLUG_CPU)"
[ "$(cat "$CPU1")" = 1 ] || ks_skip "cpu1 is offline before the case"
PIN=
command -v taskset >/dev/null 2>&1 && PIN="taskset 2"

ks_start kmem -c ks_hotplug 0.05
# three phases: both CPUs, CPU 1 offline (taken away while the opener runs
# there), both again (it comes back while the opener runs)
$PIN "$WL/opener" ks_hotplug 20000 > "$OUT/truth1.json" &
OP=$!
sleep 0.3
echo 0 > "$CPU1"
cat /sys/devices/system/cpu/online > "$OUT/online_during"
wait "$OP"
"$WL/opener" ks_hotplug 20000 > "$OUT/truth2.json" &
OP=$!
sleep 0.3
echo 1 > "$CPU1"
cat /sys/devices/system/cpu/online > "$OUT/online_after"
wait "$OP"
$PIN "$WL/opener" ks_hotplug 20000 > "$OUT/truth3.json"
ks_stop
