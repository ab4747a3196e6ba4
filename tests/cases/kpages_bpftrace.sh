# SPDX-License-Identifier: GPL-2.0
# tool: kpages
# modes: tp_btf raw_tp tracepoint
# where: host
#
# kpages' totals agree with bpftrace counting mm_page_alloc for the task.
. "$(dirname "$0")/_lib.sh"
command -v bpftrace >/dev/null || ks_skip "bpftrace not installed"

ks_start kpages -c pagecheck
bpftrace -f json -e '
tracepoint:kmem:mm_page_alloc /comm == "pagecheck" && args->pfn != -1/
{ @count = count(); @pages = sum(1 << args->order); }' \
	-c "$WL/toucher pagecheck 20000" > "$OUT/bpftrace.json" 2>"$OUT/bpftrace.err"
ks_stop
