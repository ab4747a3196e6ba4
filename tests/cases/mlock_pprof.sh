#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
# tool: mlock
# modes: fentry tp_btf
# where: host vm
#
# mlock --pprof beside -j while four threads write to one pipe: the
# profile's contentions and delay equal the JSON report's counts and
# total_ns, per lock; the stacks through pipe_write hold at most one wait
# per write (every mutex_lock with fentry).
. "$(dirname "$0")/_lib.sh"

ks_start mlock --pprof "$OUT/mlock.pb.gz" -c lkpipe
"$WL/pipe_writers" lkpipe 4 5000 > "$OUT/truth.json"
ks_stop
