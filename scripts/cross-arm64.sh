#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# cross-arm64.sh - a sysroot for the static aarch64 kscope (make static-arm64)
#
# Usage: cross-arm64.sh SYSROOT
#
# The host's apt stays amd64-only: the arm64 -dev packages (their static
# libraries and headers) are fetched with tests/vm/fetch-kernels.sh's
# private arm64 apt configuration into $KSCOPE_VM_CACHE/cross-arm64 and
# unpacked with dpkg -x into SYSROOT; nothing is installed.  The compiler
# and the arm64 glibc (libc.a) are Debian's cross packages,
# gcc-aarch64-linux-gnu and libc6-dev-arm64-cross, installed on the host
# when missing (they are amd64 packages, so the host's apt state keeps its
# one architecture).  busybox-static:arm64 goes into the sysroot too: the
# arm64 guest's initramfs takes its busybox from there.
set -eu

[ $# -eq 1 ] || { echo "usage: $0 SYSROOT" >&2; exit 2; }
SYSROOT=$1
HERE=$(cd "$(dirname "$0")" && pwd)
REPO=$(cd "$HERE/.." && pwd)
CACHE=${KSCOPE_VM_CACHE:-/var/cache/kscope-vm}
[ -w "$CACHE" ] || [ -w "$(dirname "$CACHE")" ] || CACHE=${XDG_CACHE_HOME:-$HOME/.cache}/kscope-vm
DEBS=$CACHE/cross-arm64
PKGS="libbpf-dev libelf-dev libdw-dev zlib1g-dev liblzma-dev libbz2-dev libzstd-dev busybox-static"

log() { printf 'cross-arm64: %s\n' "$*" >&2; }

if ! command -v aarch64-linux-gnu-gcc >/dev/null ||
	[ ! -e /usr/aarch64-linux-gnu/lib/libc.a ]; then
	[ "$(id -u)" = 0 ] || {
		log "ERROR: needs gcc-aarch64-linux-gnu and libc6-dev-arm64-cross (apt-get install as root)"
		exit 1
	}
	log "apt-get install gcc-aarch64-linux-gnu libc6-dev-arm64-cross"
	DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends \
		gcc-aarch64-linux-gnu libc6-dev-arm64-cross >&2
fi

KSCOPE_VM_CACHE=$CACHE "$REPO/tests/vm/fetch-kernels.sh" --arm64-debs "$DEBS" $PKGS

stamp=$SYSROOT/.debs
want=$(cd "$DEBS" && ls ./*.deb | LC_ALL=C sort)
if [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$want" ]; then
	exit 0
fi
rm -rf "$SYSROOT"
mkdir -p "$SYSROOT"
for d in "$DEBS"/*.deb; do
	dpkg -x "$d" "$SYSROOT"
done
# -dev packages' .so symlinks point at runtime packages we don't unpack;
# only the .a files matter for -static, so drop the dangling links
find "$SYSROOT" -xtype l -delete
printf '%s\n' "$want" >"$stamp"
log "sysroot ready: $SYSROOT"
