# SPDX-License-Identifier: GPL-2.0
# tool: mlock
# modes: tp_btf raw_tp tracepoint
# where: host
#
# -H: a text histogram under each row, whose counts add up to the row's;
# the rows themselves are the JSON rows of a second mlock watching the
# same pipe writers.
. "$(dirname "$0")/_lib.sh"

ks_bg json mlock -c lkhist
# text mode: the Tracing line is on stdout, with the report
"$KSCOPE" mlock -H -c lkhist ${MODE:+-m "$MODE"} > "$OUT/hist.txt" \
	2> "$OUT/hist.err" &
KS_PID=$!
i=0
until grep -q '^Tracing' "$OUT/hist.txt" 2>/dev/null; do
	i=$((i + 1))
	[ "$i" -lt 600 ] && kill -0 "$KS_PID" 2>/dev/null ||
		{ cat "$OUT/hist.err" >&2; exit 1; }
	sleep 0.1
done
"$WL/pipe_writers" lkhist 4 20000 > "$OUT/truth.json"
ks_stop
ks_bg_stop json
