#!/usr/bin/env bash
# The demo pair: two servers and two diskless PCs in network namespaces on this machine, run
# as an admin would run them. Server A is primary; PC001 has hot standby, PC021 has not.
# The demo shows both servers' status, a PC getting its boot answer and iPXE script (over
# HTTP, with its CHAP credentials; another PC asking for it is refused) and
# logging in to its disk through the service address, then cuts A's power and shows B taking
# the address, answering PC001 but not PC021, and serving PC001's disk with the same identity
# and the data PC001 wrote before the cut (vdiskd mirrored it to srv-b synchronously).
# Needs root (namespaces); everything it makes is removed when it ends.
# Every step checks what it shows: one that fails stops the demo with one line,
#   demo: FAILED at step "STEP": WHAT
# and exit status 1 (the namespaces are removed all the same).
# DEMO_NETNS_PREFIX names the namespaces (default vdemo: vdemo-a, vdemo-lan, ...).
# For tests/cli/demo.t only: DEMO_TEST_FAULT=readback makes the read-back after the power cut
# expect another pattern than PC001 wrote, a step that must fail.
set -uo pipefail
cd "$(dirname "$0")/.."
BUILD=${BUILD:-$PWD/build}
DEMO=$BUILD/demo
PFX=${DEMO_NETNS_PREFIX:-vdemo}
NS_LAN=$PFX-lan NS_A=$PFX-a NS_B=$PFX-b NS_PC1=$PFX-pc1 NS_PC2=$PFX-pc2
VIP=192.168.50.10
STEP="setting up"

say() { printf '\n\033[1m== %s\033[0m\n' "$*"; }
# step NAME: the step under way, named if it fails
step() { STEP=$*; }
# fail WHAT: the demo stops here, naming the step
fail() {
	printf 'demo: FAILED at step "%s": %s\n' "$STEP" "$*" >&2
	exit 1
}
# wait_for MS COMMAND...: 0 once COMMAND succeeds within MS milliseconds (polled every 50 ms)
wait_for() {
	local end=$(( $(date +%s%3N) + $1 ))
	shift
	while [ "$(date +%s%3N)" -lt "$end" ]; do
		"$@" && return 0
		sleep 0.05
	done
	return 1
}
cleanup() {
	local ns pid
	for ns in $NS_A $NS_B $NS_PC1 $NS_PC2 $NS_LAN; do
		for pid in $(ip netns pids "$ns" 2>/dev/null); do kill -9 "$pid" 2>/dev/null; done
		ip netns del "$ns" 2>/dev/null
	done
}
trap cleanup EXIT
trap 'fail "interrupted"' INT TERM

# One server's files: its copy of the database (standbyd ships the active's changes),
# ha.cf/authkeys/haresources, pxed.conf, the mirror's pair secret, and its run directory.
# Heartbeats go unicast, on the HA link first (DB shipping takes the first ucast link) and on
# the LAN as a second path: never broadcast to the PCs.
server_files() {
	local n=$1 me=$2 lan=$3 ha=$4 d=$DEMO/$1
	rm -rf "$d"	# a stale -wal file beside a fresh copy would be replayed into it
	mkdir -p "$d/ha.d" "$d/run" "$d/tftp" "$d/state" "$d/overlays" &&
		cp "$DEMO/vdisk.db" "$d/vdisk.db" || fail "cannot make $d"
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
	# vdiskd serves before the address moves (docs/architecture.md, "Order of resources").
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
	ip -n "$PFX-$n" addr add "$lan/24" dev lan0 && ip -n "$PFX-$n" addr add "$ha/24" dev ha0 ||
		fail "cannot give $2 its addresses"
}

status_of() {	# status_of a|b: every daemon's full status
	VDISK_RUN_DIR=$DEMO/$1/run "$BUILD/vdiskctl" status
}
brief() {	# brief a|b: the lines that say who serves
	status_of "$1" | grep -E '^[a-z]+: |^  (state|peer|peer_status|address|resource|leases_bound|takeover_answers):'
}
state_of() { status_of "$1" 2>/dev/null | sed -n 's/^  state: //p' | head -1; }
state_is() { [ "$(state_of "$1")" = "$2" ]; }

if [ "$(id -u)" != 0 ]; then
	echo "demo/pair.sh needs root (network namespaces); the database demo ran above." >&2
	exit 0
fi
cleanup

say "The LAN, the HA link, two servers and two PCs (network namespaces)"
step "the namespaces and links"
for ns in $NS_LAN $NS_A $NS_B $NS_PC1 $NS_PC2; do
	ip netns add "$ns" && ip -n "$ns" link set lo up || fail "cannot make namespace $ns"
done
ip -n $NS_LAN link add br0 type bridge && ip -n $NS_LAN link set br0 up || fail "no bridge"
for n in a b pc1 pc2; do
	ip -n $NS_LAN link add "p-$n" type veth peer name lan0 netns "$PFX-$n" &&
		ip -n $NS_LAN link set "p-$n" master br0 up &&
		ip -n "$PFX-$n" link set lan0 up || fail "cannot link $n to the LAN"
done
# The PCs carry the MACs the database knows them by.
ip -n $NS_PC1 link set lan0 address 52:54:00:12:00:01 &&
	ip -n $NS_PC2 link set lan0 address 52:54:00:12:00:15 || fail "cannot set the PCs' MACs"
ip -n $NS_A link add ha0 type veth peer name ha0 netns $NS_B &&
	ip -n $NS_A link set ha0 up && ip -n $NS_B link set ha0 up || fail "no HA link"
echo "srv-a: lan 192.168.50.2, ha 10.99.0.1   srv-b: lan 192.168.50.3, ha 10.99.0.2   service address $VIP"

step "the servers' files"
server_files a srv-a 192.168.50.2 10.99.0.1
server_files b srv-b 192.168.50.3 10.99.0.2
step "starting vdiskd and standbyd on both servers"
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
step "srv-a becomes active"
wait_for 15000 state_is a active ||
	fail "srv-a is '$(state_of a)', not active, after 15 s (see $DEMO/a/standbyd.log)"
step "srv-b stands by"
wait_for 10000 state_is b standby ||
	fail "srv-b is '$(state_of b)', not standby, after 10 s (see $DEMO/b/standbyd.log)"
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

# boot NS NAME FROM: NAME's DHCP answer, which must come from FROM ("" for none)
boot() {
	local out
	step "$2 asks for a boot"
	out=$(dhcp "$1")
	echo "$2: $out"
	if [ -z "$3" ]; then
		[ "$out" = "no answer" ] || fail "$2 was answered; it should not be"
	else
		grep -q "lease of .* obtained from $3," <<<"$out" || fail "no lease from $3"
	fi
}
# script NS MAC: what pxed's HTTP server answers NS asking for the script of MAC (iPXE asks
# right after its DHCP; the script holds the PC's CHAP secrets, so only that PC gets it);
# the script in $DEMO/script.out
script() {
	ip netns exec "$1" curl -s -m 5 -o "$DEMO/script.out" -w '%{http_code}' \
		"http://$VIP:8069/ipxe/$2.ipxe"
}

say "PC001 (hot standby) and PC021 (no hot standby) ask for a boot"
boot $NS_PC1 PC001 192.168.50.2
boot $NS_PC2 PC021 192.168.50.2
step "PC001 fetches its iPXE script over HTTP from pxed"
code=$(script $NS_PC1 52-54-00-12-00-01)
[ "$code" = 200 ] || fail "HTTP $code for PC001's own script"
grep -q '^sanboot iscsi:' "$DEMO/script.out" || fail "the script has no sanboot line"
grep -q '^set password ' "$DEMO/script.out" || fail "the script gives no CHAP secret"
echo "PC001's iPXE script, fetched over HTTP from pxed at $VIP (secrets shown masked):"
sed -e 's/^\(set [a-z-]*password \).*/\1****************/' -e 's/^/    /' "$DEMO/script.out"
step "PC021 asks for PC001's script"
code=$(script $NS_PC2 52-54-00-12-00-01)
echo "PC021 asks for PC001's script: HTTP $code (only PC001's address gets it)"
[ "$code" = 403 ] || fail "PC021 got HTTP $code for PC001's script, not 403"
rm -f "$DEMO/script.out"

# secret NAME: the PC's CHAP secret, which its iPXE script gives it (vdiskd wants it at login)
secret() {
	VDISK_DB=$DEMO/a/vdisk.db "$BUILD/vdiskctl" client show "$1" --secrets |
		sed -n 's/^chap-secret: *//p'
}
# disk NS NAME: what the PC's disk says through the service address (iSCSI login with the
# PC's initiator name and CHAP secret, then INQUIRY's unit serial number page).
disk() {
	ip netns exec "$1" env LIBISCSI_CHAP_USERNAME="iqn.2026-11.lan.vdisk:$2" \
		LIBISCSI_CHAP_PASSWORD="$(secret "$2")" timeout 5 iscsi-inq \
		-i "iqn.2026-11.lan.vdisk:$2" -e 1 -c 128 \
		"iscsi://$VIP/iqn.2026-11.lan.vdisk:disk/0" 2>&1 | grep -i -m1 'serial' ||
		echo "no disk"
}
step "PC001 logs in to its disk through $VIP"
serial=$(disk $NS_PC1 pc001)
echo "PC001's disk through $VIP: $serial"
grep -q '^Unit Serial Number:\[.\+\]$' <<<"$serial" || fail "no serial number: $serial"

# io NS NAME qemu-io-commands...: PC NAME's disk through the service address (libiscsi);
# prints qemu-io's lines that say what happened; its status is qemu-io's
io() {
	local out rc
	out=$(ip netns exec "$1" timeout 20 qemu-io --object "secret,id=chap,data=$(secret "$2")" \
		--image-opts "driver=iscsi,transport=tcp,portal=$VIP:3260,target=iqn.2026-11.lan.vdisk:disk,lun=0,initiator-name=iqn.2026-11.lan.vdisk:$2,user=iqn.2026-11.lan.vdisk:$2,password-secret=chap" \
		"${@:3}" 2>&1)
	rc=$?
	IO_OUT=$(grep -E 'wrote|read|fail|Pattern|error|can.t' <<<"$out")
	[ -z "$IO_OUT" ] || sed 's/^/    /' <<<"$IO_OUT"
	return $rc
}
# io_ok NS NAME qemu-io-commands...: the same; fails the step unless every command succeeded
io_ok() {
	io "$@"
	local rc=$?
	if [ $rc != 0 ] || grep -qE 'fail|Pattern|error|can.t' <<<"$IO_OUT" ||
	   ! grep -qE '^(wrote|read) ' <<<"$IO_OUT"; then
		fail "qemu-io (status $rc): $(grep -m1 -E 'fail|Pattern|error|can.t' <<<"$IO_OUT")"
	fi
}
# mirror_of a|b: vdiskd's mirror status on that server
mirror_of() { VDISK_RUN_DIR=$DEMO/$1/run "$BUILD/vdiskctl" mirror status; }
in_sync() { mirror_of a 2>/dev/null | grep -q '^mirror: in-sync'; }

say "PC001 writes 1 MiB; GOOD comes back only once both servers have it"
step "PC001 writes 1 MiB through srv-a"
io_ok $NS_PC1 pc001 -c 'write -P 0x5a 1M 1M'
step "srv-a's mirror is in sync with srv-b before the cut"
wait_for 10000 in_sync || fail "$(mirror_of a 2>&1 | tr '\n' ' ')"
mirror_of a | sed 's/^/    /'

say "Power cut on srv-a: its links down, every process in its namespace killed"
step "srv-b takes over after the power cut"
t0=$(date +%s%3N)
ip -n $NS_A link set lan0 down; ip -n $NS_A link set ha0 down
for pid in $(ip netns pids $NS_A); do kill -9 "$pid"; done
wait_for 10000 state_is b active ||
	fail "srv-b is '$(state_of b)', not active, 10 s after the cut (see $DEMO/b/standbyd.log)"
echo "srv-b active $(( $(date +%s%3N) - t0 )) ms after the cut (deadtime 1 s)"
brief b

say "After the failover"
boot $NS_PC1 PC001 192.168.50.3
boot $NS_PC2 PC021 ""
step "PC001 logs in to its disk, now served by srv-b"
after=$(disk $NS_PC1 pc001)
echo "PC001's disk through $VIP, now served by srv-b: $after"
[ "$after" = "$serial" ] || fail "srv-b's disk says '$after', srv-a's said '$serial'"
echo "PC001 reads back what it wrote before the cut, now from srv-b:"
step "PC001 reads back what it wrote before the cut, from srv-b"
pattern=0x5a
[ "${DEMO_TEST_FAULT:-}" = readback ] && pattern=0xa5	# for tests/cli/demo.t only
io_ok $NS_PC1 pc001 -c "read -P $pattern 1M 1M"
echo "PC021 (no hot standby) asks srv-b for its disk:"
step "srv-b refuses PC021's disk"
io $NS_PC2 pc021 -c 'read 0 4k' && fail "srv-b served PC021's disk"
grep -q "can't open" <<<"$IO_OUT" || fail "not a refused login: $IO_OUT"
echo "srv-b records PC001's writes for srv-a's return:"
step "PC001 writes through srv-b, which records the write"
io_ok $NS_PC1 pc001 -c 'write -P 0x6b 4M 64k'
mirror_of b | sed 's/^/    /'
dirty=$(mirror_of b | sed -n 's/^ *mirror_client: PC001 .* dirty \([0-9]*\) .*/\1/p')
[ "${dirty:-0}" -ge 1 ] || fail "srv-b's mirror of PC001 records no dirty chunk"
say "srv-b's events"
step "srv-b's events"
VDISK_DB=$DEMO/b/vdisk.db "$BUILD/vdiskctl" events --limit 12 || fail "vdiskctl events failed"
VDISK_DB=$DEMO/b/vdisk.db "$BUILD/vdiskctl" events |
	grep -q 'PC021 belongs to srv-a and has no hot standby' || fail "no event says why PC021 got no answer"
echo
echo "demo: every step checked out"
