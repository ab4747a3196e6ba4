#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
# tool: slabratetop
# where: host vm
#
# The top-like text screen: by default each report clears the screen with
# an ANSI escape (no clear(1) is run) and shows the time and the load
# average; -C leaves the screen alone.  "interval count" ends the run.
. "$(dirname "$0")/_lib.sh"

m=""
[ -n "$MODE" ] && m="-m $MODE"
# shellcheck disable=SC2086
"$KSCOPE" slabratetop $m -r 5 0.3 3 >"$OUT/clear.txt" 2>"$OUT/clear.err"
echo $? >"$OUT/clear.rc"
# shellcheck disable=SC2086
"$KSCOPE" slabratetop $m -C -r 5 0.3 3 >"$OUT/noclear.txt" 2>"$OUT/noclear.err"
echo $? >"$OUT/noclear.rc"
cat /proc/loadavg >"$OUT/loadavg"
