#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
# tool: mheld
# modes: fentry kprobe
# where: vm
#
# rwsems with function probes (--all-sleeping): lock_rwsem takes its
# mm->mmap_lock N times each from mincore (read), mprotect (write), mmap
# (write) and munmap (write, downgraded to read).  mheld must hold
# exactly those N per function and kind (munmap's write hold ends at the
# downgrade, a read hold follows), all named mmap_lock; mlock beside it
# times exactly N calls of each (the downgrade is no call).
. "$(dirname "$0")/_lib.sh"

ks_bg wait mlock --all-sleeping -c lkrwsem --by lock,caller,comm
ks_start mheld --all-sleeping -c lkrwsem --by lock,caller,comm
"$WL/lock_rwsem" lkrwsem 1000 > "$OUT/truth.json"
ks_stop
ks_bg_stop wait
