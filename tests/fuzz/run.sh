#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
# Run libFuzzer harnesses: first every committed regression input
# (tests/fuzz/regress/NAME/), then SECONDS of fuzzing from the build's
# seeds and the corpus kept in FZDIR/corpus/NAME between runs.  A crash
# leaves its input in FZDIR/crash/ (to be committed as a regression input)
# and fails the run.
# usage: run.sh FZDIR SECONDS NAME...
set -u
fz=$1
secs=$2
shift 2
src=$(cd "$(dirname "$0")" && pwd)
[ -d "$fz/seeds" ] || sh "$src/mkseeds.sh" "$fz/seeds" || exit 1
mkdir -p "$fz/crash"
fail=0
for name in "$@"; do
	bin=$fz/fuzz_$name
	corpus=$fz/corpus/$name
	mkdir -p "$corpus"
	log=$fz/$name.log
	if [ -d "$src/regress/$name" ] &&
	   ! "$bin" -runs=0 "$src/regress/$name"/* >"$log" 2>&1; then
		echo "fuzz $name: FAILED on a regression input:"
		tail -40 "$log"
		fail=1
		continue
	fi
	seeds=$fz/seeds/$name
	[ -d "$seeds" ] || seeds=
	"$bin" -max_total_time="$secs" -timeout=20 -rss_limit_mb=2048 \
		-max_len=65536 -print_final_stats=1 -close_fd_mask=3 \
		-artifact_prefix="$fz/crash/$name-" "$corpus" $seeds \
		>"$log" 2>&1
	rc=$?
	runs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log")
	cov=$(grep -o 'cov: [0-9]*' "$log" | tail -1)
	if [ $rc != 0 ]; then
		echo "fuzz $name: CRASH after ${runs:-?} runs (rc $rc):"
		grep -E 'ERROR|runtime error|SUMMARY|Test unit written|^(wrote|wanted|not JSON)' "$log" | head -20
		fail=1
	else
		echo "fuzz $name: ok, ${runs:-?} runs in ${secs}s, $cov," \
		     "corpus $(ls "$corpus" | wc -l)"
	fi
done
exit $fail
