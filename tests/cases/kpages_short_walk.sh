# SPDX-License-Identifier: GPL-2.0
# tool: kpages
# modes: tp_btf raw_tp tracepoint
# where: host vm
#
# Site mode walks a short stack first and the whole stack only where the
# site is not in it (kpages.bpf.c).  Page faults (their site is the 4th
# frame or so) are counted through short walks; the filp slab's page
# allocations of a task holding many open files (their site,
# alloc_empty_file or __alloc_file, lies past the slab allocator's frames,
# deeper than the short walk) still find their site through the whole
# walk, never "beyond" it.  Every count against the workloads' own.
. "$(dirname "$0")/_lib.sh"

ks_start kpages
# the fault path's short stacks, seen once: kscope looks at new short
# stacks five times a second, and walks whole stacks until it has
"$WL/toucher" pagewarm 20000 > /dev/null
"$WL/leaker_files" 900 100 "$OUT/warm.json"
# (TCG guests take a second or two over the first look: it reads
# the kernel's symbols and sorts their text into ranges)
sleep 3
"$WL/toucher" pagetoucher 20000 > "$OUT/truth.json"
# the same deep stacks again, now looked at: still walked whole
"$WL/leaker_files" 900 100 "$OUT/files.json"
ks_stop
