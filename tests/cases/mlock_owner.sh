# SPDX-License-Identifier: GPL-2.0
# tool: mlock
# modes: fentry kprobe tp_btf raw_tp tracepoint
# vm-modes: fentry kprobe tp_btf
# where: host vm
#
# --owner.  A thread named lkhold takes a pipe's mutex and sleeps with it
# (a userfaultfd fault inside pipe_write()), three threads named lkwait
# then write to the pipe and wait for the mutex, 20 rounds.  Every one of
# their waits begins while lkhold owns the mutex: its owner is lkhold,
# with the thread id the workload reports.
. "$(dirname "$0")/_lib.sh"

ms=20
[ "$KS_ENV" = host ] || ms=200		# TCG guests start threads slowly
ks_start mlock --owner -c lkwait
"$WL/lock_owner" lkwait lkhold 3 20 "$ms" > "$OUT/truth.json"
ks_stop
