#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
# mkman.sh KSCOPE TOOL: kscope-TOOL.8 on stdout, made from `kscope TOOL -h`
# so the man page and `kscope help TOOL` can never say different things.
set -eu
ks=$1 tool=$2
"$ks" "$tool" -h | awk -v tool="$tool" '
function esc(s) { gsub(/\\/, "\\e", s); gsub(/^\./, "\\\\\\&.", s); gsub(/^'"'"'/, "\\\\\\&'"'"'", s); return s }
BEGIN {
	printf ".TH KSCOPE-%s 8 \"\" \"kscope\" \"System Administration\"\n", toupper(tool)
	state = "synopsis"
}
NR == 1 { sub(/^Usage: /, ""); syn = $0; next }
state == "synopsis" && /^$/ { next }
state == "synopsis" { printf ".SH NAME\nkscope-%s \\- %s\n.SH SYNOPSIS\n%s\n.SH DESCRIPTION\n", tool, esc($0), esc(syn); state = "desc"; print esc($0); next }
/^Options:$/ { print ".SH OPTIONS\n.nf"; state = "opts"; next }
/^Examples:$/ { print ".fi\n.SH EXAMPLES\n.nf"; next }
/^Overhead:$/ { print ".fi\n.SH OVERHEAD\n.nf"; next }
{ print esc($0) }
END { print ".fi\n.SH SEE ALSO\nkscope-features(8), kscope-report(8), bpftrace(8)" }
'
