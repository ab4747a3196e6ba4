# SPDX-License-Identifier: GPL-2.0
# tool: mheld
# modes: fentry kprobe
# where: host vm
#
# Trylock: every write(2) to a tty first calls mutex_trylock() on the tty's
# write lock, and with O_NONBLOCK a failed trylock returns -EAGAIN without
# taking it (the 6000 bytes written never fill the pty's 64 KiB buffer, so
# nothing else returns -EAGAIN).  One thread: every write is one trylock
# hold.  Two threads racing: holds are exactly the successful writes, the
# failed trylocks are no holds.  One kscope run per phase.
. "$(dirname "$0")/_lib.sh"
[ -e /dev/ptmx ] || ks_skip "no /dev/ptmx"

ks_start mheld -c lkpty
"$WL/lock_pty" lkpty 2 3000 > "$OUT/truth2.json"
ks_stop
mv "$OUT/kscope.json" "$OUT/kscope2.json"
mv "$OUT/kscope.rc" "$OUT/kscope2.rc"
# ks_start must not find the first run's "Tracing" line
mv "$OUT/kscope.err" "$OUT/kscope2.err"

ks_start mheld -c lkpty
"$WL/lock_pty" lkpty 1 3000 > "$OUT/truth.json"
ks_stop
