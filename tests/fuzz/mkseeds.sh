#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
# Seed corpora for the fuzzers, made by the build: small ELF objects
# compiled here (PIE, non-PIE, shared, stripped, with DWARF), this
# machine's /proc/self/maps, the kallsyms fixture, command lines of every
# tool, and a few inputs for the writer grammars.
# usage: mkseeds.sh OUTDIR
set -eu
out=$(mkdir -p "$(dirname "$1")" && cd "$(dirname "$1")" && pwd)/$(basename "$1")
src=$(cd "$(dirname "$0")" && pwd)
rm -rf "$out.tmp"
mkdir -p "$out.tmp"
cd "$out.tmp"

mkdir usyms_elf maps kallsyms args json report flame http
cc=${CC:-cc}
e=usyms_elf
$cc -O1 -g -fPIE -pie "$src/seed_prog.c" -o $e/pie_g
$cc -O2 -no-pie "$src/seed_prog.c" -o $e/nopie
$cc -O2 -fPIC -shared -g "$src/seed_prog.c" -o $e/shared_g.so
$cc -O2 -fPIE -pie -s "$src/seed_prog.c" -o $e/pie_stripped
$cc -O1 -g -gz=zlib -fPIE -pie "$src/seed_prog.c" -o $e/pie_gz 2>/dev/null ||
	true
$cc -O1 -g -c "$src/seed_prog.c" -o $e/reloc.o
cp /proc/self/maps maps/self
printf '%s\n' \
	'55d0c0000000-55d0c0001000 r--p 00000000 fd:01 123 /usr/bin/x' \
	'55d0c0001000-55d0c0005000 r-xp 00001000 fd:01 123 /usr/bin/x' \
	'7f0000000000-7f0000100000 r-xp 00000000 fd:01 9 /a b/lib (deleted)' \
	'7f0000200000-7f0000201000 r-xp 00000000 00:00 0 [vdso]' \
	'7f0000300000-7f0000301000 r-xp 00000000 00:00 0' > maps/tricky
cp "$src/../unit/fixtures/kallsyms" kallsyms/fixture
# args: the first byte picks the tool (index in tools.def), NULs split
i=0
for t in 0 1 2 3 4 5 6 7 8 9; do
	printf "\\$(printf %03o $t)-d\\0001\\000-j" > args/d$t
	printf "\\$(printf %03o $t)-p\\0001\\000-s\\000--stack-depth\\00016\\000-r\\0005" > args/p$t
	printf "\\$(printf %03o $t)0.5\\0003\\000-m\\000tracepoint" > args/i$t
	printf "\\$(printf %03o $t)--\\000/bin/true\\000-x" > args/c$t
	i=$((i + 1))
done
printf '\006--obj\000/lib/x\000-k\000all\000-O\0002' > args/memleak
printf '\001abcdefghij\001\002\003\004\005\006\007\010' > json/a
printf '\006\002\004key\001\007\000\000\000\000\000\000\001\377' > json/b
head -c 512 "$src/fuzz_json.c" > json/text
printf '\005comm-\377\001\t"\\\n\000\000\000\000\000\000\010site+0x1\000\000\000\000\000\000\000\007' > report/a
head -c 1024 "$src/fuzz_report.c" > report/text
# flame: even first byte: folded text; odd: a report's rows
printf '\000kmem;a_[k];b_[k] 10\nkmem;a_[k] 5\n# c\nx;f [lib.so] 3\nbad\n' > flame/text
printf '\003comm\000\000\000\000\000\000\000\000\000\000\000\000\000\000\000\000\001\000\000\000\002\002\377\377\377\377\201\000\000\000\377\377\377\377\201\000\000\010' > flame/report
# http: flags (1 users, 2 good credentials, 4 no Authorization), then
# method, path, Accept, Accept-Encoding, Authorization, seconds
printf '\001GET\000/metrics\000application/openmetrics-text; version=1.0.0\000gzip\000' > http/metrics
printf '\000GET\000/debug/pprof/kmem\000*/*\000\000\000250' > http/profile
printf '\000POST\000/\000\000\000Basic eDp5\0001e3' > http/post
cd ..
rm -rf "$out"
mv "$out.tmp" "$out"
