#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# mkinitramfs.sh - build the test VM's initramfs (uncompressed newc cpio).
#
# Usage: mkinitramfs.sh OUTPUT.cpio
#
# Contents:
#   /init                 tests/vm/guest-init.sh
#   /bin/busybox + links  every applet of the static busybox
#   /bin/kscope           build/kscope-static, or else build/kscope plus the
#                         shared libraries and ELF interpreter ldd names
#   /wl/                  build/workloads/* (dynamic ones get their libs too)
#   /cases/               tests/cases/ (scripts and helpers, not host .py)
#   /selftest/            tests/vm/selftest/*.sh and bin/numa_touch
# Uncompressed on purpose: under TCG the kernel's gunzip of a few MB costs
# more boot time than QEMU loading the bigger file.
#
# Environment: CC (default cc) builds numa_touch; KSCOPE_BUILD (default
# REPO/build) is where kscope and workloads are taken from; BUSYBOX, a
# static busybox to use (the arm64 guest's, from build/arm64/sysroot);
# CROSS_LIBDIR, where a foreign-architecture dynamic workload's libraries
# are (host ldd cannot list them: its NEEDED entries and interpreter are
# copied from there, e.g. /usr/aarch64-linux-gnu/lib).
# A missing kscope is not an error here: the VM still boots and the tier
# reports the missing binary as a failure of its own, which is clearer than
# no VM at all.

set -eu

[ $# -eq 1 ] || {
	echo "usage: $0 OUTPUT.cpio" >&2
	exit 2
}
OUTPUT=$1
HERE=$(cd "$(dirname "$0")" && pwd)
REPO=$(cd "$HERE/../.." && pwd)
BUILD=${KSCOPE_BUILD:-$REPO/build}
CC=${CC:-cc}

log() { printf 'mkinitramfs: %s\n' "$*" >&2; }
die() {
	printf 'mkinitramfs: ERROR: %s\n' "$*" >&2
	exit 1
}

is_static() { # ELF without a program interpreter
	! LC_ALL=C readelf -l "$1" 2>/dev/null | grep -q 'Requesting program interpreter'
}

is_elf() {
	[ "$(head -c 4 "$1" | od -An -c | tr -d ' ')" = '177ELF' ]
}

S=$(mktemp -d "${TMPDIR:-/tmp}/kscope-initramfs.XXXXXX")
trap 'rm -rf "$S"' EXIT INT TERM

# copy_libs BINARY: its shared libraries and interpreter, at their own paths
copy_libs() {
	if [ -n "${CROSS_LIBDIR:-}" ]; then
		copy_cross_libs "$1"
		return
	fi
	ldd "$1" 2>/dev/null |
		sed -n 's/.*=> \(\/[^ ]*\) .*/\1/p; s/^[[:space:]]*\(\/[^ ]*\) (.*/\1/p' |
		sort -u | while read -r lib; do
			[ -e "$S$lib" ] && continue
			mkdir -p "$S$(dirname "$lib")"
			cp -L "$lib" "$S$lib"
			echo "$lib"
		done
}

# a cross-built binary: interpreter and NEEDED libraries from CROSS_LIBDIR,
# put in /lib (the interpreter's path and a default search directory)
copy_cross_libs() {
	{
		LC_ALL=C readelf -l "$1" 2>/dev/null |
			sed -n 's/.*Requesting program interpreter: \(.*\)]/\1/p'
		LC_ALL=C readelf -d "$1" 2>/dev/null |
			sed -n 's/.*(NEEDED).*\[\(.*\)\]/\1/p'
	} | while read -r lib; do
		b=$(basename "$lib")
		[ -e "$S/lib/$b" ] && continue
		mkdir -p "$S/lib"
		cp -L "$CROSS_LIBDIR/$b" "$S/lib/$b" || die "no $b in $CROSS_LIBDIR"
		echo "/lib/$b"
	done
}

mkdir -p "$S/bin" "$S/sbin" "$S/usr/bin" "$S/usr/sbin" "$S/etc" \
	"$S/proc" "$S/sys" "$S/dev" "$S/tmp" "$S/run" "$S/root" \
	"$S/wl" "$S/cases" "$S/selftest/bin" "$S/results"

# busybox: must be the static one; a dynamic busybox would need a libc we
# don't ship.
BB=
for b in ${BUSYBOX:-} /bin/busybox /usr/bin/busybox $(command -v busybox 2>/dev/null); do
	[ -x "$b" ] && is_static "$b" && { BB=$b; break; }
done
[ -n "$BB" ] || die "no static busybox found: apt-get install busybox-static"
cp "$BB" "$S/bin/busybox"
# a foreign busybox cannot run here to list its applets: take the host's
# list (the same Debian busybox-static version, the same applets)
LIST_BB=$BB
"$BB" true 2>/dev/null || LIST_BB=$(command -v busybox) ||
	die "cannot list busybox applets (no host busybox)"
"$LIST_BB" --list-full | while read -r a; do
	[ "$a" = bin/busybox ] && continue
	mkdir -p "$S/$(dirname "$a")"
	ln -sf /bin/busybox "$S/$a"
done

# kscope
if [ -x "$BUILD/kscope-static" ]; then
	cp "$BUILD/kscope-static" "$S/bin/kscope"
	is_static "$S/bin/kscope" ||
		log "WARNING: $BUILD/kscope-static is not static; adding its libraries"
	n=$(copy_libs "$S/bin/kscope" | wc -l)
	KS_DESC="static ($BUILD/kscope-static, $n libs added)"
	# plain `make` rebuilds only build/kscope; testing an older static
	# copy in the VMs would report on code that no longer exists
	if [ -x "$BUILD/kscope" ] && [ "$BUILD/kscope" -nt "$BUILD/kscope-static" ]; then
		KS_DESC="$KS_DESC; WARNING: older than $BUILD/kscope, run 'make static'"
		log "WARNING: $BUILD/kscope-static is older than $BUILD/kscope: run 'make static'"
	fi
elif [ -x "$BUILD/kscope" ]; then
	cp "$BUILD/kscope" "$S/bin/kscope"
	libs=$(copy_libs "$BUILD/kscope")
	KS_DESC="dynamic ($BUILD/kscope with: $(echo $libs))"
else
	KS_DESC="MISSING (no $BUILD/kscope-static or $BUILD/kscope: run make)"
fi
log "kscope: $KS_DESC"

# fleet boots (tests/test_vm_fleet.py): kscope export is not in the static
# build (libmicrohttpd, GnuTLS), so the dynamic build/kscope goes in too,
# as /bin/kscope-export with its libraries; and the virtio-net modules of
# each kernel (fetch-netmods.sh) under /netmods/RELEASE/
if [ -n "${KSCOPE_INITRAMFS_EXPORT:-}" ]; then
	[ -x "$BUILD/kscope" ] || die "no $BUILD/kscope for kscope export: run make"
	cp "$BUILD/kscope" "$S/bin/kscope-export"
	n=$(copy_libs "$BUILD/kscope" | wc -l)
	# and the libraries the exporter opens itself (src/export/dl.c
	# names them), with theirs: ldd of kscope does not list them
	for so in $(sed -n 's/^#define KS_DL_[A-Z]*_SO[[:space:]]*"\(.*\)"/\1/p' \
		    "$REPO/src/export/dl.c"); do
		lib=$(ldconfig -p | sed -n "s|^[[:space:]]*$so (libc6,x86-64) => ||p" |
		      head -n 1)
		[ -n "$lib" ] || die "kscope export opens $so: not installed"
		mkdir -p "$S$(dirname "$lib")"
		cp -L "$lib" "$S$lib"
		n=$((n + 1 + $(copy_libs "$lib" | wc -l)))
	done
	log "kscope export: $BUILD/kscope as /bin/kscope-export ($n libs added)"
	for d in ${KSCOPE_INITRAMFS_NETMODS:-}; do
		mkdir -p "$S/netmods"
		cp -r "$d" "$S/netmods/$(basename "$d")"
		log "netmods: $(basename "$d"): $(echo $(cat "$d/order"))"
	done
fi

# workloads
nwl=0
if [ -d "$BUILD/workloads" ]; then
	for w in "$BUILD"/workloads/*; do
		[ -f "$w" ] || continue
		cp -p "$w" "$S/wl/"
		nwl=$((nwl + 1))
		if [ -x "$w" ] && is_elf "$w" && ! is_static "$w"; then
			log "workload $(basename "$w") is dynamic; adding its libraries"
			copy_libs "$w" >/dev/null
		fi
	done
fi
log "workloads: $nwl"

# cases: everything the scripts may source, not the host-side checks
ncases=0
if [ -d "$REPO/tests/cases" ]; then
	(cd "$REPO/tests/cases" &&
		find . -name __pycache__ -prune -o -type f ! -name '*.py' -print |
		cpio -pdm --quiet "$S/cases")
	ncases=$(ls "$S"/cases/*.sh 2>/dev/null | wc -l)
fi
log "cases: $ncases"

# self-test case(s) and their helper binary; numa_touch is rebuilt only
# when its source changed
cp "$HERE"/selftest/*.sh "$S/selftest/"
NT=$BUILD/vm/numa_touch
if [ ! -x "$NT" ] || [ "$HERE/selftest/numa_touch.c" -nt "$NT" ]; then
	mkdir -p "$BUILD/vm"
	$CC -static -O2 -Wall -o "$NT" "$HERE/selftest/numa_touch.c" ||
		die "cannot build numa_touch statically (needs gcc and libc6-dev)"
fi
cp "$NT" "$S/selftest/bin/numa_touch"

cp "$HERE/guest-init.sh" "$S/init"
chmod 755 "$S/init"
echo 'root:x:0:0:root:/root:/bin/sh' >"$S/etc/passwd"
echo 'root:x:0:' >"$S/etc/group"
# The kernel's built-in initramfs already has /dev/console, but a node of
# our own costs nothing and keeps init's stdio working if that ever changes.
[ "$(id -u)" = 0 ] && mknod -m 600 "$S/dev/console" c 5 1 2>/dev/null || true

(cd "$S" && find . | LC_ALL=C sort | cpio -o -H newc -R 0:0 --quiet) >"$OUTPUT.tmp"
mv "$OUTPUT.tmp" "$OUTPUT"
{
	echo "kscope: $KS_DESC"
	echo "workloads: $nwl"
	echo "cases: $ncases"
	(cd "$S" && find . -type f | LC_ALL=C sort)
} >"$OUTPUT.manifest"
log "wrote $OUTPUT ($(du -k "$OUTPUT" | cut -f1) KiB)"
