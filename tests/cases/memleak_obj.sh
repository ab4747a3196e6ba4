#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
# tool: memleak
# modes: uprobe
# where: host vm
#
# --obj naming an object the process never maps is not a silent empty
# run.  leaker and leak_tree are static (their own malloc, no libc.so):
#   pid/   -p PID (a leaker waiting) --obj LIBC: exit 1, one line saying
#          it does not map it
#   cmd/   -- leak_tree --obj LIBC: the final report's note says no
#          allocator call was seen and LIBC was never mapped
#   good/  -- leak_tree --obj leak_tree: its 8 leaks, no note
. "$(dirname "$0")/_lib.sh"

libc=$(ldd /bin/sh 2>/dev/null | sed -n 's/.*libc\.so\.6 => \([^ ]*\).*/\1/p')
[ -n "$libc" ] || libc=$(ls /lib/*/libc.so.6 /lib/libc.so.6 /usr/lib/*/libc.so.6 2>/dev/null | head -1)
[ -n "$libc" ] || ks_skip "no libc.so.6 found to name with --obj"
echo "$libc" > "$OUT/libc"
set --
[ -n "$MODE" ] && set -- -m "$MODE"

mkdir -p "$OUT/pid" "$OUT/cmd" "$OUT/good"
# a static process that waits (for a file that never comes)
"$WL/leaker" -w "$OUT/never" "$OUT/pid/truth.json" &
LT=$!
sleep 0.2
"$KSCOPE" memleak -j -d 1 -p "$LT" --obj "$libc" "$@" \
	> "$OUT/pid/kscope.json" 2> "$OUT/pid/kscope.err"
echo $? > "$OUT/pid/kscope.rc"
kill "$LT" 2>/dev/null
wait 2>/dev/null
"$KSCOPE" memleak -j --obj "$libc" "$@" -- "$WL/leak_tree" 3 48 \
	"$OUT/cmd/truth.json" > "$OUT/cmd/kscope.json" 2> "$OUT/cmd/kscope.err"
echo $? > "$OUT/cmd/kscope.rc"
"$KSCOPE" memleak -j --obj "$WL/leak_tree" "$@" -- "$WL/leak_tree" 3 48 \
	"$OUT/good/truth.json" > "$OUT/good/kscope.json" 2> "$OUT/good/kscope.err"
echo $? > "$OUT/good/kscope.rc"
