#!/usr/bin/env bash
# The demo pair: two servers and two diskless PCs in network namespaces on this machine, run
# as an admin would run them. Server A is primary; PC001 has hot standby, PC021 has not.
# The demo shows both servers' status, a PC getting its boot answer and iPXE script and
# logging in to its disk through the service address, then cuts A's power and shows B taking
# the address, answering PC001 but not PC021, and serving PC001's disk with the same identity
# and the data PC001 wrote before the cut (vdiskd mirrored it to srv-b synchronously).
# Needs root (namespaces); everything it makes is removed when it ends.
set -uo pipefail
cd "$(dirname "$0")/.."
BUILD=${BUILD:-$PWD/build}
DEMO=$BUILD/demo
PFX=vdemo
NS_LAN=$PFX-lan NS_A=$PFX-a NS_B=$PFX-b NS_PC1=$PFX-pc1 NS_PC2=$PFX-pc2
VIP=192.168.50.10

say() { printf '\n\033[1m== %s\033[0m\n' "$*"; }
cleanup() {
	local ns pid
	for ns in $NS_A $NS_B $NS_PC1 $NS_PC2 $NS_LAN; do
		for pid in $(ip netns pids "$ns" 2>/dev/null); do kill -9 "$pid" 2>/dev/null; done
		ip netns del "$ns" 2>/dev/null
	done
}
trap cleanup EXIT INT TERM

# One server's files: its copy of the database (standbyd ships the active's changes),
# ha.cf/authkeys/haresources, pxed.conf, the mirror's pair secret, and its run directory.
# Heartbeats go unicast, on the HA link first (DB shipping takes the first ucast link) and on
# the LAN as a second path: never broadcast to the PCs.
server_files() {
	local n=$1 me=$2 lan=$3 ha=$4 d=$DEMO/$1
	rm -rf "$d"	# a stale -wal file beside a fresh copy would be replayed into it
	mkdir -p "$d/ha.d" "$d/run" "$d/tftp" "$d/state" "$d/overlays"
	cp "$DEMO/vdisk.db" "$d/vdisk.db"
	cat >"$d/ha.d/ha.cf" <<-CF
	cluster demo
	keepalive 200ms
	warntime 600ms
	deadtime 1s
	initdead 2s
	ucast ha0 10.99.0.1
	ucast ha0 10.99.0.2
	ucast lan0 192.168.50.2
	ucast lan0 192.168.50.3
	node srv-a
	node srv-b
	auto_failback off
	CF
	# Keys of 32 bytes or more (standbyd refuses shorter ones): make real ones with
	# openssl rand -hex 32. DB shipping has its own ("ship 2").
	printf 'auth 1\n1 sha256 demo-pair-heartbeat-key-0123456789abcdef\nship 2\n2 sha256 %s\n' \
		demo-pair-dbship-key-0123456789abcdef >"$d/ha.d/authkeys"
	chmod 600 "$d/ha.d/authkeys"
	echo "demo-mirror-secret" >"$d/mirror.secret"
	chmod 600 "$d/mirror.secret"
	# vdiskd serves before the address moves (docs/design-differences.md).
	echo "srv-a vdiskd::$d/run/vdiskd.sock IPaddr::$VIP/24/lan0" \
		"pxed::$BUILD/pxed::--db::$d/vdisk.db::-c::$d/pxed.conf" >"$d/ha.d/haresources"
	cat >"$d/pxed.conf" <<-CONF
	interface = lan0
	mode = dhcp
	pool = 192.168.50.200-192.168.50.250
	service_address = $VIP
	tftp_root = $d/tftp
	state_dir = $d/state
	ctl_socket = $d/run/pxed.sock
	standbyd_ctl = $d/run/standbyd.sock
	vdiskd_ctl = $d/run/vdiskd.sock
	node = $me
	CONF
	ip -n "$PFX-$n" addr add "$lan/24" dev lan0
	ip -n "$PFX-$n" addr add "$ha/24" dev ha0
}

status_of() {	# status_of a|b: every daemon's full status
	VDISK_RUN_DIR=$DEMO/$1/run "$BUILD/vdiskctl" status
}
brief() {	# brief a|b: the lines that say who serves
	status_of "$1" | grep -E '^[a-z]+: |^  (state|peer|address|resource|leases_bound|takeover_answers):'
}
state_of() { status_of "$1" 2>/dev/null | sed -n 's/^  state: //p' | head -1; }

if [ "$(id -u)" != 0 ]; then
	echo "demo/pair.sh needs root (network namespaces); the database demo ran above." >&2
	exit 0
fi
cleanup

say "The LAN, the HA link, two servers and two PCs (network namespaces)"
for ns in $NS_LAN $NS_A $NS_B $NS_PC1 $NS_PC2; do ip netns add "$ns"; ip -n "$ns" link set lo up; done
ip -n $NS_LAN link add br0 type bridge && ip -n $NS_LAN link set br0 up
for n in a b pc1 pc2; do
	ip -n $NS_LAN link add "p-$n" type veth peer name lan0 netns "$PFX-$n"
	ip -n $NS_LAN link set "p-$n" master br0 up
	ip -n "$PFX-$n" link set lan0 up
done
# The PCs carry the MACs the database knows them by.
ip -n $NS_PC1 link set lan0 address 52:54:00:12:00:01
ip -n $NS_PC2 link set lan0 address 52:54:00:12:00:15
ip -n $NS_A link add ha0 type veth peer name ha0 netns $NS_B
ip -n $NS_A link set ha0 up && ip -n $NS_B link set ha0 up
echo "srv-a: lan 192.168.50.2, ha 10.99.0.1   srv-b: lan 192.168.50.3, ha 10.99.0.2   service address $VIP"

server_files a srv-a 192.168.50.2 10.99.0.1
server_files b srv-b 192.168.50.3 10.99.0.2
for n in a b; do
	if [ $n = a ]; then ha=10.99.0.1 peer=10.99.0.2; else ha=10.99.0.2 peer=10.99.0.1; fi
	# both start secondary: standbyd promotes the one that becomes active
	ip netns exec "$PFX-$n" "$BUILD/vdiskd" --db "$DEMO/$n/vdisk.db" --listen 0.0.0.0:3260 \
		--overlay-dir "$DEMO/$n/overlays" --ctl "$DEMO/$n/run/vdiskd.sock" \
		--role secondary --node "srv-$n" --replica-listen $ha:3261 \
		--mirror-peer $peer:3261 --mirror-secret "$DEMO/$n/mirror.secret" \
		--fence "$DEMO/$n/run/standbyd.sock" >"$DEMO/$n/vdiskd.log" 2>&1 &
	disown
	ip netns exec "$PFX-$n" "$BUILD/standbyd" -c "$DEMO/$n/ha.d" --node "srv-$n" \
		--ctl "$DEMO/$n/run/standbyd.sock" --db "$DEMO/$n/vdisk.db" \
		--state-dir "$DEMO/$n" >"$DEMO/$n/standbyd.log" 2>&1 &
	disown
done

say "Both servers start; A (preferred) becomes active"
for i in $(seq 50); do [ "$(state_of a)" = active ] && break; sleep 0.2; done
sleep 1
echo "--- srv-a (vdiskctl status, the lines that say who serves)"; brief a
echo "--- srv-b"; brief b

# dhcp NS: asks for a lease as iPXE does (user class "iPXE", option 77), takes the address
# it is given, says what happened. pxed writes the PC's iPXE script when iPXE asks.
dhcp() {
	local out addr
	out=$(ip netns exec "$1" timeout 6 busybox udhcpc -i lan0 -n -q -f -t 3 -T 1 \
		-x 0x4d:69505845 -s /bin/true 2>&1 | grep -E 'lease of' | head -1)
	addr=$(sed -n 's/.*lease of \([0-9.]*\) obtained.*/\1/p' <<<"$out")
	if [ -n "$addr" ]; then
		ip -n "$1" addr flush dev lan0
		ip -n "$1" addr add "$addr/24" dev lan0
	fi
	echo "${out:-no answer}"
}

say "PC001 (hot standby) and PC021 (no hot standby) ask for a boot"
echo "PC001: $(dhcp $NS_PC1)"
echo "PC021: $(dhcp $NS_PC2)"
if ip netns exec $NS_PC1 timeout 5 tftp $VIP -c get clients/52-54-00-12-00-01.ipxe \
	"$DEMO/pc1.ipxe" && [ -s "$DEMO/pc1.ipxe" ]; then
	echo "PC001's iPXE script, fetched by TFTP from $VIP:"
	sed 's/^/    /' "$DEMO/pc1.ipxe"
fi

# disk NS NAME: what the PC's disk says through the service address (iSCSI login with the
# PC's initiator name, then INQUIRY's unit serial number page).
disk() {
	ip netns exec "$1" timeout 5 iscsi-inq -i "iqn.2026-11.lan.vdisk:$2" -e 1 -c 128 \
		"iscsi://$VIP/iqn.2026-11.lan.vdisk:disk/0" 2>&1 | grep -i -m1 'serial' ||
		echo "no disk"
}
echo "PC001's disk through $VIP: $(disk $NS_PC1 pc001)"

# io NS NAME qemu-io-commands...: PC NAME's disk through the service address (libiscsi)
io() {
	ip netns exec "$1" timeout 20 qemu-io --image-opts \
		"driver=iscsi,transport=tcp,portal=$VIP:3260,target=iqn.2026-11.lan.vdisk:disk,lun=0,initiator-name=iqn.2026-11.lan.vdisk:$2" \
		"${@:3}" 2>&1 | grep -E 'wrote|read|fail|Pattern|error|can.t' | sed 's/^/    /'
}
say "PC001 writes 1 MiB; GOOD comes back only once both servers have it"
io $NS_PC1 pc001 -c 'write -P 0x5a 1M 1M'
sleep 0.3
VDISK_RUN_DIR=$DEMO/a/run "$BUILD/vdiskctl" mirror status | sed 's/^/    /'

say "Power cut on srv-a: its links down, every process in its namespace killed"
t0=$(date +%s%3N)
ip -n $NS_A link set lan0 down; ip -n $NS_A link set ha0 down
for pid in $(ip netns pids $NS_A); do kill -9 "$pid"; done
for i in $(seq 100); do [ "$(state_of b)" = active ] && break; sleep 0.05; done
echo "srv-b active $(( $(date +%s%3N) - t0 )) ms after the cut (deadtime 1 s)"
brief b

say "After the failover"
echo "PC001: $(dhcp $NS_PC1)"
echo "PC021: $(dhcp $NS_PC2)"
echo "PC001's disk through $VIP, now served by srv-b: $(disk $NS_PC1 pc001)"
echo "PC001 reads back what it wrote before the cut, now from srv-b:"
io $NS_PC1 pc001 -c 'read -P 0x5a 1M 1M'
echo "PC021 (no hot standby) asks srv-b for its disk:"
io $NS_PC2 pc021 -c 'read 0 4k'
echo "srv-b records PC001's writes for srv-a's return:"
io $NS_PC1 pc001 -c 'write -P 0x6b 4M 64k'
VDISK_RUN_DIR=$DEMO/b/run "$BUILD/vdiskctl" mirror status | sed 's/^/    /'
say "srv-b's events"
VDISK_DB=$DEMO/b/vdisk.db "$BUILD/vdiskctl" events --limit 12
