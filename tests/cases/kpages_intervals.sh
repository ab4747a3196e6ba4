# SPDX-License-Identifier: GPL-2.0
# tool: kpages
# modes: tp_btf raw_tp tracepoint
# vm-modes: tp_btf
# where: host vm
#
# Page faults while kpages reports every 20 ms: each report names the
# fault path as the site of every allocation (never a stack that was
# emptied under it, which showed as site 0x0), drops no stack, and the
# reports together count every page the workload touched.
. "$(dirname "$0")/_lib.sh"

ks_start kpages -c ks_kpages_ivl 0.02
i=0
while [ $i -lt 8 ]; do
	"$WL/toucher" ks_kpages_ivl 20000 > "$OUT/truth$i.json"
	i=$((i + 1))
done
ks_stop
