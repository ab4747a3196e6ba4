# SPDX-License-Identifier: GPL-2.0
# tool: kmem
# modes: tp_btf raw_tp tracepoint
# where: host vm
# timeout: 240
#
# Each filter selects exactly its tasks, checked positively (the selected
# task's opens are all there) and negatively (nothing else is):
#   -p PID      a process of 40 threads, each a comm of its own
#   -t TID      its main thread only (which opens nothing itself)
#   --cgroup    a cgroup v2 directory, with a task in a child cgroup of it,
#               and the same work outside it
. "$(dirname "$0")/_lib.sh"

# -p / -t: many_comms waits on a FIFO until kmem is in
run_pid() {
	flag=$1 name=$2
	mkfifo "$OUT/$name.go"
	"$WL/many_comms" mc 40 50 < "$OUT/$name.go" > "$OUT/$name.truth.json" &
	WPID=$!
	ks_start kmem "$flag" "$WPID"
	echo go > "$OUT/$name.go"
	wait "$WPID"
	ks_stop
	mv "$OUT/kscope.json" "$OUT/$name.json"
	mv "$OUT/kscope.rc" "$OUT/$name.rc"
	mv "$OUT/kscope.err" "$OUT/$name.err"
}
run_pid -p pid
run_pid -t tid

# --cgroup: the cgroup v2 hierarchy, wherever it is mounted
CG=$(awk '$3 == "cgroup2" { print $2; exit }' /proc/mounts)
[ -n "$CG" ] || ks_skip "no cgroup v2 hierarchy mounted"
G="$CG/kscope-filter-$$"
mkdir -p "$G/child" || ks_skip "cannot create a cgroup under $CG"
trap 'rmdir "$G/child" "$G" 2>/dev/null' EXIT
ks_start kmem --cgroup "$G"
sh -c 'echo $$ > "$1/cgroup.procs" && exec "$2/opener" cg_parent 1000' \
	sh "$G" "$WL" > "$OUT/cg_parent.json"
sh -c 'echo $$ > "$1/cgroup.procs" && exec "$2/opener" cg_child 2000' \
	sh "$G/child" "$WL" > "$OUT/cg_child.json"
"$WL/opener" cg_outside 3000 > "$OUT/cg_outside.json"
ks_stop
