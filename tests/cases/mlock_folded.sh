#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
# tool: mlock
# modes: fentry tp_btf
# where: host vm
#
# mlock --folded --weight count while four threads make a known number of
# writes to one pipe, each taking the pipe's mutex once in pipe_write():
# fentry times every mutex_lock(), so the stacks through pipe_write count
# exactly one per write; the contention tracepoints at most that.
. "$(dirname "$0")/_lib.sh"

ks_start_to kscope.folded mlock --folded --weight count -c lkpipe
"$WL/pipe_writers" lkpipe 4 5000 > "$OUT/truth.json"
ks_stop
