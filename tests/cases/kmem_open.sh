# SPDX-License-Identifier: GPL-2.0
# tool: kmem
# modes: tp_btf raw_tp tracepoint
# where: host vm
#
# N open() calls by a task with a hostile name: exactly N filp allocations
# of the filp cache's size, nothing from other tasks (the -c filter runs in
# BPF), and JSON that parses whatever the name holds.
. "$(dirname "$0")/_lib.sh"

# quote, backslash and tab: the JSON must still parse
COMM=$(printf 'k"m\\\\e\tx')
ks_start kmem -c "$COMM"
"$WL/opener" "$COMM" 5000 > "$OUT/truth.json"
ks_stop
printf '%s' "$COMM" > "$OUT/comm"
