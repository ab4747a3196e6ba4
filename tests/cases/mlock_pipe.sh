# SPDX-License-Identifier: GPL-2.0
# tool: mlock
# modes: fentry kprobe tp_btf raw_tp tracepoint
# where: host vm
#
# Four threads make a known number of write(2) calls to one non-blocking
# pipe, each taking the pipe's mutex exactly once.  fentry and kprobe time
# every mutex_lock() call: that mutex must show exactly one acquisition
# per write.  The contention tracepoints see only the contended ones: at
# most one wait per write.  Nothing from tasks with another name.
. "$(dirname "$0")/_lib.sh"

ks_start mlock -c lkpipe
"$WL/pipe_writers" lkpipe 4 5000 > "$OUT/truth.json"
ks_stop
