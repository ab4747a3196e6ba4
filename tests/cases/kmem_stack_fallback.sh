#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
# tool: kmem
# modes: tp_btf raw_tp tracepoint
# vm-modes: tp_btf
# where: host vm
#
# The stacks a BPF stack-trace map refuses are kept all the same.  kmem -s
# puts each kernel stack in a stack-trace map first and, when its bucket
# holds another stack, walks it again into a hash map (bpf/common.bpf.h).
# Here the stack-trace map has one entry (KSCOPE_TEST_STACKID_ENTRIES=1):
# it keeps the first stack and refuses every other, while one task makes
# files of 17 kinds (kmem_stack_kinds' workload, dozens of stacks).  Not
# one may be dropped, and the filp allocations equal the files made.
. "$(dirname "$0")/_lib.sh"

ROUNDS=1000
[ "$KS_ENV" = host ] && ROUNDS=5000
KSCOPE_TEST_STACKID_ENTRIES=1
export KSCOPE_TEST_STACKID_ENTRIES
ks_start kmem -s --max-entries 512 -c ks_kinds
"$WL/file_kinds" ks_kinds $ROUNDS > "$OUT/truth.json"
ks_stop
