# SPDX-License-Identifier: GPL-2.0
# tool: report
# where: host vm
# timeout: 300
#
# kscope report samples stacks, not counts: kpages walks the stack of 1 in
# 64 page allocations per CPU and memleak tracks 1 in 64 allocations, and
# both say so ("sample").  kpages' count per task stays exact: the same as
# an unsampled kpages beside it, and at least the pages the toucher
# touched; memleak's allocated totals count every allocation, its tracked
# ones are 1 in 64 of them.
. "$(dirname "$0")/_lib.sh"

# names of its own: other cases filter on pagetoucher and leaker_files
cp "$WL/leaker_files" "$OUT/rs_files"
ks_bg full kpages -c rs_toucher
ks_start_to kscope.json report -j -r 1000 -d 600
"$WL/toucher" rs_toucher 20000 > "$OUT/truth.json"
"$OUT/rs_files" 2000 200 "$OUT/files.json"
kill -INT "$KS_PID" "$(cat "$OUT/full.pid")"
wait "$KS_PID"
echo $? > "$OUT/kscope.rc"
wait "$(cat "$OUT/full.pid")"
echo $? > "$OUT/full.rc"
