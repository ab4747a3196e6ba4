#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
# tool: memleak
# modes: uprobe
# where: host vm
#
# User mode: leaker leaks exactly K blocks of S bytes from one named
# function per allocator entry point (malloc, calloc, realloc,
# reallocarray, posix_memalign, aligned_alloc, memalign, valloc, mmap) and
# frees everything its churn() allocates.  Three runs:
#   static/  -- COMMAND, the statically linked leaker (its own malloc)
#   dyn/     -- COMMAND, dyn_leaker linked against libc.so.6 (if built)
#   pid/     -p PID of a static leaker that waits for us, run ending when
#            it exits
. "$(dirname "$0")/_lib.sh"

M=
[ -n "$MODE" ] && M="-m $MODE"

# run_cmd NAME PROGRAM: kscope runs PROGRAM and reports when it exits
run_cmd() {
	d=$OUT/$1
	prog=$2
	shift 2
	mkdir -p "$d"
	# shellcheck disable=SC2086
	"$KSCOPE" memleak -j $M "$@" -- "$prog" "$d/truth.json" \
		>"$d/kscope.json" 2>"$d/kscope.err"
	echo $? >"$d/kscope.rc"
}

run_cmd static "$WL/leaker"
if [ -x "$WL/dyn_leaker" ]; then
	run_cmd dyn "$WL/dyn_leaker"
	# --obj: the allocator object named, here the libc it would pick
	LIBC=$(ldd "$WL/dyn_leaker" 2>/dev/null | awk '/libc\.so/ { print $3 }')
	if [ -n "$LIBC" ]; then
		echo "$LIBC" > "$OUT/libc"
		run_cmd obj "$WL/dyn_leaker" --obj "$LIBC"
		# a (dynamic) object without malloc and free: one line, exit 1
		"$KSCOPE" memleak --obj /bin/true -- "$WL/dyn_leaker" \
			"$OUT/noobj.truth" >"$OUT/noobj.out" 2>"$OUT/noobj.err"
		echo $? >"$OUT/noobj.rc"
	fi
else
	echo "no $WL/dyn_leaker" >"$OUT/dyn-missing"
fi

# -p: attach to a running leaker, then let it go
d=$OUT/pid
mkdir -p "$d"
"$WL/leaker" -w "$d/go" "$d/truth.json" &
LP=$!
SAVED_OUT=$OUT
OUT=$d
ks_start memleak -p "$LP"
OUT=$SAVED_OUT
touch "$d/go"
wait "$LP"
# the run ends by itself when the process exits
i=0
while kill -0 "$KS_PID" 2>/dev/null && [ "$i" -lt 300 ]; do
	sleep 0.1
	i=$((i + 1))
done
kill -0 "$KS_PID" 2>/dev/null && kill -INT "$KS_PID" &&
	echo "kscope did not end when the process exited" >"$d/no-exit"
wait "$KS_PID"
echo $? >"$d/kscope.rc"
exit 0
