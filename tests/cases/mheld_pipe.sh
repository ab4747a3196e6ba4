# SPDX-License-Identifier: GPL-2.0
# tool: mheld
# modes: fentry kprobe
# where: host vm
#
# Four threads make a known number of write(2) calls to one non-blocking
# pipe; each takes the pipe's mutex with mutex_lock() once and releases it
# with mutex_unlock() before returning: exactly one hold per write.
. "$(dirname "$0")/_lib.sh"

ks_start mheld -c lkheld
"$WL/pipe_writers" lkheld 4 5000 > "$OUT/truth.json"
ks_stop
