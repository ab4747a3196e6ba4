#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
# tool: memleak
# modes: uprobe
# where: host
#
# memleak --pprof of a user-mode run, read by go tool pprof: the leaker
# leaks K blocks of S bytes in each named function, and pprof's -top gives
# each function exactly K x S bytes of inuse_space and K inuse_objects,
# with the leaker's source file and line.
. "$(dirname "$0")/_lib.sh"

M=
[ -n "$MODE" ] && M="-m $MODE"

# shellcheck disable=SC2086
"$KSCOPE" memleak -j --pprof "$OUT/memleak.pb.gz" $M -- "$WL/leaker" \
	"$OUT/truth.json" >"$OUT/kscope.json" 2>"$OUT/kscope.err"
echo $? >"$OUT/kscope.rc"
exit 0
