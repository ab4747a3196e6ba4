#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# /init of the kscope test VM (busybox sh, PID 1).
#
# Mounts what kscope needs, records what the kernel offers, runs every test
# case meant for a VM in every attach mode it declares, and streams each
# run's results to the host as soon as it finishes, then powers off.
#
# Channels:
#   /dev/console (ttyS0)  kernel log + progress markers "KSCOPE-VM: ..."
#   /dev/ttyS1            results only: gzip'd tar, base64, framed by
#                         "KSCOPE-RESULT-BEGIN <path>" / "KSCOPE-RESULT-END <path>"
#                         and finally "KSCOPE-VM-DONE".
# Results go on a port of their own so that kernel messages printed while a
# case runs can never interleave with (and corrupt) the base64 stream.  Each
# run is sent as soon as it ends, so a later hang or crash still leaves the
# host every result before it.
#
# Parameters come from the kernel command line (ks.NAME=VALUE): ks.env
# (KS_ENV value), ks.only (space-free, comma-separated case names to run),
# ks.case_timeout (seconds, default 180; a case's "# timeout: N" header wins).

export PATH=/bin:/sbin:/usr/bin:/usr/sbin
export HOME=/root TMPDIR=/tmp

say() { echo "KSCOPE-VM: $*"; }

# Busybox's uptime is coarse; /proc/uptime gives the guest's own view of
# boot-to-init, which the host compares with its wall clock.
mount -t proc proc /proc
read -r up _ </proc/uptime
say "INIT uptime=$up"

mount -t sysfs sysfs /sys
mount -t devtmpfs devtmpfs /dev 2>/dev/null
mkdir -p /dev/pts /dev/shm /tmp /run /root /results
mount -t devpts devpts /dev/pts
mount -t tmpfs tmpfs /dev/shm
mount -t tmpfs tmpfs /tmp
mount -t tmpfs tmpfs /run
# tracefs: tracepoint ids and the kprobe_events fallback of libbpf.
# debugfs: sched/numa_balancing knobs, and /sys/kernel/debug/tracing for
# tools that still look there.  bpffs: pinning.  cgroup2: --cgroup filters.
mount -t tracefs tracefs /sys/kernel/tracing
mount -t debugfs debugfs /sys/kernel/debug
mount -t bpf bpf /sys/fs/bpf
mount -t cgroup2 cgroup2 /sys/fs/cgroup
# securityfs: /sys/kernel/security/lockdown, which kscope cites when the
# kernel refuses a program
mount -t securityfs securityfs /sys/kernel/security 2>/dev/null
# Kernels >= 5.11 charge BPF memory to the memcg, older ones to RLIMIT_MEMLOCK;
# libbpf bumps it too, but a case's own helpers may not.
ulimit -l unlimited 2>/dev/null
hostname kscope-vm
ip link set lo up 2>/dev/null

param() {
	sed -n "s/.*[[:space:]]ks\.$1=\([^[:space:]]*\).*/\1/p" /proc/cmdline |
		tail -n 1
}
KS_ENV=$(param env)
[ -n "$KS_ENV" ] || KS_ENV=vm-$(uname -r | cut -d. -f1-2)
ONLY=$(param only | tr ',' ' ')
CASE_TIMEOUT=$(param case_timeout)
FLEET=$(param fleet)
[ -n "$CASE_TIMEOUT" ] || CASE_TIMEOUT=180
export KS_ENV

KSCOPE=/bin/kscope
WL=/wl
export KSCOPE WL

# ks.reschan: the arm64 virt board has one UART, so its results go to a
# virtio console (/dev/hvc0)
RESCHAN=$(param reschan)
[ -n "$RESCHAN" ] || RESCHAN=/dev/ttyS1
# If the second port is missing, fall back to the console: the host parser
# only looks at lines between markers, so it still works, less robustly.
if ! (: >$RESCHAN) 2>/dev/null; then
	say "WARNING: $RESCHAN unusable, sending results on the console"
	RESCHAN=/dev/console
fi

emit() { # PATH-UNDER-/results
	{
		echo "KSCOPE-RESULT-BEGIN $1"
		tar c -C /results "$1" | gzip -c | base64
		echo "KSCOPE-RESULT-END $1"
	} >$RESCHAN
}

# Every user process still alive after a case is a leftover of it (PID 1 runs
# cases synchronously); kill them so the next case starts clean and no stray
# tracer keeps BPF programs attached.  Kernel threads have no exe link.
reap() {
	for p in /proc/[0-9]*; do
		pid=${p#/proc/}
		[ "$pid" = 1 ] && continue
		[ -e "$p/exe" ] || continue
		kill -9 "$pid" 2>/dev/null
	done
}

# --- what this kernel offers ------------------------------------------------
M=/results/meta
mkdir -p $M
{
	echo "ks_env=$KS_ENV"
	echo "uname=$(uname -a)"
	echo "cmdline=$(cat /proc/cmdline)"
	echo "init_uptime=$up"
	echo "cpus=$(grep -c ^processor /proc/cpuinfo)"
	echo "numa_nodes=$(ls -d /sys/devices/system/node/node[0-9]* 2>/dev/null | wc -l)"
	echo "lockdown=$(cat /sys/kernel/security/lockdown 2>/dev/null)"
	echo "btf=$([ -r /sys/kernel/btf/vmlinux ] && echo yes || echo no)"
	echo "kprobe_pmu=$([ -e /sys/bus/event_source/devices/kprobe/type ] && echo yes || echo no)"
	echo "numa_balancing=$(cat /proc/sys/kernel/numa_balancing 2>/dev/null)"
} >$M/env.txt
for n in /sys/devices/system/node/node[0-9]*; do
	[ -d "$n" ] && echo "$(basename $n) cpus=$(cat $n/cpulist) $(grep MemTotal $n/meminfo | sed 's/.*MemTotal://')"
done >$M/nodes.txt
NODES=$(ls -d /sys/devices/system/node/node[0-9]* 2>/dev/null | wc -l)

if [ -x "$KSCOPE" ]; then
	$KSCOPE features >$M/features.txt 2>&1
	echo $? >$M/features.rc
	$KSCOPE features --json >$M/features.json 2>$M/features.json.stderr
	echo $? >$M/features.json.rc
else
	echo "no kscope binary in the initramfs (build/kscope-static or build/kscope missing at build time)" >$M/features.txt
	echo 127 >$M/features.rc
	: >$M/features.json
	echo 127 >$M/features.json.rc
fi
say "FEATURES rc=$(cat $M/features.rc)"
sed 's/^/KSCOPE-VM: features: /' $M/features.txt
emit meta

# mode_status TOOL MODE -> "yes" | "no<TAB>why" | "unknown"
# The JSON is one object per tool per line; this is no JSON parser, only
# enough to pick "MODE":{..."available":true|false...} out of the tool's
# line.  Anything it can't read is "unknown", and unknown modes are run:
# a parsing slip must never turn into silently skipped tests.
mode_status() {
	awk -v tool="$1" -v mode="$2" '
	BEGIN { st = "unknown" }
	st == "unknown" && $0 ~ ("\"tool\"[ \t]*:[ \t]*\"" tool "\"") {
		if (!match($0, "\"" mode "\"[ \t]*:[ \t]*[{]"))
			next
		s = substr($0, RSTART + RLENGTH)
		if (match(s, "[}]"))
			s = substr(s, 1, RSTART - 1)
		if (s ~ /"available"[ \t]*:[ \t]*true/)
			st = "yes"
		else if (s ~ /"available"[ \t]*:[ \t]*false/) {
			why = ""
			if (match(s, /"why"[ \t]*:[ \t]*"([^"\\]|\\.)*"/)) {
				why = substr(s, RSTART, RLENGTH)
				sub(/^"why"[ \t]*:[ \t]*"/, "", why)
				sub(/"$/, "", why)
			}
			st = "no\t" why
		}
	}
	END { print st }' $M/features.json 2>/dev/null || echo unknown
}

hdr() { # FILE KEY -> first "# KEY: value" header value
	sed -n "s/^#[[:space:]]*$2:[[:space:]]*//p" "$1" | head -n 1
}

wanted() { # NAME -> true when ks.only is unset or lists NAME
	[ -z "$ONLY" ] && return 0
	for o in $ONLY; do [ "$o" = "$1" ] && return 0; done
	return 1
}

# run_case KIND FILE: KIND is "cases" (tests/cases) or "selftest"
run_case() {
	kind=$1 file=$2
	name=$(basename "$file" .sh)
	wanted "$name" || return 0
	# A case declares its tool; helpers sourced by cases (_lib.sh) don't.
	case $name in _*) return 0 ;; esac
	tool=$(hdr "$file" tool)
	[ -n "$tool" ] || return 0
	where=$(hdr "$file" where)
	# No "# where:" means everywhere; otherwise it must name vm or numa,
	# or fleet in a fleet boot (ks.fleet=1: networked, see test_vm_fleet.py)
	case " $where " in
	"  " | *" vm "* | *" numa "*) ;;
	*" fleet "*) [ -n "$FLEET" ] || return 0 ;;
	*) return 0 ;;
	esac
	# "# vm-modes:" (a subset of "# modes:") narrows what the VMs run
	modes=$(hdr "$file" vm-modes)
	[ -n "$modes" ] || modes=$(hdr "$file" modes)
	[ -n "$modes" ] || modes=default
	t=$(hdr "$file" timeout)
	[ -n "$t" ] || t=$CASE_TIMEOUT

	for mode in $modes; do
		rel=$kind/$name/$mode
		d=/results/$rel
		mkdir -p "$d/out"
		skip=""
		case " $where " in
		*" numa "*)
			[ "$NODES" -ge 2 ] ||
				skip="needs the two-node NUMA VM, this one has $NODES node(s)" ;;
		esac
		if [ -z "$skip" ] && [ "$tool" != none ] && [ "$mode" != default ]; then
			st=$(mode_status "$tool" "$mode")
			case $st in
			no*) skip="kernel $(uname -r) does not offer mode $mode for $tool: $(printf '%s' "$st" | cut -f2-)" ;;
			esac
		fi
		say "CASE-BEGIN $rel"
		read -r t0 _ </proc/uptime
		if [ -n "$skip" ]; then
			printf '%s\n' "$skip" >"$d/out/skip"
			rc=77
		else
			(
				cd "$d/out" || exit 1
				OUT=$d/out MODE=$mode
				[ "$mode" = default ] && MODE=
				export OUT MODE
				exec timeout "$t" sh "$file" </dev/null \
					>"$d/stdout" 2>"$d/stderr"
			)
			rc=$?
		fi
		read -r t1 _ </proc/uptime
		secs=$(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.2f", b - a }')
		# busybox timeout kills with SIGTERM: 143; note it plainly
		if [ "$rc" = 143 ] || [ "$rc" = 124 ]; then
			awk -v s="$secs" -v t="$t" 'BEGIN { exit !(s + 1 >= t) }' &&
				echo "timed out after ${t}s" >"$d/timeout"
		fi
		reap
		echo "$rc" >"$d/rc"
		echo "$secs" >"$d/secs"
		say "CASE-END $rel rc=$rc secs=$secs"
		emit "$rel"
	done
}

for f in /selftest/*.sh; do [ -f "$f" ] && run_case selftest "$f"; done
for f in /cases/*.sh; do [ -f "$f" ] && run_case cases "$f"; done

dmesg >$M/dmesg.txt 2>&1
mkdir -p /results/final && cp $M/dmesg.txt /results/final/dmesg.txt
emit final
say "ALL-DONE"
echo "KSCOPE-VM-DONE" >$RESCHAN
sync
poweroff -f
# poweroff failing would leave the host waiting for its timeout; sysrq-o
# powers off without userspace, and exiting PID 1 panics, which with
# panic=-1 and -no-reboot also ends QEMU.
echo o >/proc/sysrq-trigger
exit 1
