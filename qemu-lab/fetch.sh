#!/bin/bash
# fetch.sh CACHE: downloads the guest's Debian packages (the current Debian 12 kernel behind
# linux-image-amd64, open-iscsi and the libraries its programs load) into CACHE/debs with
# `apt-get download` with busybox-static (the host may have the dynamic busybox, which
# conflicts with it), unpacks them into CACHE/tree with `dpkg-deb -x` (nothing is installed on
# the host), and runs depmod on the unpacked kernel. Packages already downloaded are kept.
source "$(dirname "$0")/lib.sh"

cache=${1:?usage: fetch.sh CACHE}
mkdir -p "$cache/debs"
cache=$(cd "$cache" && pwd)

# The libraries of iscsistart and iscsid, transitively; copy_with_libs checks the list is whole.
LIB_PKGS="libc6 libssl3 libkmod2 libzstd1 liblzma5 libmount1 libsystemd0 libblkid1 libselinux1
	  libcap2 libgcrypt20 liblz4-1 libpcre2-8-0 libgpg-error0 libisns0 libopeniscsiusr"

kpkg=$(apt-cache depends linux-image-amd64 2>/dev/null | awk '$1 == "Depends:" && $2 ~ /^linux-image-/ { print $2; exit }')
[ -n "$kpkg" ] || die "apt-cache knows no linux-image-amd64 (is the Debian archive in sources.list?)"
kver=${kpkg#linux-image-}

want=""
for p in "$kpkg" open-iscsi busybox-static $LIB_PKGS; do
	compgen -G "$cache/debs/${p}_*.deb" >/dev/null || want="$want $p"
done
if [ -n "$want" ]; then
	echo "qemu-lab: downloading$want"
	# As root apt would drop to _apt, which may not write here; the files are only unpacked.
	(cd "$cache/debs" && apt-get download -q -o APT::Sandbox::User="$(id -un)" $want) ||
		die "apt-get download failed for:$want"
fi

rm -rf "$cache/tree" "$cache/tree.stamp"
mkdir -p "$cache/tree"
for d in "$cache"/debs/{"$kpkg",open-iscsi,busybox-static}_*.deb; do
	dpkg-deb -x "$d" "$cache/tree"
done
for p in $LIB_PKGS; do
	for d in "$cache"/debs/"${p}"_*.deb; do dpkg-deb -x "$d" "$cache/tree"; done
done
[ -f "$cache/tree/boot/vmlinuz-$kver" ] || die "$kpkg has no /boot/vmlinuz-$kver"
[ -x "$cache/tree/bin/busybox" ] || die "busybox-static has no /bin/busybox"
depmod -b "$cache/tree" "$kver"
echo "$kver" > "$cache/tree.stamp"
