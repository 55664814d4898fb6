#!/bin/bash
# The lab image as built, without booting it and without root: partition table and MBR, the
# boot partition's files, the root filesystem's contents and checksum, the initramfs's
# modules and libraries (all from the image itself, none from the host), set-cmdline.sh,
# and the workload's usage errors.
source "$(dirname "$0")/../lib/tap.sh" || exit 1
for p in sfdisk mdir mtype debugfs e2fsck cpio; do
	command -v "$p" >/dev/null || skip_all "$p missing (make deps installs qemu-lab/deps.txt)"
done
L=$BUILD/qemu-lab
img=$L/disk.img
tmp=$(mktemp -d /tmp/ql-image.XXXXXX)
trap 'rm -rf "$tmp"' EXIT

make -s -C "$SRCDIR" BUILD="$BUILD" lab-image >"$tmp/make.log" 2>&1
ok $? "make lab-image" || { sed 's/^/# /' "$tmp/make.log"; done_testing; }
make -s -q -C "$SRCDIR" BUILD="$BUILD" "$img" "$L/initramfs.img" "$L/workload"
ok $? "a second build has nothing to do"

# Partition table and boot code.
table=$(sfdisk -d "$img" | sed -n 's/^[^:]*img\([0-9]\) : /\1 /p' | tr -d ' ')
is "$table" "$(printf '%s\n' 1start=2048,size=49152,type=e,bootable \
	2start=51200,size=81920,type=83 3start=133120,size=32768,type=da)" \
	"three partitions: bootable FAT, Linux root, raw"
cmp -s -n 440 "$img" /usr/lib/syslinux/mbr/mbr.bin
ok $? "the MBR's boot code is syslinux's mbr.bin"

boot="$img@@1M"
files=$(mdir -a -b -i "$boot" :: | sed 's|^::/||' | sort | tr '\n' ' ')
is "$files" "initrd.img ldlinux.c32 ldlinux.sys syslinux.cfg vmlinuz " \
	"boot partition: SYSLINUX, kernel, initramfs, configuration"
mtype -i "$boot" ::syslinux.cfg | grep -q 'APPEND console=ttyS0,115200 .*lab.seconds=0'
ok $? "the image's default command line runs the workload until power-off"

root="$img?offset=$((25 * 1048576))"
e2fsck -fn "$root" >"$tmp/fsck.log" 2>&1
ok $? "the root filesystem checks clean" || sed 's/^/# /' "$tmp/fsck.log"
debugfs -R 'stat /' "$root" 2>/dev/null | grep -q 'User: *0 *Group: *0'
ok $? "the root directory is root's"
for f in /sbin/init /sbin/iscsid /bin/workload /bin/busybox /lib64/ld-linux-x86-64.so.2 \
	 /etc/iscsi/iscsid.conf /data/check.bin; do
	debugfs -R "stat $f" "$root" 2>&1 | grep -q '^Inode:'
	ok $? "root has $f"
done
debugfs -R 'cat /etc/passwd' "$root" 2>/dev/null | grep -q '^root:x:0:0:'
ok $? "root has a passwd entry for root (iscsid refuses an unnamed uid 0)"
debugfs -R 'cat /etc/iscsi/iscsid.conf' "$root" 2>/dev/null |
	grep -q '^node.session.timeo.replacement_timeout = 86400$'
ok $? "iscsid queues I/O through a long outage"
# iscsid's 1 ms wait for a reconnect's TCP handshake, widened for an emulated PC (guest/init).
debugfs -R 'cat /sbin/init' "$root" 2>/dev/null |
	grep -q '^echo 100000000 >/proc/\$!/timerslack_ns'
ok $? "the root's init gives iscsid a 100 ms timer slack"
debugfs -R 'cat /data/check.bin' "$root" 2>/dev/null >"$tmp/check.bin"
is "$("$L/workload" --sum "$tmp/check.bin")" \
	"$(debugfs -R 'cat /data/check.bin.crc' "$root" 2>/dev/null)" \
	"check.bin matches its recorded CRC-32"

# The initramfs, unpacked: every program's libraries resolve inside it.
mkdir "$tmp/initramfs"
(cd "$tmp/initramfs" && zstd -qdc "$L/initramfs.img" | cpio -id --quiet 2>/dev/null)
ok $? "the initramfs unpacks"
i=$tmp/initramfs
for f in init sbin/iscsistart bin/busybox etc/iscsi/iscsid.conf; do
	[ -e "$i/$f" ]; ok $? "initramfs has /$f"
done
kdir=$(echo "$i"/lib/modules/*)
for m in e1000 sd_mod iscsi_tcp iscsi_ibft ext4 crc32c_generic libiscsi scsi_transport_iscsi jbd2; do
	grep -q "/$m.ko:" "$kdir/modules.dep"; ok $? "initramfs indexes module $m"
done
outside=$(LD_LIBRARY_PATH=$i/lib/x86_64-linux-gnu:$i/usr/lib/x86_64-linux-gnu \
	ldd "$i/sbin/iscsistart" | awk '$2 == "=>" { print $3 }' | grep -v "^$i/")
is "$outside" "" "iscsistart's libraries all come from the initramfs"

# set-cmdline.sh on a copy.
cp --sparse=always "$img" "$tmp/copy.img"
"$SRCDIR/qemu-lab/set-cmdline.sh" "$tmp/copy.img" "console=ttyS0 lab.seconds=7"
ok $? "set-cmdline.sh rewrites the copy"
is "$(mtype -i "$tmp/copy.img@@1M" ::syslinux.cfg | grep APPEND | tr -d '\r')" \
	"  APPEND console=ttyS0 lab.seconds=7" "  with the new APPEND line"
truncate -s 1M "$tmp/empty.img"
"$SRCDIR/qemu-lab/set-cmdline.sh" "$tmp/empty.img" "x" 2>"$tmp/err"
r=$?; [ $r -ne 0 ] && grep -q 'no syslinux.cfg' "$tmp/err"
ok $? "set-cmdline.sh refuses an image without a boot partition, saying so"

# The workload's command line.
"$L/workload" --rate 0 /dev/null 2>/dev/null; is $? 2 "workload: rate 0 is a usage error"
"$L/workload" --seconds -1 /dev/null 2>/dev/null; is $? 2 "workload: a negative duration too"
"$L/workload" --bogus 1 /dev/null 2>/dev/null; is $? 2 "workload: an unknown option too"
"$L/workload" 2>/dev/null; is $? 2 "workload: no device too"
"$L/workload" --sum "$tmp/nonexistent" 2>/dev/null; is $? 1 "workload --sum of a missing file fails"
"$L/workload" --seconds 1 --check "$tmp/check.bin" "$tmp/copy.img" 2>"$tmp/err"
r=$?; [ $r = 1 ] && grep -q 'check.bin.crc' "$tmp/err"
ok $? "workload without the checksum file names it and exits 1"
done_testing
