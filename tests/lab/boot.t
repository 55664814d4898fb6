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

NS_LAN=ql-lan-$$ NS_SRV=ql-srv-$$
SRV_IP=10.77.0.1
IQN=iqn.2026-11.lab.ql:disk
CLIENT_IQN=iqn.2026-11.lab.ql:client1
TGT_PORT=$((7700 + $$ % 100))	# tgtd's control channel: a socket path shared by all netns
WORKLOAD_SECONDS=10
BOOT_LIMIT=150			# seconds from QEMU's start to its power-off
tmp=$(mktemp -d /tmp/ql-boot.XXXXXX)
pids=()

# Stops what bg started: TERM, then KILL after 2 s for what ignores it (tgtd with targets).
stop_pids() {
	local p w
	for p in "$@"; do kill "$p" 2>/dev/null; done
	for p in "$@"; do
		(sleep 2; kill -9 "$p" 2>/dev/null) &
		w=$!
		wait "$p" 2>/dev/null
		kill "$w" 2>/dev/null
	done
}

cleanup() {
	stop_pids "${pids[@]}"
	ip netns del "$NS_LAN" 2>/dev/null
	ip netns del "$NS_SRV" 2>/dev/null
	[ -n "${QL_KEEP:-}" ] && echo "# kept $tmp" || rm -rf "$tmp"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

in_srv() { ip netns exec "$NS_SRV" "$@"; }
in_lan() { ip netns exec "$NS_LAN" "$@"; }
# bg NS COMMAND...: in the background, in NS. Not in a subshell: ip execs the command, so
# $last_pid is the daemon itself and cleanup can stop it.
bg() {
	local ns=$1
	shift
	ip netns exec "$ns" "$@" &
	last_pid=$!
	pids+=("$last_pid")
}

# The image, cached between runs; a copy per run, told to run the workload for a while and
# power off.
make -s -C "$SRCDIR" BUILD="$BUILD" lab-image >"$tmp/make.log" 2>&1
ok $? "make lab-image" || { sed 's/^/# /' "$tmp/make.log"; done_testing; }
cp --sparse=always "$BUILD/qemu-lab/disk.img" "$tmp/disk.img"
"$SRCDIR/qemu-lab/set-cmdline.sh" "$tmp/disk.img" \
	"console=ttyS0,115200 quiet panic=1 lab.seconds=$WORKLOAD_SECONDS lab.rate=50"
ok $? "workload parameters set on the image copy"

# LAN: a bridge with the client's tap, and the server on a veth.
ip netns add "$NS_LAN" && ip netns add "$NS_SRV" || { ok 1 "namespaces"; done_testing; }
in_lan ip link set lo up
in_lan ip link add ql-br0 type bridge
in_lan ip link set ql-br0 up
in_lan ip tuntap add dev ql-tap0 mode tap
in_lan ip link set ql-tap0 master ql-br0 up
in_lan ip link add ql-lan-srv type veth peer name ql-srv0 netns "$NS_SRV"
in_lan ip link set ql-lan-srv master ql-br0 up
in_srv ip link set lo up
in_srv ip addr add "$SRV_IP/24" dev ql-srv0
in_srv ip link set ql-srv0 up
ok $? "namespaces, bridge, tap and veth"

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

target_up() {
	local i
	for i in $(seq 50); do
		in_srv bash -c "echo >/dev/tcp/$SRV_IP/3260" 2>/dev/null && return 0
		sleep 0.1
	done
	return 1
}

start_target() {
	if [ "$target" = vdiskd ]; then
		bg "$NS_SRV" "$BUILD/vdiskd" --listen "$SRV_IP:3260" --lun "$IQN=$tmp/disk.img" \
			--verbose >>"$tmp/target.log" 2>&1
		target_pid=$last_pid
	else
		bg "$NS_SRV" tgtd -f -C "$TGT_PORT" >>"$tmp/target.log" 2>&1
		target_pid=$last_pid
		for i in $(seq 50); do
			tgtadm -C "$TGT_PORT" --mode sys --op show >/dev/null 2>&1 && break
			sleep 0.1
		done
		tgtadm -C "$TGT_PORT" --lld iscsi --mode target --op new --tid 1 -T "$IQN" &&
		tgtadm -C "$TGT_PORT" --lld iscsi --mode logicalunit --op new --tid 1 --lun 1 \
			-b "$tmp/disk.img" &&
		tgtadm -C "$TGT_PORT" --lld iscsi --mode target --op bind --tid 1 -I ALL
	fi
	target_up
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

# DHCP and TFTP: iPXE gets an address and the name of its script.
mkdir -p "$tmp/tftp"
cat >"$tmp/tftp/boot.ipxe" <<EOT
#!ipxe
set initiator-iqn $CLIENT_IQN
sanboot iscsi:$SRV_IP:::$lun:$IQN
EOT
cat >"$tmp/udhcpd.conf" <<EOT
start 10.77.0.100
end 10.77.0.150
interface ql-srv0
max_leases 16
lease_file $tmp/udhcpd.leases
siaddr $SRV_IP
boot_file boot.ipxe
option subnet 255.255.255.0
option lease 600
EOT
touch "$tmp/udhcpd.leases"
bg "$NS_SRV" "$BUILD/qemu-lab/busybox" udhcpd -f "$tmp/udhcpd.conf" >"$tmp/udhcpd.log" 2>&1
bg "$NS_SRV" in.tftpd -L -a "$SRV_IP:69" -s "$tmp/tftp" >"$tmp/tftpd.log" 2>&1
# Without router advertisements iPXE spends ~13 s of every boot waiting for IPv6.
bg "$NS_SRV" "$SRCDIR/qemu-lab/ra.pl" ql-srv0 >"$tmp/ra.log" 2>&1

log=$tmp/serial.log
start=$(date +%s.%N)
bg "$NS_LAN" qemu-system-x86_64 -machine pc,accel=tcg -m 512 -smp 1 -nographic -monitor none \
	-serial "file:$log" -no-reboot -boot n \
	-netdev tap,id=n0,ifname=ql-tap0,script=no,downscript=no \
	-device e1000,netdev=n0,mac=52:54:00:77:00:01 >"$tmp/qemu.log" 2>&1
qemu=$last_pid

# Watch the serial log for each stage, noting when it first shows up.
declare -A seen=()
restarted="" restart_line=""
stages=("iPXE:iPXE" "dhcp:net0: 10.77" "syslinux:SYSLINUX" "initramfs:ql-initramfs: start"
	"root:ql-initramfs: root" "workload:ql-workload: start")
while kill -0 "$qemu" 2>/dev/null; do
	now=$(date +%s.%N)
	for s in "${stages[@]}"; do
		name=${s%%:*} pat=${s#*:}
		[ -z "${seen[$name]:-}" ] && grep -aqF "$pat" "$log" 2>/dev/null &&
			seen[$name]=$(awk -v a="$start" -v b="$now" 'BEGIN { printf "%.1f", b - a }')
	done
	if [ -z "$restarted" ] && grep -aq '^ql-workload: t=3 ' "$log" 2>/dev/null; then
		restart_line=$(wc -l <"$log")
		restart_target
		restarted=$?
	fi
	[ "$(awk -v a="$start" -v b="$now" 'BEGIN { print (b - a > '$BOOT_LIMIT') }')" = 1 ] && break
	grep -aqE 'Kernel panic|FATAL' "$log" 2>/dev/null && { sleep 1; break; }
	sleep 0.2
done
kill -0 "$qemu" 2>/dev/null
ok $((!$?)) "the guest powered off by itself within $BOOT_LIMIT s"
grep -aq 'answered a router solicitation' "$tmp/ra.log"
ok $? "iPXE's router solicitation was answered"
for s in "${stages[@]}"; do diag "stage ${s%%:*}: ${seen[${s%%:*}]:-never} s after QEMU started"; done

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
grep -aq 'operational after recovery' "$log"
ok $? "iscsid logged the session in again"
stall=$(tail -n +"${restart_line:-1}" "$log" | tr -d '\r' |
	sed -n 's/^ql-workload: stall \([0-9]*\) ms.*/\1/p' | sort -n | tail -1)
[ "${stall:-0}" -gt 0 ]
ok $? "the workload saw the restart as a stall, not an error: ${stall:-no stall} ms"
if [ "$tap_failed" -gt 0 ]; then
	diag "serial log tail:"; tail -n 40 "$log" | sed 's/^/#   /'
	diag "$target log tail:"; tail -n 20 "$tmp/target.log" | sed 's/^/#   /'
fi
done_testing
