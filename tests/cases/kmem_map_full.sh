# SPDX-License-Identifier: GPL-2.0
# tool: kmem
# modes: tp_btf raw_tp tracepoint
# where: host vm
#
# A full map loses nothing silently: with --max-entries 16 and 40 threads
# of one process, each a comm of its own (3 keys each), the allocations
# kmem counted plus those it dropped as map_full are exactly what
# bpftrace counts for the process; with -s, counted plus map_full plus
# stack (the stack map full) are.  The process waits on a FIFO until
# both tracers are attached, so both see it from exec to exit.
. "$(dirname "$0")/_lib.sh"
command -v bpftrace >/dev/null || ks_skip "bpftrace not installed"

mkfifo "$OUT/go"
"$WL/many_comms" mc 40 50 < "$OUT/go" > "$OUT/truth.json" &
WPID=$!
# with -s the stack map (as large as --max-entries) fills too
ks_bg stacks kmem -p "$WPID" --max-entries 16 -s
ks_start kmem -p "$WPID" --max-entries 16
ks_bpftrace 'tracepoint:kmem:kmem_cache_alloc,tracepoint:kmem:kmalloc
/pid == $1 && args->ptr != 0/ { @count = count(); }' "$WPID"
echo go > "$OUT/go"
wait "$WPID"
kill -INT "$BPID"
wait "$BPID"
ks_stop
ks_bg_stop stacks
