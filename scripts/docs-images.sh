#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
# The images of docs/report.md, from a real run on this machine (root):
# B/docs/report.html and a screenshot of it (report.png, Chromium), and a
# flame graph of kmem's stacks (kmem-flame.svg, kscope flamegraph), while
# the test workloads give the tools something to count.  Generated, never
# committed.  Usage: scripts/docs-images.sh BUILD_DIR
set -eu
B=${1:-build}
OUT=$B/docs
WL=$B/workloads
mkdir -p "$OUT"
rm -f "$OUT/report.html" "$OUT/report.png" "$OUT/kmem-flame.svg"

# the report: workloads start once every tool is attached
"$B/kscope" report -d 6 -s -Q --html "$OUT/report.html" -r 5 \
	> "$OUT/report.txt" 2> "$OUT/report.err" &
ks=$!
i=0
until grep -q "Tracing with" "$OUT/report.txt" 2>/dev/null; do
	i=$((i + 1))
	[ $i -lt 300 ] || { echo "kscope report did not start" >&2; exit 1; }
	kill -0 $ks 2>/dev/null || { cat "$OUT/report.err" >&2; exit 1; }
	sleep 0.1
done
echo | "$WL/many_comms" docs 2 3000 > /dev/null
"$WL/pipe_writers" lkpipe 4 5000 > /dev/null
"$WL/opener" docs_open 5000 > /dev/null
wait $ks

# kmem's allocations by kernel stack, as a flame graph
"$B/kscope" kmem -s --folded -c docs_open -d 3 > "$OUT/kmem.folded" &
ks=$!
sleep 1.5
"$WL/opener" docs_open 20000 > /dev/null
wait $ks
"$B/kscope" flamegraph --unit bytes --title "kmem: bytes allocated by \
kernel stack (opener, 20,000 opens)" < "$OUT/kmem.folded" \
	> "$OUT/kmem-flame.svg"

# what a browser shows (headless Chromium, Debian's package)
chromium --headless --no-sandbox --disable-gpu --hide-scrollbars \
	--window-size=1200,2200 --screenshot="$PWD/$OUT/report.png" \
	"file://$PWD/$OUT/report.html" > /dev/null 2>&1
chromium --headless --no-sandbox --disable-gpu --hide-scrollbars \
	--window-size=1200,700 --screenshot="$PWD/$OUT/kmem-flame.png" \
	"file://$PWD/$OUT/kmem-flame.svg" > /dev/null 2>&1
ls -l "$OUT/report.html" "$OUT/report.png" "$OUT/kmem-flame.svg" \
	"$OUT/kmem-flame.png"
