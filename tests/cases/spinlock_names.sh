# SPDX-License-Identifier: GPL-2.0
# tool: spinlock
# modes: default
# where: host vm
#
# Heap spin lock names, with --calls (kprobes: the contention tracepoints
# see hardly any spin waits on a guest, see docs/locks.md).  Two threads
# each kill(2) their own process and sched_yield(2) a known number of
# times: every kill takes the process's sighand->siglock, every yield the
# CPU's runqueue lock, so the calls table must show at least that many
# calls on locks named siglock and rq_lock.  kprobe only (fentry is not
# offered for --calls); skipped where that does not run.
. "$(dirname "$0")/_lib.sh"

if ! "$KSCOPE" spinlock --calls -m kprobe -d 0.1 -j >/dev/null \
	2>"$OUT/probe.err"; then
	ks_skip "spinlock --calls: $(cat "$OUT/probe.err")"
fi
MODE=kprobe ks_start spinlock --calls -c lksig
"$WL/lock_signal" lksig 2 3000 > "$OUT/truth.json"
ks_stop
