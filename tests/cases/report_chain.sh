# SPDX-License-Identifier: GPL-2.0
# tool: report
# where: host vm
# timeout: 300
#
# report chains the programs that share a tracepoint (src/lib/chain.c):
# one attachment per tracepoint, the other tools' programs reached by
# tail calls.  Every tool on a chain must still count exactly what it
# counts alone: kmem the opener's files (its own count), kpages the
# toucher's pages, slabratetop the filp cache's allocations (kmem's
# count of the one function that allocates from it, every task), mlock
# the pipe writers' mutex waits (bpftrace on the same tracepoints, where
# it is installed).  Whichever tool's program a chain begins with, the
# others are reached only through it: kscope holds one link per
# tracepoint and attach mode.
. "$(dirname "$0")/_lib.sh"

if command -v bpftrace >/dev/null; then
	ks_bt_mutex_waits lkchain
fi
ks_start_to kscope.json report -j -d 600 -r 1000
# kscope's attachments: a raw tracepoint link's fdinfo names its
# tracepoint (tp_btf and raw_tp modes; tracepoint mode's perf links do
# not)
for f in /proc/$KS_PID/fdinfo/*; do
	sed -n 's/^tp_name:[[:space:]]*//p' "$f"
done > "$OUT/tp_links.txt" 2>/dev/null
"$WL/opener" rw_chain 3000 > "$OUT/truth_open.json"
"$WL/toucher" pgchain 20000 > "$OUT/truth_pages.json"
"$WL/pipe_writers" lkchain 4 2s 4096 > /dev/null
ks_stop
if [ -n "${BPID:-}" ]; then
	kill -INT "$BPID"
	wait "$BPID"
fi
