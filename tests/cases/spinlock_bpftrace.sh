# SPDX-License-Identifier: GPL-2.0
# tool: spinlock
# modes: tp_btf raw_tp tracepoint
# where: host
#
# spinlock's waits for a task agree with bpftrace counting the same
# lock:contention tracepoints with the same definition of one wait: SPIN
# without MUTEX, from a thread's first contention_begin (a spin wait
# nested in another, from an interrupt, belongs to the outer one) to its
# contention_end on that lock.  The workload: threads on every CPU adding
# to one eventfd, whose spin lock they fight over.
. "$(dirname "$0")/_lib.sh"
command -v bpftrace >/dev/null || ks_skip "bpftrace not installed"

# A loaded machine may run the threads apart for a whole run: try again
# (fresh kscope and bpftrace) until there is contention worth comparing.
for attempt in 1 2 3; do
	ks_start spinlock -c lkspin
	bpftrace -f json -e '
tracepoint:lock:contention_begin
/comm == "lkspin" && (args->flags & 1) && !(args->flags & 32)/
{
	if (@lock[tid] == 0) {
		@start[tid] = nsecs;
		@lock[tid] = (uint64)args->lock_addr;
	}
}
tracepoint:lock:contention_end
/@lock[tid] == (uint64)args->lock_addr/
{
	@waits = count();
	delete(@start[tid]);
	delete(@lock[tid]);
}' -c "$WL/lock_eventfd lkspin 2 2s" \
	> "$OUT/bpftrace.json" 2>"$OUT/bpftrace.err"
	ks_stop
	w=$(sed -n 's/.*"@waits": *\([0-9]*\).*/\1/p' "$OUT/bpftrace.json")
	[ "${w:-0}" -ge 20 ] && break
done
