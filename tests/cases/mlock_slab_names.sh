#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
# tool: mlock
# modes: fentry kprobe tp_btf raw_tp tracepoint
# vm-modes: fentry kprobe tp_btf
# where: host vm
#
# Heap locks named by their slab cache.  Four threads write to one file
# through one shared descriptor: each write(2) takes the struct file's
# f_pos_lock, a mutex inside an object of the filp slab cache (filp is a
# cache of its own when /sys/kernel/slab/filp is a directory, not an
# alias).  Where the kernel has bpf_get_kmem_cache() (6.13+, seen in
# /proc/kallsyms) the lock must be "&filp"; elsewhere its address.
. "$(dirname "$0")/_lib.sh"

if grep -q ' bpf_get_kmem_cache$' /proc/kallsyms; then
	echo 1 > "$OUT/kfunc"
else
	echo 0 > "$OUT/kfunc"
fi
if [ -d /sys/kernel/slab/filp ] && [ ! -L /sys/kernel/slab/filp ]; then
	echo filp > "$OUT/cache"
fi
# the tracepoints see only contended waits: three runs at most, as
# mlock_caller
for try in 1 2 3; do
	ks_start mlock --by lock,caller,comm -c lkfile
	"$WL/lock_file" lkfile 4 5000 "$OUT/data" > "$OUT/truth.json"
	ks_stop
	grep -q '"count"' "$OUT/kscope.json" && break
done
if ! grep -q '"count"' "$OUT/kscope.json"; then
	[ "$KS_ENV" = host ] && { echo "no contended waits in 3 runs" >&2; exit 1; }
	ks_skip "no contended f_pos_lock waits in 3 runs on $KS_ENV"
fi

# kscope report loads mlock and spinlock at once, from loader threads,
# and they share one bpf_get_kmem_cache() object: report's mlock names
# the lock too (on the host, once: report has no modes)
if [ "$KS_ENV" = host ] && [ "$MODE" = tp_btf ]; then
	ks_mode=$MODE
	MODE=
	for try in 1 2 3; do
		ks_bg report report -d 600 -r 1000
		"$WL/lock_file" lkfile 4 5000 "$OUT/data" > /dev/null
		ks_bg_stop report
		grep -q '"lkfile"' "$OUT/report.json" && break
	done
	MODE=$ks_mode
fi
