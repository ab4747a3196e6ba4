# SPDX-License-Identifier: GPL-2.0
# tool: kpages
# modes: default
# where: host vm
#
# The mode a run takes by itself (src/lib/run.c, ks_default_mode()): one
# that walks a kernel stack on every event (kpages unsampled, kmem -s,
# memleak's kernel mode) takes the classic tracepoint over tp_btf and
# raw_tp on a kernel that counts skipped tracepoint runs (6.7 on); the
# same tools not walking every event (kpages --sample, kmem by site) keep
# the best mode.  Each run is checked against its workload's own count,
# and `kscope features` names the same default.
. "$(dirname "$0")/_lib.sh"

"$KSCOPE" features -j > "$OUT/features.json"

ks_bg kp kpages -c pagetoucher
"$WL/toucher" pagetoucher 20000 > "$OUT/kp.truth.json"
ks_bg_stop kp

ks_bg kps kpages -c pagetoucher --sample 4
"$WL/toucher" pagetoucher 20000 > "$OUT/kps.truth.json"
ks_bg_stop kps

ks_bg kms kmem -s -c ksopener
"$WL/opener" ksopener 3000 > "$OUT/kms.truth.json"
ks_bg_stop kms

ks_bg km kmem -c ksopener
"$WL/opener" ksopener 3000 > "$OUT/km.truth.json"
ks_bg_stop km

ks_bg ml memleak -c ksopener
"$WL/opener" ksopener 3000 > "$OUT/ml.truth.json"
ks_bg_stop ml
