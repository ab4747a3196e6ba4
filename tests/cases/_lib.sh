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

# ks_whole TOOL ARGS...: a second kscope with one report at the end, JSON
# on $OUT/whole.json, stderr on $OUT/whole.err; start it before ks_start
# and stop it after ks_stop with ks_whole_stop, so that both see the same
# events (the interval-sum cases compare its report with the intervals').
ks_whole() {
	ks_start_to whole.json "$@" -j
	WHOLE_PID=$KS_PID
	mv "$OUT/kscope.err" "$OUT/whole.err"
}

ks_whole_stop() {
	kill -INT "$WHOLE_PID"
	wait "$WHOLE_PID"
	echo $? > "$OUT/whole.rc"
}
