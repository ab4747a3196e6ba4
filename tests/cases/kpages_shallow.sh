# SPDX-License-Identifier: GPL-2.0
# tool: kpages
# modes: tp_btf raw_tp tracepoint
# where: host
#
# A walk too shallow to leave the page allocator (--stack-depth 1): the
# M pages touched are all counted, and blamed on no allocator frame (the
# row says the site lies beyond the frames walked, a line says how many).
. "$(dirname "$0")/_lib.sh"

ks_start kpages -c pagetoucher --stack-depth 1
"$WL/toucher" pagetoucher 20000 > "$OUT/truth.json"
ks_stop
