# SPDX-License-Identifier: GPL-2.0
# tool: mlock
# modes: tp_btf raw_tp tracepoint
# vm-modes: tp_btf
# where: host vm
#
# Heap lock names and the -L/--type filters.  Four threads of one process
# map and unmap memory: mmap(2) and munmap(2) take the process's
# mm->mmap_lock (an rwsem) for writing, so its waits must be named
# mmap_lock.  Beside the unfiltered run (--all-sleeping: rwsems are only
# seen by the contention tracepoints), one kscope keeps -L mmap_lock and
# one --type rwsem-write, on the same run: each must hold exactly the
# unfiltered rows of that lock or type; and one --caller with munmap's
# function (mmap and page faults take the lock elsewhere): exactly the
# unfiltered rows with that caller.
. "$(dirname "$0")/_lib.sh"

for fn in __vm_munmap __do_sys_munmap __x64_sys_munmap; do
	grep -q " $fn\$" /proc/kallsyms && break
done
echo "$fn" > "$OUT/munmap_fn"
ks_bg named mlock --all-sleeping -c lkmmap -L mmap_lock
ks_bg wr mlock --all-sleeping -c lkmmap --type rwsem-write
ks_bg unmap mlock --all-sleeping -c lkmmap --by caller,comm --caller "$fn"
ks_start mlock --all-sleeping -c lkmmap --by lock,caller,comm
"$WL/lock_mmap" lkmmap 4 5000 > "$OUT/truth.json"
ks_stop
ks_bg_stop named wr unmap
