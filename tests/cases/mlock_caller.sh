# SPDX-License-Identifier: GPL-2.0
# tool: mlock
# modes: fentry kprobe tp_btf raw_tp tracepoint
# where: host vm
#
# --by caller and --caller.  Four threads write to one non-blocking pipe:
# each write(2) takes the pipe's mutex once, in the kernel's pipe write
# function (anon_pipe_write since 6.16, pipe_write before: whichever
# /proc/kallsyms has).  One kscope keys by lock, caller and comm (sorted
# by total); a second one, beside it on the same run, keeps only waits
# whose caller is that function (sorted by count).  The first must blame
# the pipe's mutex on the write function; the second must hold exactly
# the first one's rows with that caller.
. "$(dirname "$0")/_lib.sh"

if grep -q ' anon_pipe_write$' /proc/kallsyms; then
	fn=anon_pipe_write
else
	fn=pipe_write
fi
echo "$fn" > "$OUT/write_fn"
# the tracepoints see only contended waits: a busy machine may give none,
# so a run without any is tried again (three runs at most)
for try in 1 2 3; do
	ks_bg only mlock --by lock,caller,comm -c lkcall --caller "$fn" \
		-S count
	ks_start mlock --by lock,caller,comm -c lkcall
	"$WL/pipe_writers" lkcall 4 5000 > "$OUT/truth.json"
	ks_stop
	ks_bg_stop only
	grep -q '"count"' "$OUT/kscope.json" && break
done
if ! grep -q '"count"' "$OUT/kscope.json"; then
	# the host's two CPUs always contend; a TCG VM runs every vCPU from
	# one thread and may not (0 waits in 20,000 writes seen on 6.1)
	[ "$KS_ENV" = host ] && { echo "no contended waits in 3 runs" >&2; exit 1; }
	ks_skip "no contended pipe-mutex waits in 3 runs on $KS_ENV"
fi
