# SPDX-License-Identifier: GPL-2.0
# tool: mlock
# modes: fentry kprobe tp_btf raw_tp tracepoint
# vm-modes: fentry kprobe tp_btf
# where: host vm
#
# --by tid and --by cgroup against the workload's own ids.  Four threads
# write to one pipe, 5000 writes each, from a cgroup made for the run;
# the workload reports its threads' ids, the cgroup's id is the inode
# number of its cgroup2 directory (and its path the row's cgroup_path).
# One kscope keys by lock and tid,
# another beside it by lock and cgroup.
. "$(dirname "$0")/_lib.sh"

# cgroup2 wherever it is mounted (the host: /sys/fs/cgroup/unified)
root=$(awk '$3 == "cgroup2" { print $2; exit }' /proc/mounts)
[ -n "$root" ] || ks_skip "no cgroup2 mounted"
cg=$root/ks_bytask_$$
mkdir "$cg" || ks_skip "cannot make a cgroup under $root"
trap 'rmdir "$cg" 2>/dev/null' EXIT
stat -c %i "$cg" > "$OUT/cgroup_id"
echo "/ks_bytask_$$" > "$OUT/cgroup_path"
ks_bg tid mlock --by lock,tid -c lkbytask
ks_start mlock --by lock,cgroup -c lkbytask
sh -c 'echo $$ > "$1/cgroup.procs" && exec "$2/pipe_writers" lkbytask 4 5000' \
	sh "$cg" "$WL" > "$OUT/truth.json"
ks_stop
ks_bg_stop tid
