# SPDX-License-Identifier: GPL-2.0
# tool: spinlock
# modes: tp_btf raw_tp tracepoint
# where: host vm
#
# Threads on every CPU add to one eventfd a known number of times; each
# write(2) takes the eventfd's spin lock once, so that lock has at most
# one contended wait per write, all of kind spin, none from other tasks.
. "$(dirname "$0")/_lib.sh"

# the CPU flags decide whether spinlock must print its guest note
grep -m1 "^flags" /proc/cpuinfo > "$OUT/cpuflags"
ks_start spinlock -c lkefd
"$WL/lock_eventfd" lkefd 2 20000 > "$OUT/truth.json"
ks_stop
