#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# fetch-kernels.sh - get the Debian kernels the VM tier boots, cached.
#
# Usage: fetch-kernels.sh [LABEL...]
#        (labels: 6.1 6.12 6.12-rt 6.12-arm64; default all)
#        fetch-kernels.sh --arm64-debs DIR PKG...
#        (download arm64 .debs, e.g. libbpf-dev, with the same private apt
#        configuration, into DIR unless there already; scripts/cross-arm64.sh)
#
# Prints one line per kernel on stdout:  LABEL VMLINUZ CONFIG PACKAGE VERSION
# Everything else (progress, apt noise) goes to stderr, so callers can parse
# stdout.  Exit status is non-zero, with a message saying what failed, if any
# kernel could not be resolved, downloaded or extracted: the VM tier must
# never quietly run on fewer kernels than it claims.
#
# Package names are resolved at run time, never hard-coded, because Debian
# bumps the ABI number (6.1.0-NN) and the 6.12 point release with every
# security update and old .debs vanish from the mirrors:
#   6.1:  whatever the linux-image-amd64 metapackage depends on
#         (linux-image-6.1.0-NN-amd64);
#   6.12: the newest linux-image-6.12.N+deb12-amd64.  On Debian 12 these come
#         from the linux-signed-6.12-amd64 source package in bookworm-security
#         (and point releases), so no backports entry is needed in
#         /etc/apt/sources.list*; bookworm-backports would also provide them.
#   6.12-rt: the newest linux-image-6.12.N+deb12-rt-amd64 (PREEMPT_RT), same
#         source package.
#   6.12-arm64: the newest linux-image-6.12.N+deb12-arm64.  The host's apt
#         knows amd64 only, and adding the arm64 architecture to it would
#         change the host's own apt state, so this label uses a private apt
#         configuration under $CACHE/apt-arm64 (its own sources.list with
#         [arch=arm64], lists and state), made by this script.
#
# Cache: $KSCOPE_VM_CACHE (default /var/cache/kscope-vm):
#   debs/PKG_VERSION_amd64.deb        as apt-get download left it
#   kernels/PKG_VERSION/vmlinuz       extracted kernel
#   kernels/PKG_VERSION/config        its .config (to check options)
# A kernel already extracted is not downloaded again.

set -eu

CACHE=${KSCOPE_VM_CACHE:-/var/cache/kscope-vm}
LABELS=${*:-"6.1 6.12 6.12-rt 6.12-arm64"}
ALL_LABELS="6.1 6.12 6.12-rt 6.12-arm64"

log() { printf 'fetch-kernels: %s\n' "$*" >&2; }
die() {
	printf 'fetch-kernels: ERROR: %s\n' "$*" >&2
	exit 1
}

# apt-cache needs package lists; a fresh machine (CI) may have none, and
# stale lists name .debs that the mirror already dropped.  Refresh when the
# lists are missing or older than a day, or when forced after a failed
# download.
lists_fresh() {
	[ -n "$(find /var/lib/apt/lists -maxdepth 1 -name '*_Packages*' \
		-mmin -1440 2>/dev/null | head -n 1)" ]
}

apt_update() {
	log "apt-get update"
	if [ "$(id -u)" != 0 ]; then
		log "not root: cannot refresh apt lists, using them as they are"
		return 0
	fi
	apt-get update -q >&2 || die "apt-get update failed (no network? broken sources in /etc/apt/sources.list*?)"
}

# A private apt for arm64 packages: APT_ARM64 holds the options every
# apt-get/apt-cache call for arm64 takes.  The host's sources decide the
# mirror (deb.debian.org unless /etc/apt says otherwise).
ARM=$CACHE/apt-arm64
APT_ARM64="-o Dir::Etc::SourceList=$ARM/sources.list -o Dir::Etc::SourceParts=$ARM/parts
 -o Dir::State=$ARM/state -o Dir::Cache=$ARM/cache -o APT::Architecture=arm64
 -o APT::Architectures=arm64 -o Debug::NoLocking=1"
arm64_apt_setup() {
	mkdir -p "$ARM/parts" "$ARM/state/lists/partial" "$ARM/cache/archives/partial"
	if [ ! -s "$ARM/sources.list" ]; then
		cat >"$ARM/sources.list" <<-EOS
		deb [arch=arm64] http://deb.debian.org/debian bookworm main
		deb [arch=arm64] http://deb.debian.org/debian bookworm-updates main
		deb [arch=arm64] http://deb.debian.org/debian-security bookworm-security main
		EOS
	fi
	touch "$ARM/state/status"
}
arm64_lists_fresh() {
	[ -n "$(find "$ARM/state/lists" -maxdepth 1 -name '*_Packages*' \
		-mmin -1440 2>/dev/null | head -n 1)" ]
}
arm64_update() {
	log "apt-get update (private arm64 lists in $ARM)"
	# shellcheck disable=SC2086
	apt-get $APT_ARM64 update -q >&2 ||
		die "apt-get update of the arm64 lists failed (no network?)"
}
# apt for LABEL: the private arm64 configuration or the host's
aptopts() {
	case $1 in
	*-arm64) printf '%s' "$APT_ARM64" ;;
	esac
}
debarch() {
	case $1 in
	*-arm64) echo arm64 ;;
	*) echo amd64 ;;
	esac
}

update_for() {
	case $1 in
	*-arm64) arm64_update ;;
	*) apt_update ;;
	esac
}

# resolve LABEL -> package name (stdout)
resolve() {
	case $1 in
	6.1)
		# The metapackage's dependency is the current 6.1 ABI package.
		pkg=$(apt-cache depends linux-image-amd64 2>/dev/null |
			sed -n 's/^ *Depends: \(linux-image-6\.1\.[0-9.-]*-amd64\)$/\1/p' |
			head -n 1)
		;;
	6.12)
		# Exact ABI name only: skip -dbg, -unsigned, cloud and rt flavours.
		pkg=$(apt-cache pkgnames linux-image-6.12. 2>/dev/null |
			grep -E '^linux-image-6\.12\.[0-9]+\+deb12-amd64$' |
			sort -V | tail -n 1)
		;;
	6.12-rt)
		pkg=$(apt-cache pkgnames linux-image-6.12. 2>/dev/null |
			grep -E '^linux-image-6\.12\.[0-9]+\+deb12-rt-amd64$' |
			sort -V | tail -n 1)
		;;
	6.12-arm64)
		# shellcheck disable=SC2086
		pkg=$(apt-cache $APT_ARM64 pkgnames linux-image-6.12. 2>/dev/null |
			grep -E '^linux-image-6\.12\.[0-9]+\+deb12-arm64$' |
			sort -V | tail -n 1)
		;;
	*)
		die "unknown kernel label '$1' (known: $ALL_LABELS)"
		;;
	esac
	[ -n "$pkg" ] || return 1
	printf '%s\n' "$pkg"
}

# download + extract PKG for LABEL; prints the result line
fetch_one() {
	label=$1 pkg=$2
	opts=$(aptopts "$label") arch=$(debarch "$label")
	# shellcheck disable=SC2086
	ver=$(apt-cache $opts policy "$pkg" 2>/dev/null |
		sed -n 's/^ *Candidate: *//p' | head -n 1)
	[ -n "$ver" ] && [ "$ver" != "(none)" ] ||
		return 1
	# dpkg file names encode the epoch colon as %3a; kernels have no
	# epoch, but keep directory names free of ':' regardless.
	key=$(printf '%s_%s' "$pkg" "$ver" | tr ':' '_')
	kdir=$CACHE/kernels/$key
	if [ ! -s "$kdir/vmlinuz" ]; then
		mkdir -p "$CACHE/debs"
		deb=$(ls "$CACHE/debs/${pkg}_"*"$(printf %s "$ver" | sed 's/.*://')"_$arch.deb \
			2>/dev/null | head -n 1 || true)
		if [ -z "$deb" ]; then
			log "downloading $pkg $ver into $CACHE/debs"
			# root's apt sandbox user (_apt) may not write the cache
			# directory; downloading as root is harmless here.
			(cd "$CACHE/debs" &&
				apt-get $opts download -q -o APT::Sandbox::User=root \
					"$pkg=$ver" >&2) || return 1
			deb=$(ls "$CACHE/debs/${pkg}_"*_$arch.deb 2>/dev/null |
				sort -V | tail -n 1)
			[ -n "$deb" ] || return 1
		fi
		log "extracting /boot from $deb"
		tmp=$kdir.tmp.$$
		rm -rf "$tmp"
		mkdir -p "$tmp"
		# Only /boot: the modules tree is ~400 MB and the guest needs
		# none of it (BPF, kprobes, ftrace, 8250 serial, NUMA, tmpfs
		# are built in on Debian's amd64 config).
		dpkg-deb --fsys-tarfile "$deb" | tar -x -C "$tmp" ./boot ||
			die "cannot extract $deb (corrupt download? delete it and retry)"
		vmlinuz=$(ls "$tmp"/boot/vmlinuz-* 2>/dev/null | head -n 1)
		config=$(ls "$tmp"/boot/config-* 2>/dev/null | head -n 1)
		[ -n "$vmlinuz" ] || die "$deb holds no /boot/vmlinuz-*"
		mv "$vmlinuz" "$tmp/vmlinuz"
		[ -z "$config" ] || mv "$config" "$tmp/config"
		rm -rf "$tmp/boot" "$kdir"
		mv "$tmp" "$kdir"
		# the .deb is ~100 MB and no longer needed once extracted
		rm -f "$deb"
	else
		log "cached: $kdir"
	fi
	printf '%s %s %s %s %s\n' "$label" "$kdir/vmlinuz" "$kdir/config" \
		"$pkg" "$ver"
}

command -v apt-get >/dev/null || die "apt-get not found: the VM tier needs Debian's kernel packages"
command -v dpkg-deb >/dev/null || die "dpkg-deb not found"
mkdir -p "$CACHE" || die "cannot create cache directory $CACHE (set KSCOPE_VM_CACHE)"

case " $LABELS " in
*-arm64*)
	arm64_apt_setup
	arm64_lists_fresh || arm64_update
	;;
esac
if [ "${1:-}" = --arm64-debs ]; then
	shift
	dir=$1
	shift
	mkdir -p "$dir"
	arm64_apt_setup
	arm64_lists_fresh || arm64_update
	for p in "$@"; do
		ls "$dir/${p}_"*_arm64.deb >/dev/null 2>&1 && continue
		log "downloading $p:arm64 into $dir"
		# shellcheck disable=SC2086
		(cd "$dir" && apt-get $APT_ARM64 download -q \
			-o APT::Sandbox::User=root "$p" >&2) || {
			arm64_update
			(cd "$dir" && apt-get $APT_ARM64 download -q \
				-o APT::Sandbox::User=root "$p" >&2) ||
				die "apt-get download $p (arm64) failed"
		}
	done
	exit 0
fi

lists_fresh || apt_update
for label in $LABELS; do
	pkg=$(resolve "$label") || {
		update_for "$label"
		pkg=$(resolve "$label") ||
			die "no Debian package found for kernel $label (6.1: linux-image-amd64's dependency; 6.12: linux-image-6.12.*+deb12-amd64, 6.12-rt: ...-rt-amd64, 6.12-arm64: ...-arm64 (private lists in $ARM), from bookworm-security or bookworm-backports) - check /etc/apt/sources.list*"
	}
	log "kernel $label -> $pkg"
	fetch_one "$label" "$pkg" || {
		# stale lists: the version they name may be gone from the
		# mirror; refresh once and try again with the new name
		log "download of $pkg failed; refreshing apt lists and retrying"
		update_for "$label"
		pkg=$(resolve "$label") ||
			die "kernel $label no longer resolvable after apt-get update"
		fetch_one "$label" "$pkg" ||
			die "apt-get download $pkg failed for kernel $label (see apt output above)"
	}
done
