#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
# tool: memleak
# modes: uprobe
# where: host
#
# --folded of a user-mode run: the leaker leaks K blocks of S bytes from
# each named function; each must be exactly one folded path through that
# function, weighing K x S bytes (K with --weight count).
. "$(dirname "$0")/_lib.sh"

M=
[ -n "$MODE" ] && M="-m $MODE"

# shellcheck disable=SC2086
"$KSCOPE" memleak --folded $M -- "$WL/leaker" "$OUT/truth.json" \
	>"$OUT/kscope.folded" 2>"$OUT/kscope.err"
echo $? >"$OUT/kscope.rc"
# shellcheck disable=SC2086
"$KSCOPE" memleak --folded --weight count $M -- "$WL/leaker" \
	"$OUT/truth-count.json" >"$OUT/count.folded" 2>"$OUT/count.err"
echo $? >"$OUT/count.rc"
exit 0
