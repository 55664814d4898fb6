#!/bin/bash
# mkinitramfs.sh CACHE OUT: the lab guest's initramfs from the unpacked Debian tree in CACHE
# (see fetch.sh): busybox-static, iscsistart with its libraries, the kernel modules for an
# e1000 NIC and an ext4 root on iSCSI found through the iBFT, and guest/initramfs-init.
source "$(dirname "$0")/lib.sh"

cache=${1:?usage: mkinitramfs.sh CACHE OUT}
out=${2:?usage: mkinitramfs.sh CACHE OUT}
guest=$(cd "$(dirname "$0")/guest" && pwd)
tree=$(cd "$cache/tree" && pwd)
kver=$(cat "$cache/tree.stamp")
MODULES="e1000 sd_mod iscsi_tcp iscsi_ibft ext4 crc32c_generic"

mkdir -p "$(dirname "$out")"
work=$(mktemp -d "$(dirname "$out")/initramfs.XXXXXX")
trap 'rm -rf "$work"' EXIT

mkdir -p "$work"/{dev,proc,sys,run,tmp,newroot,etc/iscsi}
install_busybox "$tree" "$work"
copy_with_libs "$tree" "$work" sbin/iscsistart
install -m 755 "$guest/initramfs-init" "$work/init"
install -m 755 "$guest/udhcpc.script" "$work/etc/udhcpc.script"
install -m 644 "$guest/iscsid.conf" "$work/etc/iscsi/iscsid.conf"

# Each module with what modules.dep says it needs; depmod then indexes just those, so busybox
# modprobe resolves dependencies inside the initramfs.
kdir=lib/modules/$kver
declare -A seen=()
add_module() {
	local line path dep
	line=$(grep -E "(^|/)$1\.ko(\.[a-z]+)?:" "$tree/$kdir/modules.dep") ||
		{ grep -qE "/$1\.ko" "$tree/$kdir/modules.builtin" && return 0; die "no module $1 in $kver"; }
	for path in ${line%%:*} ${line#*:}; do
		[ -n "${seen[$path]:-}" ] && continue
		seen[$path]=1
		mkdir -p "$work/$kdir/$(dirname "$path")"
		cp "$tree/$kdir/$path" "$work/$kdir/$path"
	done
}
for m in $MODULES; do add_module "$m"; done
cp "$tree/$kdir"/modules.{order,builtin,builtin.modinfo} "$work/$kdir/"
depmod -b "$work" "$kver"

(cd "$work" && find . | LC_ALL=C sort | cpio -o -H newc -R 0:0 --quiet) | zstd -q -19 > "$out.tmp"
mv "$out.tmp" "$out"
echo "qemu-lab: $out ($(du -k "$out" | cut -f1) KiB, ${#seen[@]} modules)"
