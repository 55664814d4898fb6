#!/bin/bash
# Interop with iPXE: a QEMU PC with the ipxe-qemu ROM gets an iPXE script over TFTP (QEMU's
# user network, whose 10.0.2.2 is this host's loopback), sets its initiator name as pxed's
# scripts do, and `sanboot`s a disk that vdiskd --db serves; the disk's boot sector writes
# a line to the serial port. Open-iscsi is not tested here: it needs the iscsi_tcp module.
SRCDIR=${SRCDIR:-$(cd "$(dirname "$0")/../.." && pwd)}
source "$SRCDIR/tests/lib/tap.sh"

source "$SRCDIR/tests/vdiskd/vdiskd-lib.sh"

PORT=32655
TGT=iqn.2026-11.lan.vdisk:disk
command -v qemu-system-x86_64 >/dev/null || skip_all "qemu-system-x86_64 missing (qemu-system-x86)"
[ -e /usr/lib/ipxe/qemu/pxe-e1000.rom ] || skip_all "iPXE ROM missing (ipxe-qemu)"
command -v as >/dev/null && command -v ld >/dev/null || skip_all "binutils missing"
[ -x "$BUILD/vdiskctl" ] || skip_all "vdiskctl not built"

tmp=$(mktemp -d)
pid=
qpid=
cleanup() {
	[ -n "$qpid" ] && kill "$qpid" 2>/dev/null
	[ -n "$pid" ] && kill "$pid" 2>/dev/null
	wait 2>/dev/null
	rm -rf "$tmp"
}
trap cleanup EXIT

# A boot sector that prints to COM1 and halts.
cat >"$tmp/mbr.S" <<'ASM'
.code16
.globl _start
_start:	cli
	xor %ax, %ax
	mov %ax, %ds
	mov $msg, %si
1:	lodsb
	test %al, %al
	jz 2f
	mov $0x3f8, %dx
	out %al, %dx
	jmp 1b
2:	hlt
	jmp 2b
msg:	.asciz "VDISK-SANBOOT-OK\r\n"
	.org 510
	.word 0xaa55
ASM
as --32 -o "$tmp/mbr.o" "$tmp/mbr.S" && ld -m elf_i386 -Ttext 0x7c00 --oformat binary \
	-o "$tmp/disk.img" "$tmp/mbr.o"
ok $? "boot sector assembled"
# iPXE derives a CHS geometry from the capacity: give it whole cylinders
truncate -s 64M "$tmp/disk.img"

export VDISK_DB=$tmp/vdisk.db
"$BUILD/vdiskctl" init >/dev/null
"$BUILD/vdiskctl" image add boottest --path "$tmp/disk.img" >/dev/null
"$BUILD/vdiskctl" client add --name PC001 --mac 52:54:00:12:34:56 --image boottest >/dev/null
start_vdiskd --db "$VDISK_DB" --overlay-dir "$tmp/ov" --ctl "$tmp/vdiskd.sock" --verbose \
	2>"$tmp/vdiskd.log" || skip_all "no free port in 32655-32695"

# PC001's CHAP secrets, as pxed puts them in its script: iPXE proves itself with the first
# and asks the target to prove itself with the second (mutual CHAP).
secret() { "$BUILD/vdiskctl" client show PC001 --secrets | sed -n "s/^$1: *//p"; }
SECRET=$(secret chap-secret) TSECRET=$(secret chap-target-secret)
# boot SECRET TAG: iPXE sanboots PC001 with that secret; 0 once the boot sector ran
boot() {
	rm -rf "$tmp/tftp"; mkdir "$tmp/tftp"
	# The script only ever contacts 10.0.2.2: this host's loopback through QEMU's user network.
	printf '#!ipxe\nset initiator-iqn iqn.2026-11.lan.vdisk:pc001\nset username %s\n%s\n%s\n%s\nsanboot iscsi:10.0.2.2::%s::%s\n' \
		iqn.2026-11.lan.vdisk:pc001 "set password $1" "set reverse-username $TGT" \
		"set reverse-password $TSECRET" $PORT $TGT >"$tmp/tftp/boot.ipxe"
	: >"$tmp/serial.log"
	qemu-system-x86_64 -nographic -m 128 -serial file:"$tmp/serial.log" -monitor none \
		-display none -boot n -device e1000,netdev=n0 \
		-netdev user,id=n0,tftp="$tmp/tftp",bootfile=boot.ipxe >"$tmp/qemu.out" 2>&1 &
	qpid=$!
	limit=90
	[ -n "$SANITIZED" ] && limit=150
	for _ in $(seq $limit); do
		grep -qa "VDISK-SANBOOT-OK\|Could not boot" "$tmp/serial.log" 2>/dev/null && break
		kill -0 $qpid 2>/dev/null || break
		sleep 1
	done
	grep -qa "VDISK-SANBOOT-OK" "$tmp/serial.log"
}
boot "${SECRET}x"
ok "$([ $? != 0 ]; echo $?)" "iPXE with a wrong CHAP secret does not boot PC001's disk"
grep -q "login refused.*authentication failed" "$tmp/vdiskd.log"
ok $? "vdiskd refused the login: authentication failed"
kill $qpid; wait $qpid 2>/dev/null; qpid=
boot "$SECRET"
booted=$?
ok $booted "iPXE sanboot with PC001's CHAP secret (mutual) read the boot sector from vdiskd and ran it"
if [ $booted -ne 0 ]; then
	tr -d '\033' <"$tmp/serial.log" | tail -15 | sed 's/^/# serial: /'
	tail -5 "$tmp/vdiskd.log" | sed 's/^/# vdiskd: /'
fi
grep -q "normal session for iqn.2026-11.lan.vdisk:pc001" "$tmp/vdiskd.log"
ok $? "the login came with the client's initiator name"
kill $qpid; wait $qpid 2>/dev/null; qpid=
kill -TERM $pid; wait $pid; is $? 0 "vdiskd exits cleanly"
pid=
done_testing
