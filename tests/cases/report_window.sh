# SPDX-License-Identifier: GPL-2.0
# tool: report
# where: host vm
# timeout: 300
#
# kscope report counts the machine, not itself: its window opens once
# every tool is attached, and kscope's own process (loading BPF, reading
# maps) is left out unless --include-self.  The binary runs under names
# of its own so that its rows would be recognisable.
. "$(dirname "$0")/_lib.sh"

cp "$KSCOPE" "$OUT/ks_rep_self"
cp "$KSCOPE" "$OUT/ks_self"
REAL=$KSCOPE

KSCOPE="$OUT/ks_rep_self"
# all rows: on a busy machine the opener need not be in the top five
ks_start_to kscope.json report -j -d 600 -r 1000
# a task the window must see: its opens are the positive control
"$WL/opener" rw_opener 3000 > "$OUT/truth.json"
ks_stop

# a single tool's interval reports read its maps while attached (batch
# lookups allocate in the kernel): those are kscope's, counted only when
# asked for
KSCOPE="$OUT/ks_self"
ks_start_to self.json kmem -j --include-self 0.2
sleep 2
ks_stop
mv "$OUT/kscope.rc" "$OUT/self.rc"
ks_start_to noself.json kmem -j 0.2
sleep 2
ks_stop
KSCOPE=$REAL
