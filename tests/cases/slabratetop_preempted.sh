# SPDX-License-Identifier: GPL-2.0
# tool: slabratetop
# modes: fentry kprobe tp_btf raw_tp tracepoint
# where: host vm
#
# Nothing lost silently when the kernel skips a program: a SCHED_FIFO task
# and a normal one open files on one CPU, the FIFO one waking every 200 us
# (tests/workloads/preempter.c).  On PREEMPT_RT, fentry programs run
# preemptible: the FIFO task's allocation can come while the other task is
# preempted inside slabratetop's program, and the kernel skips it
# (recursion_misses; 6.12-rt runs kprobe and tracepoint programs
# unpreempted: none skipped there).  Every
# file the FIFO task opened is a filp allocation counted or a run in
# dropped.recursion; elsewhere every one is counted.
. "$(dirname "$0")/_lib.sh"

cpu=$(cut -d, -f1 /sys/devices/system/cpu/online | cut -d- -f1)
ks_start slabratetop -c ks_fifo 1
"$WL/preempter" "$cpu" 3000 > "$OUT/truth.json" || exit 1
ks_stop
