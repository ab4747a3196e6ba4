#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# fetch-netmods.sh - the virtio-net driver of a Debian kernel package, for
# the fleet VMs (guests that serve kscope export to the host through QEMU
# user-mode networking).  Debian builds virtio_net (and on 6.1 virtio and
# virtio_pci too) as modules, which fetch-kernels.sh does not keep.
#
# Usage: fetch-netmods.sh PKG VERSION KDIR
#   Writes KDIR/netmods/RELEASE/*.ko (decompressed: busybox insmod reads
#   plain ELF only) and KDIR/netmods/RELEASE/order (insmod order, the
#   dependencies of virtio_net from the package's modules.dep first), and
#   prints KDIR/netmods/RELEASE.  A kernel already done is not downloaded
#   again; the .deb (~100 MB) is deleted after extraction.
set -eu

[ $# -eq 3 ] || { echo "usage: $0 PKG VERSION KDIR" >&2; exit 2; }
PKG=$1 VER=$2 KDIR=$3
WANT="virtio_net"

die() { printf 'fetch-netmods: ERROR: %s\n' "$*" >&2; exit 1; }

if [ -s "$KDIR"/netmods/*/order ] 2>/dev/null; then
	ls -d "$KDIR"/netmods/*/ | head -n 1 | sed 's,/$,,'
	exit 0
fi
T=$(mktemp -d "${TMPDIR:-/tmp}/kscope-netmods.XXXXXX")
trap 'rm -rf "$T"' EXIT INT TERM
printf 'fetch-netmods: downloading %s %s\n' "$PKG" "$VER" >&2
(cd "$T" && apt-get download -q -o APT::Sandbox::User=root \
	"$PKG=$VER" >&2) || die "apt-get download $PKG=$VER failed"
deb=$(ls "$T"/*.deb | head -n 1)
mkdir "$T/x" "$T/ko"
dpkg-deb --fsys-tarfile "$deb" | tar -x -C "$T/x" --wildcards \
	'./lib/modules/*/kernel/drivers/net/*' \
	'./lib/modules/*/kernel/drivers/virtio/*' \
	'./lib/modules/*/kernel/net/core/*' ||
	die "cannot extract modules from $deb"
rm -f "$deb"
mdir=$(ls -d "$T"/x/lib/modules/*/ | head -n 1)
rel=$(basename "$mdir")

# plain: busybox insmod reads uncompressed ELF only
plain() { # module name -> $T/ko/NAME.ko
	f=$(find "$mdir" -name "$1.ko*" | head -n 1)
	[ -n "$f" ] || die "module $1 not in $PKG"
	case $f in
	*.ko.xz) xz -dc "$f" ;;
	*.ko.zst) zstd -dcq "$f" ;;
	*.ko.gz) gzip -dc "$f" ;;
	*) cat "$f" ;;
	esac >"$T/ko/$1.ko" || die "cannot decompress $f"
}

# no modules.dep in the package (depmod makes it at install): each
# module's own "depends=" (its .modinfo strings) names what loads first
order=""
add() { # module name
	m=$(printf %s "$1" | tr - _)
	case " $order " in *" $m "*) return 0 ;; esac
	plain "$m"
	deps=$(tr '\0' '\n' <"$T/ko/$m.ko" | sed -n 's/^depends=//p' |
		head -n 1 | tr , ' ')
	for d in $deps; do add "$d"; done
	m=$(printf %s "$1" | tr - _)
	order="$order $m"
}
# the PCI transport first: a module on 6.1, built in on 6.12
for m in virtio_pci; do
	[ -n "$(find "$mdir" -name "$m.ko*")" ] && add "$m"
done
for m in $WANT; do add "$m"; done

out=$KDIR/netmods/$rel
rm -rf "$out.tmp"
mkdir -p "$out.tmp"
for m in $order; do
	cp "$T/ko/$m.ko" "$out.tmp/"
	echo "$m.ko" >>"$out.tmp/order"
done
rm -rf "$out"
mv "$out.tmp" "$out"
echo "$out"
