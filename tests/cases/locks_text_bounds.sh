# SPDX-License-Identifier: GPL-2.0
# tool: mlock
# modes: default
# where: host vm
#
# The kernel text bounds the lock tools load with (src/lib/ksyms.c,
# ks_kernel_text(): the kernel's own lookup by a BPF syscall program,
# else a scan of /proc/kallsyms), as `-v` prints them, against
# /proc/kallsyms read here; and which of the two answered.
. "$(dirname "$0")/_lib.sh"

grep -E ' (_stext|_etext|__lock_text_start|__lock_text_end|__sched_text_start|__sched_text_end)$' \
	/proc/kallsyms > "$OUT/kallsyms.txt"
if [ -n "$MODE" ]; then
	"$KSCOPE" mlock -v -d 0.5 -j -m "$MODE" > "$OUT/kscope.json" \
		2> "$OUT/kscope.err"
else
	"$KSCOPE" mlock -v -d 0.5 -j > "$OUT/kscope.json" 2> "$OUT/kscope.err"
fi
echo $? > "$OUT/kscope.rc"
