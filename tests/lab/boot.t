#!/bin/bash
# A real diskless client: QEMU (TCG) with Debian's iPXE ROM boots the lab image over iSCSI
# from a server (vdiskd, or tgtd; busybox udhcpd and in.tftpd stand in for pxed) in network
# namespaces this test makes and removes; the workload runs with no I/O error and no
# mismatch, also across a restart of the target. Prints the boot timings it measured.
# Namespaces, links and interfaces start with ql-. QL_KEEP=1 keeps the logs.
source "$(dirname "$0")/../lib/tap.sh" || exit 1
need_root
for p in qemu-system-x86_64 in.tftpd perl; do
	command -v "$p" >/dev/null || skip_all "$p missing (make deps installs qemu-lab/deps.txt)"
done
perl -MTime::HiRes -e 1 2>/dev/null || skip_all "perl's Time::HiRes missing (package perl)"

source "$SRCDIR/qemu-lab/lab.sh"

NS_LAN=ql-lan-$$ NS_SRV=ql-srv-$$
SRV_IP=10.77.0.1
IQN=iqn.2026-11.lab.ql:disk
CLIENT_IQN=iqn.2026-11.lab.ql:client1
TGT_PORT=$((7700 + $$ % 100))	# tgtd's control channel: a socket path shared by all netns
WORKLOAD_SECONDS=10
BOOT_LIMIT=150			# seconds from QEMU's start to its power-off
lab_init ql-boot || skip_all "no temporary directory"
tmp=$LAB_TMP

# The image, cached between runs; a copy per run, told to run the workload for a while and
# power off.
make -s -C "$SRCDIR" BUILD="$BUILD" lab-image >"$tmp/make.log" 2>&1
ok $? "make lab-image" || { sed 's/^/# /' "$tmp/make.log"; done_testing; }
lab_image_copy "$tmp/disk.img" "lab.seconds=$WORKLOAD_SECONDS lab.rate=50"
ok $? "workload parameters set on the image copy"

# LAN: a bridge with the client's tap, and the server on a veth.
lab_netns "$NS_LAN" && lab_netns "$NS_SRV" && lab_bridge "$NS_LAN" ql-br0 &&
	lab_tap "$NS_LAN" ql-br0 ql-tap0 &&
	lab_attach "$NS_LAN" ql-br0 ql-lan-srv "$NS_SRV" ql-srv0 "$SRV_IP/24"
ok $? "namespaces, bridge, tap and veth" || done_testing

# iSCSI target: our vdiskd when it is built, else tgtd (LAB_TARGET=tgtd picks it anyway).
# tgt keeps LUN 0 for its controller, so there the disk is LUN 1; vdiskd serves it as LUN 0,
# which an empty LUN field in the sanboot URI means.
target=${LAB_TARGET:-vdiskd}
[ "$target" = vdiskd ] && [ ! -x "$BUILD/vdiskd" ] && target=tgtd
[ "$target" = tgtd ] && ! command -v tgtd >/dev/null &&
	skip_all "neither build/vdiskd nor tgtd (package tgt)"
lun=""
[ "$target" = tgtd ] && lun=1
target_pid=""

start_target() {
	if [ "$target" = vdiskd ]; then
		lab_bg "$NS_SRV" "$BUILD/vdiskd" --listen "$SRV_IP:3260" --lun "$IQN=$tmp/disk.img" \
			--verbose >>"$tmp/target.log" 2>&1
		target_pid=$last_pid
	else
		lab_bg "$NS_SRV" tgtd -f -C "$TGT_PORT" >>"$tmp/target.log" 2>&1
		target_pid=$last_pid
		wait_until 5000 eval 'tgtadm -C "$TGT_PORT" --mode sys --op show >/dev/null 2>&1'
		tgtadm -C "$TGT_PORT" --lld iscsi --mode target --op new --tid 1 -T "$IQN" &&
		tgtadm -C "$TGT_PORT" --lld iscsi --mode logicalunit --op new --tid 1 --lun 1 \
			-b "$tmp/disk.img" &&
		tgtadm -C "$TGT_PORT" --lld iscsi --mode target --op bind --tid 1 -I ALL
	fi
	lab_tcp_up "$NS_SRV" "$SRV_IP" 3260
}

# What a failover looks like to the client, without a second server: the target dies with
# the connection open and comes back a second later at the same address.
restart_target() {
	kill -9 "$target_pid"
	wait "$target_pid" 2>/dev/null
	[ "$target" = tgtd ] && rm -f "/var/run/tgtd/socket.$TGT_PORT" "/var/run/tgtd/socket.$TGT_PORT.lock"
	sleep 1
	start_target
}

start_target
ok $? "$target serves the image copy on $SRV_IP:3260"

# DHCP, TFTP and RAs: iPXE gets an address and its script, with CHAP credentials as pxed's
# scripts carry them (one-way, as the lab runs pxed: chap_mutual off). The target asks for no
# CHAP, so this checks that iPXE, iscsistart (from the iBFT) and iscsid log in with them.
lab_pxe_standin "$NS_SRV" ql-srv0 "$SRV_IP" "#!ipxe
set initiator-iqn $CLIENT_IQN
set username $CLIENT_IQN
set password Abcdefgh12345678
sanboot iscsi:$SRV_IP:::$lun:$IQN"

log=$tmp/serial.log
start=$(date +%s.%N)
lab_client "$NS_LAN" ql-tap0 52:54:00:77:00:01 "$log"
qemu=$last_pid

# Watch the serial log for each stage, noting when it first shows up.
declare -A seen=()
restarted="" restart_line=""
stages=("iPXE:iPXE" "dhcp:net0: 10.77" "syslinux:SYSLINUX" "initramfs:ql-initramfs: start"
	"root:ql-initramfs: root" "workload:ql-workload: start")
while kill -0 "$qemu" 2>/dev/null; do
	now=$(lab_since "$start")
	for s in "${stages[@]}"; do
		name=${s%%:*} pat=${s#*:}
		[ -z "${seen[$name]:-}" ] && grep -aqF "$pat" "$log" 2>/dev/null && seen[$name]=$now
	done
	if [ -z "$restarted" ] && grep -aq '^ql-workload: t=3 ' "$log" 2>/dev/null; then
		restart_line=$(wc -l <"$log")
		restart_target
		restarted=$?
	fi
	[ "${now%.*}" -ge "$BOOT_LIMIT" ] && break
	grep -aqE 'Kernel panic|FATAL' "$log" 2>/dev/null && { sleep 1; break; }
	sleep 0.2
done
kill -0 "$qemu" 2>/dev/null
ok $((!$?)) "the guest powered off by itself within $BOOT_LIMIT s"
grep -aq 'answered a router solicitation' "$tmp/pxe/ra.log"
ok $? "iPXE's router solicitation was answered"
for s in "${stages[@]}"; do diag "stage ${s%%:*}: ${seen[${s%%:*}]:-never} s after QEMU started"; done
diag "boot phases (s after QEMU started, +s the phase took): $(lab_boot_phases "$log.ts")"

[ -n "${seen[workload]:-}" ]
ok $? "the workload started: boot to workload ${seen[workload]:-never} s"
summary=$(grep -a 'ql-workload: summary' "$log" | tr -d '\r')
diag "$summary"
echo "$summary" | grep -qE ' errors=0 mismatches=0 .* check_failures=0 result=PASS$'
ok $? "the workload finished with no I/O error, no mismatch and a passing file check"
lines=$(grep -ac '^ql-workload: t=' "$log")
[ "$lines" -ge $((WORKLOAD_SECONDS - 1)) ]
ok $? "a progress line every second on the serial console, stalls included ($lines lines)"
grep -aq 'ql-init: iscsid started' "$log"
ok $? "iscsid runs on the booted root"
is "$restarted" 0 "$target restarted under the running workload"
tail -n +"${restart_line:-1}" "$log" | grep -aq 'operational after recovery'
ok $? "iscsid logged the session in again after the restart"
stall=$(tail -n +"${restart_line:-1}" "$log" | tr -d '\r' |
	sed -n 's/^ql-workload: stall \([0-9]*\) ms.*/\1/p' | sort -n | tail -1)
[ "${stall:-0}" -gt 0 ]
ok $? "the workload saw the restart as a stall, not an error: ${stall:-no stall} ms"
if [ "$tap_failed" -gt 0 ]; then
	diag "serial log tail:"; tail -n 40 "$log" | sed 's/^/#   /'
	diag "$target log tail:"; tail -n 20 "$tmp/target.log" | sed 's/^/#   /'
fi
done_testing
