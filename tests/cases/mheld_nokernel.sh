# SPDX-License-Identifier: GPL-2.0
# tool: mheld
# modes: default
# where: host vm
#
# mheld needs fentry/fexit or kprobes.  Where the kernel has neither (the
# development host: no kprobe PMU, tracing programs refused), it must exit
# 1 with one line saying so, and print no report; where it has them, it
# runs.  What the kernel offers is recorded here independently of kscope:
# the kprobe PMU in sysfs, and whether bpftrace (when installed) can attach
# a kfunc (fentry) probe.
. "$(dirname "$0")/_lib.sh"

if [ -e /sys/bus/event_source/devices/kprobe/type ]; then
	echo yes > "$OUT/kprobes"
else
	echo no > "$OUT/kprobes"
fi
if command -v bpftrace >/dev/null; then
	if timeout 60 bpftrace -e 'kfunc:mutex_unlock { exit(); }' \
		-c true >/dev/null 2>"$OUT/bpftrace.err"; then
		echo yes > "$OUT/fentry"
	else
		echo no > "$OUT/fentry"
	fi
else
	echo unknown > "$OUT/fentry"
fi
"$KSCOPE" mheld -d 1 -j > "$OUT/kscope.json" 2> "$OUT/kscope.err"
echo $? > "$OUT/kscope.rc"
exit 0
