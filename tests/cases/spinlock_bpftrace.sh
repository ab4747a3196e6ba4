# SPDX-License-Identifier: GPL-2.0
# tool: spinlock
# modes: tp_btf raw_tp tracepoint
# where: host
#
# spinlock's waits for a task agree with bpftrace counting the same
# lock:contention tracepoints with the same definition of one wait: SPIN
# without MUTEX, from a thread's first contention_begin (a spin wait
# nested in another, from an interrupt, belongs to the outer one) to its
# contention_end on that lock, per kind (spin, rwlock read, rwlock write:
# the first begin's READ/WRITE flags).  The workload: threads on every CPU
# reading and setting one file's owner, whose rwlock they fight over
# (rwlock waiters reach the tracepoints even with two CPUs; spin lock
# waiters hardly ever do there, see docs/locks.md).
. "$(dirname "$0")/_lib.sh"
command -v bpftrace >/dev/null || ks_skip "bpftrace not installed"
# the CPU flags decide whether spinlock must print its guest note
grep -m1 "^flags" /proc/cpuinfo > "$OUT/cpuflags"

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
		@kind[tid] = args->flags & 6;
	}
}
tracepoint:lock:contention_end
/@lock[tid] == (uint64)args->lock_addr/
{
	@waits[@kind[tid]] = count();
	delete(@start[tid]);
	delete(@lock[tid]);
	delete(@kind[tid]);
}' -c "$WL/lock_fown lkspin 2 2s" \
	> "$OUT/bpftrace.json" 2>"$OUT/bpftrace.err"
	ks_stop
	# the sum of the @waits map's counts
	w=$(grep -o '"@waits": *{[^}]*}' "$OUT/bpftrace.json" |
		grep -o '": *[0-9][0-9]*' | tr -dc '0-9\n' |
		awk '{ s += $1 } END { print s + 0 }')
	[ "${w:-0}" -ge 20 ] && break
done
# the check says so if there was still too little contention to compare
true
