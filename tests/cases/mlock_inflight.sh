# SPDX-License-Identifier: GPL-2.0
# tool: mlock
# modes: fentry kprobe tp_btf raw_tp tracepoint
# where: host vm
#
# A full in-flight map loses nothing silently.  A thread named lkhold2
# holds a pipe's mutex (asleep in a userfaultfd fault inside pipe_write())
# while 24 threads named lkinfl each write to the pipe and wait for it,
# ten rounds: 240 waits, 24 at a time.  mlock --max-entries 16 (the least
# it takes) follows 16 waits at a time; the others are counted as
# dropped.inflight_full, and counted plus dropped is the workload's 240.
# fentry and kprobe follow every mutex_lock() call, the waiters' other
# mutexes too: there --caller keeps the pipe write function's only (see
# mlock_caller), or those would fill the 16 rows and in-flight places.
. "$(dirname "$0")/_lib.sh"

ms=20
[ "$KS_ENV" = host ] || ms=200		# TCG guests start threads slowly
set --
case "$MODE" in
fentry | kprobe)
	if grep -q ' anon_pipe_write$' /proc/kallsyms; then
		set -- --caller anon_pipe_write
	else
		set -- --caller pipe_write
	fi
esac
ks_start mlock -c lkinfl --max-entries 16 "$@"
"$WL/lock_owner" lkinfl lkhold2 24 10 "$ms" > "$OUT/truth.json"
ks_stop
