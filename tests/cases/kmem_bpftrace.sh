# SPDX-License-Identifier: GPL-2.0
# tool: kmem
# modes: tp_btf raw_tp tracepoint
# where: host
#
# kmem's totals for a task agree with bpftrace counting the same two
# tracepoints over the same window (bpftrace -c runs the workload only
# once its probes are attached; kscope is attached before and detached
# after, and filters on the same comm).
. "$(dirname "$0")/_lib.sh"
command -v bpftrace >/dev/null || ks_skip "bpftrace not installed"

ks_start kmem -c kmemcheck
bpftrace -f json -e '
tracepoint:kmem:kmem_cache_alloc,tracepoint:kmem:kmalloc
/comm == "kmemcheck" && args->ptr != 0/
{ @count = count(); @bytes = sum(args->bytes_alloc); }' \
	-c "$WL/opener kmemcheck 20000" > "$OUT/bpftrace.json" 2>"$OUT/bpftrace.err"
ks_stop
