#!/bin/bash
# mkimage.sh CACHE WORKLOAD INITRAMFS OUT: the lab guest's disk image, built as an ordinary
# file (no loop devices, no mounts, so it needs no privilege):
#   MBR: syslinux's mbr.bin and a DOS partition table written by sfdisk
#   1  FAT, bootable: SYSLINUX, the Debian kernel, the initramfs, syslinux.cfg
#   2  ext4 labelled qlroot, made by mke2fs -d: busybox, iscsid, the workload, init, and
#      /data/check.bin with its CRC-32 in /data/check.bin.crc
#   3  raw: the workload's sequence-numbered blocks
source "$(dirname "$0")/lib.sh"

[ $# = 4 ] || die "usage: mkimage.sh CACHE WORKLOAD INITRAMFS OUT"
cache=$1 workload=$2 initramfs=$3 out=$4
guest=$(cd "$(dirname "$0")/guest" && pwd)
tree=$(cd "$cache/tree" && pwd)
kver=$(cat "$cache/tree.stamp")
MBR=/usr/lib/syslinux/mbr/mbr.bin
[ -f "$MBR" ] || die "no $MBR (package syslinux-common)"

# Sizes in MiB; the first partition starts at 1 MiB, as fdisk aligns.
BOOT_MB=24 ROOT_MB=40 RAW_MB=16
total_mb=$((1 + BOOT_MB + ROOT_MB + RAW_MB))
sect_per_mb=2048

mkdir -p "$(dirname "$out")"
work=$(mktemp -d "$(dirname "$out")/image.XXXXXX")
trap 'rm -rf "$work"' EXIT

# Root tree.
root=$work/root
mkdir -p "$root"/{dev,proc,sys,run,tmp,data,var/lib/iscsi,etc/iscsi}
install_busybox "$tree" "$root"
copy_with_libs "$tree" "$root" sbin/iscsid
install -m 755 "$guest/init" "$root/sbin/init"
install -m 644 "$guest/iscsid.conf" "$root/etc/iscsi/iscsid.conf"
install -m 755 "$workload" "$root/bin/workload"
# iscsid accepts control requests (its own session sync included) only from a peer whose uid
# getpwuid names "root": without this file it adopts no session, and nothing re-logs in.
echo "root:x:0:0:root:/:/bin/sh" > "$root/etc/passwd"
echo "root:x:0:" > "$root/etc/group"
head -c $((512 * 1024)) /dev/urandom > "$root/data/check.bin"
"$workload" --sum "$root/data/check.bin" > "$root/data/check.bin.crc"

# Partition 1: FAT with SYSLINUX. -h: the partition's start, which the boot sector needs.
boot=$work/boot.fat
mkfs.vfat -C -n QLBOOT -h $sect_per_mb "$boot" $((BOOT_MB * 1024)) >/dev/null
syslinux --install "$boot"
mcopy -i "$boot" "$tree/boot/vmlinuz-$kver" ::vmlinuz
mcopy -i "$boot" "$initramfs" ::initrd.img
mcopy -i "$boot" "$guest/syslinux.cfg" ::syslinux.cfg

# Partition 2: ext4 filled from the tree.
rootfs=$work/root.ext4
mke2fs -q -t ext4 -L qlroot -d "$root" -E root_owner=0:0 "$rootfs" "${ROOT_MB}M" >/dev/null

img=$work/disk.img
truncate -s "${total_mb}M" "$img"
sfdisk -q "$img" <<EOT
label: dos
unit: sectors
start=$sect_per_mb, size=$((BOOT_MB * sect_per_mb)), type=e, bootable
start=$(((1 + BOOT_MB) * sect_per_mb)), size=$((ROOT_MB * sect_per_mb)), type=83
start=$(((1 + BOOT_MB + ROOT_MB) * sect_per_mb)), size=$((RAW_MB * sect_per_mb)), type=da
EOT
dd if="$MBR" of="$img" bs=440 count=1 conv=notrunc status=none
dd if="$boot" of="$img" bs=1M seek=1 conv=notrunc,sparse status=none
dd if="$rootfs" of="$img" bs=1M seek=$((1 + BOOT_MB)) conv=notrunc,sparse status=none
mv "$img" "$out"
echo "qemu-lab: $out (${total_mb} MiB: boot ${BOOT_MB}, root ${ROOT_MB}, raw ${RAW_MB})"
