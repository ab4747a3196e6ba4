# SPDX-License-Identifier: GPL-2.0
# tool: memleak
# modes: tp_btf raw_tp tracepoint
# where: host vm
#
# --kernel -- COMMAND: kernel mode for the command's process only (not
# uprobes on its allocator): while leaker_files holds M files, exactly M
# filp allocations of its own are outstanding, none once it closed them;
# the run ends with the command.
. "$(dirname "$0")/_lib.sh"

"$KSCOPE" memleak --kernel -j ${MODE:+-m "$MODE"} 0.5 -- \
	"$WL/leaker_files" 500 3000 "$OUT/truth.json" \
	> "$OUT/kscope.json" 2> "$OUT/kscope.err"
echo $? > "$OUT/kscope.rc"
