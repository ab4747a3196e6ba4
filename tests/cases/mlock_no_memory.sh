# SPDX-License-Identifier: GPL-2.0
# tool: mlock
# modes: tp_btf
# where: host
#
# A new row that cannot get kernel memory is counted as no_memory, not as
# map_full: mlock's rows are not preallocated, and each new row is
# charged to kscope's memory cgroup.  kscope runs alone in a memory
# cgroup whose limit is then set to what it uses (as a service's
# MemoryMax= would hold it), and 12 runs of 64 threads writing to a pipe
# ask for a few hundred new rows (keyed by lock and tid: a pipe per run, new
# threads) against room for 10,240; with the per-CPU charge cache given
# back (below), a few get memory (what the BPF allocator's per-CPU free
# lists already hold), the rest cannot.  bpftrace, outside
# the cgroup, counts the same waits (mlock_bpftrace's definition of one
# wait): the rows' count plus no_memory must be that count, and map_full
# stays 0.
. "$(dirname "$0")/_lib.sh"
command -v bpftrace >/dev/null || ks_skip "bpftrace not installed"

# the memory controller: cgroup v1's (this host), or cgroup2's
v1=$(awk '$3 == "cgroup" && $4 ~ /(^|,)memory(,|$)/ { print $2; exit }' \
	/proc/mounts)
v2=$(awk '$3 == "cgroup2" { print $2; exit }' /proc/mounts)
if [ -n "$v1" ]; then
	root=$v1 limit=memory.limit_in_bytes usage=memory.usage_in_bytes
	nolimit=-1
elif [ -n "$v2" ] && grep -qw memory "$v2/cgroup.controllers" 2>/dev/null
then
	root=$v2 limit=memory.max usage=memory.current nolimit=max
	grep -qw memory "$v2/cgroup.subtree_control" ||
		echo +memory > "$v2/cgroup.subtree_control" ||
		ks_skip "cannot enable the memory controller under $v2"
else
	ks_skip "no memory cgroup controller mounted"
fi
cg=$root/ks_nomem_$$
mkdir "$cg" || ks_skip "cannot make a cgroup under $root"
cleanup() {
	echo "$nolimit" > "$cg/$limit" 2>/dev/null
	echo $$ > "$root/cgroup.procs" 2>/dev/null
	[ -n "${KS_PID:-}" ] && kill -INT "$KS_PID" 2>/dev/null
	[ -n "${BPID:-}" ] && kill -INT "$BPID" 2>/dev/null
	wait
	rmdir "$cg" 2>/dev/null
}
trap cleanup EXIT

# kscope starts in the cgroup (a child of this shell, moved there for
# it); this shell, bpftrace and the workload stay outside
echo $$ > "$cg/cgroup.procs"
ks_start mlock --by lock,tid -c lknomem
echo $$ > "$root/cgroup.procs"

ks_bt_mutex_waits lknomem

# hold kscope at what it uses now (it sleeps until its report).  Part
# of that is charged ahead and cached per CPU (up to 64 pages a CPU),
# room for a few hundred rows that the limit would not stop: a limit a
# page below the usage makes the kernel give the cache back first (then
# reclaim a page, or fail with EBUSY: cgroup v1's limit never kills);
# cgroup2's memory.high does the same without the OOM killer that
# memory.max would call.  Three times: other CPUs give theirs back
# asynchronously.
for i in 1 2 3; do
	u=$(cat "$cg/$usage")
	if [ -n "$v1" ]; then
		echo $((u - 4096)) > "$cg/$limit" 2>/dev/null
	else
		echo $((u - 4096)) > "$cg/memory.high" &&
			echo max > "$cg/memory.high"
	fi
	sleep 0.1
done
cat "$cg/$usage" > "$cg/$limit" || { echo "cannot set $limit" >&2; exit 1; }
for run in $(seq 12); do
	"$WL/pipe_writers" lknomem 64 1000 4096 > /dev/null || exit 1
done
# room again for kscope's report
echo "$nolimit" > "$cg/$limit"
kill -INT "$BPID"
wait "$BPID"
BPID=
ks_stop
KS_PID=
