#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
# mkman.sh KSCOPE [COMMAND]: kscope-COMMAND.8 (or kscope.8 without COMMAND) on
# stdout, made from `kscope COMMAND -h` and the command table of `kscope -h`,
# so the man pages and `kscope help COMMAND` can never say different things.
# NAME is the command's line in that table; the help text before "Options:"
# is the DESCRIPTION (paragraphs kept), then OPTIONS, EXAMPLES, OVERHEAD.
set -eu
ks=$1 cmd=${2:-}
cmds=$("$ks" -h | awk '/^Commands:/{c=1;next} c&&/^  [a-z]/{print $1} c&&/^$/{exit}')
if [ -n "$cmd" ]; then
	summary=$("$ks" -h | awk -v c="$cmd" '/^Commands:/{t=1;next} t&&$1==c{$1="";sub(/^ +/,"");print;exit}')
	[ -n "$summary" ] || { echo "mkman.sh: '$cmd' is not in the command table of kscope -h" >&2; exit 1; }
	"$ks" "$cmd" -h > "${TMPDIR:-/tmp}/mkman.$$" ; page=kscope-$cmd
else
	summary="kernel lock, memory, NUMA and workqueue analysis with eBPF"
	"$ks" -h > "${TMPDIR:-/tmp}/mkman.$$"; page=kscope
fi
see=$(for c in $cmds; do [ "$c" = help ] || [ "$c" = "$cmd" ] || printf 'kscope-%s(8), ' "$c"; done)
[ -z "$cmd" ] || see="kscope(8), $see"
awk -v page="$page" -v summary="$summary" -v see="${see}bpftrace(8)" '
function esc(s) { gsub(/\\/, "\\e", s); gsub(/-/, "\\-", s); sub(/^\./, "\\\\\\&.", s); sub(/^'"'"'/, "\\\\\\&'"'"'", s); return s }
BEGIN { printf ".TH %s 8 \"\" \"kscope\" \"System Administration\"\n.nh\n.ad l\n", toupper(page) }
NR == 1 { sub(/^Usage: /, ""); printf ".SH NAME\n%s \\- %s\n.SH SYNOPSIS\n%s\n.SH DESCRIPTION\n", page, esc(summary), esc($0); state = "desc"; skip = 1; next }
state == "desc" && /^$/ { if (!skip) print ".PP"; skip = 1; next }
/^(Options|Examples|Overhead|Commands):$/ {
	h = toupper(substr($0, 1, length($0) - 1))
	printf "%s.SH %s\n.nf\n", (state == "desc" ? "" : ".fi\n"), h; state = "pre"; next
}
state == "desc" { skip = 0; print esc($0); next }
{ print esc($0) }
END { if (state == "pre") print ".fi"; printf ".SH SEE ALSO\n%s\n", see }
' "${TMPDIR:-/tmp}/mkman.$$"
rm -f "${TMPDIR:-/tmp}/mkman.$$"
