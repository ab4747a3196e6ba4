# SPDX-License-Identifier: GPL-2.0
# tool: kpages
# modes: tp_btf raw_tp tracepoint
# where: host vm
#
# M anonymous pages touched: at least M order-0 page allocations by the
# task, at the fault path (not inside the page allocator).
. "$(dirname "$0")/_lib.sh"

ks_start kpages -c pagetoucher
"$WL/toucher" pagetoucher 20000 > "$OUT/truth.json"
ks_stop
