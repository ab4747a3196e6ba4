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
# "Attaching N probes" comes before the probes are attached; BEGIN runs
# once they all are
bpftrace -f json -e 'BEGIN { printf("ready\n"); }
tracepoint:kmem:kmem_cache_alloc,tracepoint:kmem:kmalloc
/pid == $1 && args->ptr != 0/ { @count = count(); }' "$WPID" \
	> "$OUT/bpftrace.json" 2> "$OUT/bpftrace.err" &
BPID=$!
i=0
until grep -q '"ready' "$OUT/bpftrace.json" 2>/dev/null; do
	i=$((i + 1))
	if [ "$i" -gt 600 ] || ! kill -0 "$BPID" 2>/dev/null; then
		echo "bpftrace did not attach" >&2
		cat "$OUT/bpftrace.err" >&2
		kill "$WPID" "$BPID" 2>/dev/null
		exit 1
	fi
	sleep 0.1
done
echo go > "$OUT/go"
wait "$WPID"
kill -INT "$BPID"
wait "$BPID"
ks_stop
ks_bg_stop stacks
