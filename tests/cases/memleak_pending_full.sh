#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
# tool: memleak
# modes: uprobe
# where: host vm
#
# A full in-flight map loses nothing silently.  alloc_inflight holds 40
# threads inside its own malloc at once (each leaks one block from
# leak_inflight); memleak --max-entries 16 -c ks_inflight remembers 16
# calls in flight: it shows exactly 16 blocks and counts the other 24
# calls as pending_full.
. "$(dirname "$0")/_lib.sh"

set --
[ -n "$MODE" ] && set -- -m "$MODE"
"$KSCOPE" memleak -j --max-entries 16 -c ks_inflight \
	--obj "$WL/alloc_inflight" "$@" -- \
	"$WL/alloc_inflight" 40 77777 "$OUT/truth.json" \
	> "$OUT/kscope.json" 2> "$OUT/kscope.err"
echo $? > "$OUT/kscope.rc"
