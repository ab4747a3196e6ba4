# SPDX-License-Identifier: GPL-2.0
# tool: mlock
# modes: fentry kprobe
# where: vm
#
# How much of kscope's own work its function-probe timings hold
# (docs/locks.md, "Timestamps").  One thread writes N times to a pipe
# nobody reads: once the pipe is full every write(2) takes the pipe's
# mutex, uncontended, and returns -EAGAIN, so mutex_lock() is a lock
# function whose body is one compare-and-swap.  Run 1: one kscope times
# those N calls.  Run 2: two kscopes at once; the probes of a function
# run one after the other, so each one's window (its entry program's
# clock read to its exit program's) now also holds the other's program
# on one side: kscope's own map work, as the entry-first/exit-last
# ordering of earlier builds had it inside every window.  Both runs must
# count exactly N calls per instance; the averages are the figures.
. "$(dirname "$0")/_lib.sh"

ks_start mlock -c lkself
"$WL/pipe_writers" -n lkself 1 20000 > "$OUT/truth.json"
ks_stop
for f in json err rc; do
	mv "$OUT/kscope.$f" "$OUT/alone.$f"
done
ks_bg other mlock -c lkself
ks_start mlock -c lkself
"$WL/pipe_writers" -n lkself 1 20000 > "$OUT/truth2.json"
ks_stop
ks_bg_stop other
