# SPDX-License-Identifier: GPL-2.0
# tool: kmem
# modes: tp_btf raw_tp tracepoint
# where: host vm
#
# kmem -s with a stack table of 512 while one task makes files of 17
# kinds (each round: opens, pipes, sockets, eventfd, epoll, timerfd,
# signalfd, memfd, inotify, pidfd): dozens of distinct stacks, far fewer
# than the table holds, so not one may be dropped (a BPF stack map alone,
# whose buckets collide, dropped some; kmem_stack_fallback makes it refuse
# nearly all of them), and the filp allocations equal the files made.
. "$(dirname "$0")/_lib.sh"

ROUNDS=2000
[ "$KS_ENV" = host ] && ROUNDS=10000
ks_start kmem -s --max-entries 512 -c ks_kinds
"$WL/file_kinds" ks_kinds $ROUNDS > "$OUT/truth.json"
ks_stop
