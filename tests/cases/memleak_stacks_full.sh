#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
# tool: memleak
# modes: uprobe
# where: host vm
#
# A full stack map loses nothing silently.  leak_tree leaks 2048 blocks,
# each from a call path of its own (2048 distinct user stacks); memleak
# --max-entries 4096 keeps 1024 stacks (a quarter of it, at least 1024):
# the blocks it shows under leak_leaf plus those it dropped as
# stacks_full are exactly the 2048.
. "$(dirname "$0")/_lib.sh"

set --
[ -n "$MODE" ] && set -- -m "$MODE"
"$KSCOPE" memleak -j --max-entries 4096 --stack-depth 32 "$@" -- \
	"$WL/leak_tree" 11 48 "$OUT/truth.json" \
	> "$OUT/kscope.json" 2> "$OUT/kscope.err"
echo $? > "$OUT/kscope.rc"
