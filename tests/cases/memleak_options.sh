# SPDX-License-Identifier: GPL-2.0
# tool: memleak
# modes: tp_btf raw_tp tracepoint
# vm-modes: raw_tp
# where: host vm
# timeout: 300
#
# memleak's options, side by side on one workload (leaker_files holding
# M files, so M filp allocations are outstanding at the final reports):
# plain, --older above and below the files' age, --kinds without cache,
# --stack-depth 2, --sample 4.
. "$(dirname "$0")/_lib.sh"

ks_bg plain memleak -c leaker_files
ks_bg old memleak -c leaker_files --older 600000
ks_bg young memleak -c leaker_files --older 500
ks_bg kinds memleak -c leaker_files --kinds kmalloc,page
ks_bg depth memleak -c leaker_files --stack-depth 2
ks_bg sample memleak -c leaker_files --sample 4
"$WL/leaker_files" 2000 15000 "$OUT/truth.json" &
LF=$!
sleep 3
ks_bg_stop plain old young kinds depth sample
kill "$LF" 2>/dev/null
wait "$LF" 2>/dev/null
echo 2000 > "$OUT/files"
cat /sys/kernel/slab/filp/slab_size > "$OUT/filp_size" 2>/dev/null || echo -1 > "$OUT/filp_size"
