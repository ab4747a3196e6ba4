#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
# `make bench`: build the benchmark helpers and run bench/bench.py (cost
# per event), then bench/macro.py (kscope report's cost to whole workloads).
#   sh bench/run.sh [bench.py options]     e.g. --tools kmem -r 9 --full
#   sh bench/run.sh --macro [macro.py options]   e.g. --tracers report,kpages
# BENCH_ARGS adds options when run through make:
#   make bench BENCH_ARGS=--update-docs   (or BENCH_ARGS=... in the env)
set -e
cd "$(dirname "$0")/.."
if [ "$(id -u)" != 0 ]; then
	echo "bench: needs root (it loads BPF programs)" >&2
	exit 1
fi
sh scripts/install-deps.sh bpftrace python3 stress-ng
make -s all			# kscope and build/vmlinux.h (no-op when built)
make -s -f bench/bench.mk
if [ "${1:-}" = --macro ]; then
	shift
	exec python3 bench/macro.py "$@"
fi
if [ $# -gt 0 ]; then
	BENCH_COMMAND="sh bench/run.sh $*"
else
	# shellcheck disable=SC2016 # the quotes are literal, inside "..."
	BENCH_COMMAND="make bench${BENCH_ARGS:+ BENCH_ARGS='$BENCH_ARGS'}"
fi
export BENCH_COMMAND
# shellcheck disable=SC2086
python3 bench/bench.py $BENCH_ARGS "$@"
if [ $# -eq 0 ]; then
	# report beside the floor of its hooks (docs/bench.md)
	python3 bench/macro.py --tracers report,floor,'floor ×programs'
fi
