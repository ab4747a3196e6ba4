# SPDX-License-Identifier: GPL-2.0
# tool: kmem
# modes: tp_btf raw_tp tracepoint
# where: host vm
#
# kmem -s with reports every 20 ms while a task opens files: every entry
# has its stack (none emptied under it between reports), no stack is
# dropped, and the filp allocations of all reports are exactly the opens.
. "$(dirname "$0")/_lib.sh"

N=50000
[ "$KS_ENV" = host ] && N=200000
ks_start kmem -s -c ks_kmem_stk 0.02
"$WL/opener" ks_kmem_stk $N > "$OUT/truth.json"
ks_stop
