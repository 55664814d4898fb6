# Shared set-up for pxed's namespace tests (sourced by tests/pxe/*.t after tap.sh).
# Three namespaces: px-b-ID holds a bridge, px-s-ID the server (px-s0, 10.77.0.1/24) and
# px-c-ID the client (px-c0, no address). Everything is removed on exit.
PX_ID=$$
NS_BR=px-b-$PX_ID
NS_S=px-s-$PX_ID
NS_C=px-c-$PX_ID
NS_R=px-r-$PX_ID	# only for tests that add a LAN router (px_router)
T=$(mktemp -d /tmp/px-test.XXXXXX)
PXED_PID=
PX_PIDS=

px_cleanup() {
	local p
	for p in $PX_PIDS $PXED_PID; do kill "$p" 2>/dev/null; done
	for p in $PX_PIDS $PXED_PID; do wait "$p" 2>/dev/null; done
	ip netns del "$NS_C" 2>/dev/null
	ip netns del "$NS_R" 2>/dev/null
	ip netns del "$NS_S" 2>/dev/null
	ip netns del "$NS_BR" 2>/dev/null
	rm -rf "$T"
}
trap px_cleanup EXIT

px_netns() {
	ip netns add "$NS_BR" && ip netns add "$NS_S" && ip netns add "$NS_C" || return 1
	ip -n "$NS_BR" link add px-br0 type bridge || return 1
	ip -n "$NS_BR" link set px-br0 up
	ip -n "$NS_S" link add px-s0 type veth peer name px-s0b netns "$NS_BR" || return 1
	ip -n "$NS_C" link add px-c0 type veth peer name px-c0b netns "$NS_BR" || return 1
	ip -n "$NS_BR" link set px-s0b master px-br0 up
	ip -n "$NS_BR" link set px-c0b master px-br0 up
	ip -n "$NS_S" addr add 10.77.0.1/24 dev px-s0
	ip -n "$NS_S" link set px-s0 up
	ip -n "$NS_S" link set lo up
	ip -n "$NS_C" link set px-c0 address 52:54:00:00:00:10
	ip -n "$NS_C" link set px-c0 up
	ip -n "$NS_C" link set lo up
}

# px_router: the café's router, another DHCP server (busybox udhcpd, pool .100-.150, gateway
# 10.77.0.254) in its own namespace on the bridge, for proxyDHCP tests.
px_router() {
	ip netns add "$NS_R" || return 1
	ip -n "$NS_R" link add px-r0 type veth peer name px-r0b netns "$NS_BR" || return 1
	ip -n "$NS_BR" link set px-r0b master px-br0 up
	ip -n "$NS_R" addr add 10.77.0.254/24 dev px-r0
	ip -n "$NS_R" link set px-r0 up
	printf '%s\n' "start 10.77.0.100" "end 10.77.0.150" "interface px-r0" \
		"option subnet 255.255.255.0" "option router 10.77.0.254" \
		"lease_file $T/udhcpd.leases" "pidfile $T/udhcpd.pid" >"$T/udhcpd.conf"
	: >"$T/udhcpd.leases"
	ip netns exec "$NS_R" busybox udhcpd -f "$T/udhcpd.conf" 2>"$T/udhcpd.log" &
	PX_PIDS="$PX_PIDS $!"
}

# px_conf MODE [extra lines...]: writes $T/pxed.conf
px_conf() {
	local mode=$1; shift
	mkdir -p "$T/tftp" "$T/state"
	{
		echo "interface = px-s0"
		echo "mode = $mode"
		echo "pool = 10.77.0.100-10.77.0.150"
		echo "router = 10.77.0.1"
		echo "dns = 10.77.0.1"
		echo "lease_time = 600"
		echo "tftp_root = $T/tftp"
		echo "service_address = 10.77.0.1"
		echo "state_dir = $T/state"
		echo "ctl_socket = $T/pxed.sock"
		echo "vdiskd_ctl = $T/vdiskd.sock"
		echo "standbyd_ctl = $T/standbyd.sock"
		for l in "$@"; do echo "$l"; done
	} > "$T/pxed.conf"
}

# Waits up to 5 s for a Unix socket to appear.
px_wait_sock() {
	wait_until 5000 test -S "$1"
}

px_start() {
	rm -f "$T/pxed.sock"
	ip netns exec "$NS_S" "$BUILD/pxed" --db "$T/db" -c "$T/pxed.conf" "$@" 2>>"$T/pxed.log" &
	PXED_PID=$!
	px_wait_sock "$T/pxed.sock"
}

px_stop() {
	[ -n "$PXED_PID" ] || return 0
	kill "$PXED_PID"
	wait "$PXED_PID"
	local rc=$?
	PXED_PID=
	return $rc
}

# The daemon's answers, through the helper that speaks the socket protocol (ctl_ask).
px_status() {	# px_status KEY: one top-level value of `status` ("KEY: value" in ctl_ask's text)
	"$BUILD/tests/helpers/ctl_ask" "$T/pxed.sock" status | sed -n "s/^$1: //p"
}

px_json() {	# px_json FILTER [REQUEST]: jq -r FILTER on the JSON answer to REQUEST (status)
	"$BUILD/tests/helpers/ctl_ask" --json "$T/pxed.sock" "${2:-status}" | jq -r "$1"
}

# px_fake_vdiskd ANSWERS: a stand-in vdiskd (ctl_fake) on $T/vdiskd.sock answering from the
# JSON object ANSWERS (written to $T/vdiskd.answers), its requests logged in $T/vdiskd.log.
px_fake_vdiskd() {
	printf '%s\n' "$1" >"$T/vdiskd.answers"
	"$BUILD/tests/helpers/ctl_fake" "$T/vdiskd.sock" "$T/vdiskd.log" "$T/vdiskd.answers" &
	PX_PIDS="$PX_PIDS $!"
	px_wait_sock "$T/vdiskd.sock"
}

px_client() {	# px_client ARGS...: pxe_client in the client namespace
	ip netns exec "$NS_C" "$BUILD/tests/helpers/pxe_client" -i px-c0 "$@"
}

px_field() {	# px_field KEY < pxe_client output: the first value
	sed -n "s/^$1=//p" | head -1
}

db() { "$BUILD/tests/helpers/pxe_dbseed" "$T/db" "$@"; }
