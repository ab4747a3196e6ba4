# SPDX-License-Identifier: GPL-2.0
# tool: spinlock
# modes: default
# where: host vm
#
# spinlock --calls counts calls to the spin_lock family per lock.  Threads
# add to one eventfd a known number of times; each write(2) calls
# spin_lock_irq() on the eventfd's lock exactly once, so that lock must
# show exactly one _raw_spin_lock_irq call per write.  --calls needs
# kprobes (fentry is not offered there), and `kscope features` describes
# spinlock without --calls; so this case tries the modes itself and skips
# only when none runs.
. "$(dirname "$0")/_lib.sh"

grep -m1 "^flags" /proc/cpuinfo > "$OUT/cpuflags"
ran=""
for m in fentry kprobe; do
	if ! "$KSCOPE" spinlock --calls -m "$m" -d 0.1 -j >/dev/null \
		2>"$OUT/$m.probe"; then
		continue	# unavailable here: the reason is in $m.probe
	fi
	MODE=$m ks_start spinlock --calls -c lkcall
	"$WL/lock_eventfd" lkcall 2 5000 > "$OUT/$m.truth.json"
	ks_stop
	mv "$OUT/kscope.json" "$OUT/$m.json"
	mv "$OUT/kscope.rc" "$OUT/$m.rc"
	# the next ks_start must not find this run's "Tracing" line
	mv "$OUT/kscope.err" "$OUT/$m.err"
	ran="$ran $m"
done
[ -n "$ran" ] || ks_skip "spinlock --calls: $(cat "$OUT/fentry.probe"); $(cat "$OUT/kprobe.probe")"
echo $ran > "$OUT/modes"
