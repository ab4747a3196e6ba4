# SPDX-License-Identifier: GPL-2.0
# Sourced by every case (not a case itself: no "# tool:" line).  POSIX sh,
# so the same case runs on the host and under busybox in the VMs.

set -u
: "${KSCOPE:?}" "${WL:?}" "${OUT:?}" "${KS_ENV:=host}" "${MODE:=}"

# Skip this case visibly: the reason is what the runner shows.
ks_skip() {
	echo "$*" > "$OUT/skip"
	exit 77
}

# ks_start TOOL ARGS...: kscope in the background, JSON on $OUT/kscope.json,
# returns once its probes are attached (the "Tracing" line on stderr).
ks_start() {
	ks_start_to kscope.json "$@" -j
}

# ks_start_to FILE TOOL ARGS...: the same with stdout on $OUT/FILE, in the
# format ARGS ask for (--folded)
ks_start_to() {
	ks_file=$1
	shift
	# truncate now: the background shell opens the file later, and a
	# second run must not find the first run's "Tracing" line
	: > "$OUT/kscope.err"
	if [ -n "$MODE" ]; then
		"$KSCOPE" "$@" -m "$MODE" >"$OUT/$ks_file" \
			2>"$OUT/kscope.err" &
	else
		"$KSCOPE" "$@" >"$OUT/$ks_file" 2>"$OUT/kscope.err" &
	fi
	KS_PID=$!
	ks_i=0
	# TCG VMs load BPF slowly: allow a minute
	while ! grep -q '^Tracing' "$OUT/kscope.err" 2>/dev/null; do
		if ! kill -0 "$KS_PID" 2>/dev/null; then
			wait "$KS_PID"
			echo "kscope exited before attaching (rc $?):" >&2
			cat "$OUT/kscope.err" >&2
			exit 1
		fi
		ks_i=$((ks_i + 1))
		if [ "$ks_i" -gt 600 ]; then
			kill -9 "$KS_PID"
			echo "kscope did not attach within 60 s" >&2
			exit 1
		fi
		sleep 0.1
	done
}

# ks_stop: SIGINT, as a user's Ctrl-C; the final report is then written.
ks_stop() {
	kill -INT "$KS_PID"
	wait "$KS_PID"
	echo $? > "$OUT/kscope.rc"
}

# ks_bg NAME TOOL ARGS...: one more kscope, JSON on $OUT/NAME.json and
# stderr on $OUT/NAME.err, started like ks_start (attached on return);
# ks_bg_stop NAME... sends them SIGINT and writes each exit status to
# $OUT/NAME.rc.  Several instances watch the same events side by side.
ks_bg() {
	ks_bg_name=$1
	shift
	ks_start_to "$ks_bg_name.json" "$@" -j
	echo "$KS_PID" > "$OUT/$ks_bg_name.pid"
	mv "$OUT/kscope.err" "$OUT/$ks_bg_name.err"
}

ks_bg_stop() {
	for ks_bg_name in "$@"; do
		kill -INT "$(cat "$OUT/$ks_bg_name.pid")"
	done
	# signalled all at once: their final reports see the same moment
	for ks_bg_name in "$@"; do
		wait "$(cat "$OUT/$ks_bg_name.pid")"
		echo $? > "$OUT/$ks_bg_name.rc"
	done
}

# ks_bpftrace PROGRAM [ARGS...]: bpftrace -f json in the background
# (output on $OUT/bpftrace.json, stderr on $OUT/bpftrace.err, its pid in
# BPID), returning once every probe is attached: "Attaching N probes"
# comes before they are, a BEGIN probe runs once they all are.
ks_bpftrace() {
	ks_bt_prog=$1
	shift
	bpftrace -f json -e "BEGIN { printf(\"ready\\n\"); }
$ks_bt_prog" "$@" > "$OUT/bpftrace.json" 2> "$OUT/bpftrace.err" &
	BPID=$!
	ks_i=0
	until grep -q '"ready' "$OUT/bpftrace.json" 2>/dev/null; do
		ks_i=$((ks_i + 1))
		if [ "$ks_i" -gt 600 ] || ! kill -0 "$BPID" 2>/dev/null; then
			echo "bpftrace did not attach" >&2
			cat "$OUT/bpftrace.err" >&2
			exit 1
		fi
		sleep 0.1
	done
}

# ks_bt_mutex_waits COMM: ks_bpftrace counting COMM's mutex waits as
# @waits, with mlock's definition of one wait: from a thread's first
# contention_begin with the MUTEX flag (a mutex that spins, then sleeps,
# begins twice) to its contention_end on that lock
ks_bt_mutex_waits() {
	ks_bpftrace '
tracepoint:lock:contention_begin
/comm == "'"$1"'" && (args->flags & 32)/
{
	$l = (uint64)args->lock_addr;
	/* the same lock again: the wait goes on (spin, then sleep) */
	if (@lock[tid] != $l) {
		@lock[tid] = $l;
	}
}
tracepoint:lock:contention_end
/@lock[tid] == (uint64)args->lock_addr/
{
	@waits = count();
	delete(@lock[tid]);
}
END { clear(@lock); }'
}

# ks_whole TOOL ARGS...: a second kscope with one report at the end (on
# $OUT/whole.json); start it before ks_start and stop it after ks_stop
# with ks_whole_stop, so that both see the same events (the interval-sum
# cases compare its report with the intervals').
ks_whole() {
	ks_bg whole "$@"
}

ks_whole_stop() {
	ks_bg_stop whole
}

# ks_numa_balance: NUMA balancing on, scanning early and often (debugfs
# since 5.13, sysctl before); the value it had is left in KS_NUMA_OLD
ks_numa_balance() {
	KS_NUMA_OLD=$(cat /proc/sys/kernel/numa_balancing)
	echo 1 > /proc/sys/kernel/numa_balancing
	for ks_kv in scan_delay_ms=100 scan_period_min_ms=100 \
		scan_period_max_ms=1000 scan_size_mb=256; do
		for ks_p in /sys/kernel/debug/sched/numa_balancing/${ks_kv%=*} \
			/proc/sys/kernel/numa_balancing_${ks_kv%=*}; do
			[ -w "$ks_p" ] && { echo "${ks_kv#*=}" > "$ks_p"; break; }
		done
	done
}
