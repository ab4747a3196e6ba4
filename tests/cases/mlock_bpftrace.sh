# SPDX-License-Identifier: GPL-2.0
# tool: mlock
# modes: tp_btf raw_tp tracepoint
# where: host
#
# mlock's mutex waits for a task agree with bpftrace counting the same
# lock:contention tracepoints with the same definition of one wait: from
# a thread's first contention_begin with the MUTEX flag (a mutex that
# spins, then sleeps, begins twice) to its contention_end on that lock.
# Both watch the same run of four threads writing to one pipe; bpftrace -c
# starts the workload once its probes are attached, kscope is attached
# before and detached after, and both filter on the same comm.
. "$(dirname "$0")/_lib.sh"
command -v bpftrace >/dev/null || ks_skip "bpftrace not installed"

# A loaded machine may run the threads apart for a whole run: try again
# (fresh kscope and bpftrace) until there is contention worth comparing.
for attempt in 1 2 3; do
	ks_start mlock -c lkmutex
	bpftrace -f json -e '
tracepoint:lock:contention_begin
/comm == "lkmutex" && (args->flags & 32)/
{
	$l = (uint64)args->lock_addr;
	/* the same lock again: the wait goes on (spin, then sleep) */
	if (@lock[tid] != $l) {
		@start[tid] = nsecs;
		@lock[tid] = $l;
	}
}
tracepoint:lock:contention_end
/@lock[tid] == (uint64)args->lock_addr/
{
	@waits = count();
	delete(@start[tid]);
	delete(@lock[tid]);
}' -c "$WL/pipe_writers lkmutex 4 2s 4096" \
	> "$OUT/bpftrace.json" 2>"$OUT/bpftrace.err"
	ks_stop
	w=$(sed -n 's/.*"@waits": *\([0-9]*\).*/\1/p' "$OUT/bpftrace.json")
	[ "${w:-0}" -ge 20 ] && break
done
# the check says so if there was still too little contention to compare
true
