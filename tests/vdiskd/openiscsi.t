#!/bin/bash
# Interop with Linux open-iscsi: discovery, login, read and write of a disk served by vdiskd,
# logout. Needs root and the kernel's iscsi_tcp module; skipped with the reason otherwise.
SRCDIR=${SRCDIR:-$(cd "$(dirname "$0")/../.." && pwd)}
source "$SRCDIR/tests/lib/tap.sh"

need_root
command -v iscsiadm >/dev/null || skip_all "iscsiadm missing (open-iscsi)"
if [ ! -d /sys/module/iscsi_tcp ] && ! modprobe iscsi_tcp 2>/dev/null; then
	skip_all "kernel module iscsi_tcp not available here (open-iscsi needs it)"
fi
pgrep -x iscsid >/dev/null || iscsid 2>/dev/null || skip_all "iscsid cannot start"

PORT=32659
IQN=iqn.2026-11.lan.vdisk:openiscsi
tmp=$(mktemp -d)
pid=
cleanup() {
	iscsiadm -m node -T $IQN -p 127.0.0.1:$PORT -u >/dev/null 2>&1
	iscsiadm -m node -T $IQN -p 127.0.0.1:$PORT -o delete >/dev/null 2>&1
	[ -n "$pid" ] && kill "$pid" 2>/dev/null
	wait 2>/dev/null
	rm -rf "$tmp"
}
trap cleanup EXIT
head -c 1M /dev/zero | tr '\0' 'V' >"$tmp/disk.img"
truncate -s 16M "$tmp/disk.img"
"$BUILD/vdiskd" --listen 127.0.0.1:$PORT --lun "$IQN=$tmp/disk.img" 2>"$tmp/log" &
pid=$!
wait_until 10000 grep -q "listening on" "$tmp/log" || diag "vdiskd did not start: $(cat "$tmp/log")"

iscsiadm -m discovery -t sendtargets -p 127.0.0.1:$PORT | grep -q "$IQN"
ok $? "SendTargets lists the target"
iscsiadm -m node -T $IQN -p 127.0.0.1:$PORT -l >/dev/null
ok $? "login"
dev=/dev/disk/by-path/ip-127.0.0.1:$PORT-iscsi-$IQN-lun-0
check "block device appeared" -- wait_until 10000 test -b "$dev"
is "$(dd if="$dev" bs=512 count=1 iflag=direct 2>/dev/null | head -c 4)" "VVVV" "reads the file"
printf 'WRITTEN!' | dd of="$dev" bs=512 seek=100 conv=sync,fsync oflag=direct 2>/dev/null
is "$(dd if="$tmp/disk.img" bs=512 skip=100 count=1 2>/dev/null | head -c 8)" "WRITTEN!" \
	"a write lands in the file"
iscsiadm -m node -T $IQN -p 127.0.0.1:$PORT -u >/dev/null
ok $? "logout"
done_testing
