#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
# tool: kpages
# modes: tp_btf raw_tp tracepoint
# where: host
#
# kpages --pprof beside -j while M anonymous pages are touched: go tool
# pprof's alloc_objects and alloc_space totals equal the JSON report's.
. "$(dirname "$0")/_lib.sh"

ks_start kpages --pprof "$OUT/kpages.pb.gz" -c ks_kpages_pp
"$WL/toucher" ks_kpages_pp 20000 > "$OUT/truth.json"
ks_stop
