# Shared by tests/ha/*.t and the failover bench: a two-server pair and a client in network
# namespaces of their own. Source it after tap.sh, then call sb_topology and sb_start.
# SB_PREFIX (default sb) names the namespaces, for tests that must not share the prefix.
#
#   sb-<id>-sw   a bridge: the client LAN (10.77.0.0/24)
#   sb-<id>-a    server a: lan0 10.77.0.1, ha0 10.78.0.1 (veth straight to b)
#   sb-<id>-b    server b: lan0 10.77.0.2, ha0 10.78.0.2
#   sb-<id>-c    the client: lan0 10.77.0.10
# Service address 10.77.0.100/24 on lan0, a TCP service on port 7000 answering the node name.
# Heartbeats unicast on ha0 and on lan0 (never broadcast to the PCs; SB_LANLINK overrides);
# everything is removed on exit.
source "$(dirname "${BASH_SOURCE[0]}")/../lib/netns.sh"

SB_ID=${SB_ID:-$$}
SB_ID=$((SB_ID % 100000))
SB_PREFIX=${SB_PREFIX:-sb}
NS_A=$SB_PREFIX-$SB_ID-a NS_B=$SB_PREFIX-$SB_ID-b NS_C=$SB_PREFIX-$SB_ID-c NS_SW=$SB_PREFIX-$SB_ID-sw
NS_PC=$SB_PREFIX-$SB_ID-pc	# only after sb_pc_join
SB_VIP=10.77.0.100
SB_KEEPALIVE=${SB_KEEPALIVE:-100ms}
SB_DEADTIME=${SB_DEADTIME:-500ms}
SB_WARNTIME=${SB_WARNTIME:-300ms}
SB_INITDEAD=${SB_INITDEAD:-1s}
SB_FAILBACK=${SB_FAILBACK:-off}
SB_MONITOR=${SB_MONITOR:-300ms}
SB_HALINK=${SB_HALINK:-$'ucast ha0 10.78.0.1\nucast ha0 10.78.0.2'}
SB_LANLINK=${SB_LANLINK:-$'ucast lan0 10.77.0.1\nucast lan0 10.77.0.2'}
# The heartbeat key as N:KEY, for the helpers that sign as a key holder would (32 bytes or
# more: standbyd refuses shorter ones)
SB_HBKEY=2:sbtest-heartbeat-key-0123456789abcdef
# DB shipping's own key ("ship 3"), for the helpers that forge transfers
SB_SHIPKEY=3:sbtest-dbship-key-0123456789abcdef0123
SB_DIR=$(mktemp -d /tmp/sb-ha.XXXXXX)
# "$SB_CLI" ARGS runs `vdiskctl standby ARGS`; a file, so `bash -c` strings can run it too.
SB_CLI=$SB_DIR/vdiskctl-standby
printf '#!/bin/sh\nexec "%s/vdiskctl" standby "$@"\n' "$BUILD" >"$SB_CLI"
chmod 755 "$SB_CLI"

ns_of() { case $1 in a) echo "$NS_A" ;; b) echo "$NS_B" ;; c) echo "$NS_C" ;; esac; }

sb_cleanup() {
	local ns pid
	for ns in "$NS_A" "$NS_B" "$NS_C" "$NS_PC" "$NS_SW"; do
		for pid in $(ip netns pids "$ns" 2>/dev/null); do kill -9 "$pid" 2>/dev/null; done
		ip netns del "$ns" 2>/dev/null
	done
	rm -rf "$SB_DIR"
}
trap sb_cleanup EXIT

sb_ns_exec() { local ns; ns=$(ns_of "$1"); shift; ip netns exec "$ns" "$@"; }

sb_topology() {
	local n
	for n in "$NS_A" "$NS_B" "$NS_C" "$NS_SW"; do
		ip netns add "$n" || return 1
		ip -n "$n" link set lo up
	done
	ip -n "$NS_SW" link add br0 type bridge || return 1
	ip -n "$NS_SW" link set br0 up
	for n in a b c; do
		ip -n "$NS_SW" link add "p-$n" type veth peer name lan0 netns "$(ns_of $n)" || return 1
		ip -n "$NS_SW" link set "p-$n" master br0 up
		ip -n "$(ns_of $n)" link set lan0 up
	done
	ip -n "$NS_A" addr add 10.77.0.1/24 dev lan0
	ip -n "$NS_B" addr add 10.77.0.2/24 dev lan0
	ip -n "$NS_C" addr add 10.77.0.10/24 dev lan0
	ip -n "$NS_A" link add ha0 type veth peer name ha0 netns "$NS_B" || return 1
	ip -n "$NS_A" addr add 10.78.0.1/24 dev ha0
	ip -n "$NS_B" addr add 10.78.0.2/24 dev ha0
	ip -n "$NS_A" link set ha0 up
	ip -n "$NS_B" link set ha0 up
	for n in a b; do sb_config "$n" || return 1; done
}

# sb_pc_join: one more PC on the client LAN (namespace $NS_PC), lan0 10.77.0.20 with MAC
# $SB_PC_MAC, for tests where a PC misbehaves
SB_PC_MAC=52:54:00:12:00:42
sb_pc_join() {
	ip netns add "$NS_PC" || return 1
	ip -n "$NS_PC" link set lo up
	ip -n "$NS_SW" link add p-pc type veth peer name lan0 netns "$NS_PC" || return 1
	ip -n "$NS_SW" link set p-pc master br0 up
	ip -n "$NS_PC" link set lan0 address $SB_PC_MAC
	ip -n "$NS_PC" link set lan0 up
	ip -n "$NS_PC" addr add 10.77.0.20/24 dev lan0
}

# sb_config NODE: DIR/NODE/{ha.cf,authkeys,haresources,resource.d/svc}
sb_config() {
	local d=$SB_DIR/$1
	mkdir -p "$d/resource.d"
	cat > "$d/ha.cf" <<-CF
	# standbyd HA test pair
	cluster sbtest
	keepalive $SB_KEEPALIVE
	warntime $SB_WARNTIME
	deadtime $SB_DEADTIME
	initdead $SB_INITDEAD
	udpport 694
	$SB_HALINK
	$SB_LANLINK
	node a
	node b
	auto_failback $SB_FAILBACK
	monitor_interval $SB_MONITOR
	probe_wait 100ms
	respawn hacluster /usr/lib/heartbeat/ipfail
	CF
	[ -n "${SB_PING:-}" ] && echo "ping $SB_PING" >> "$d/ha.cf"
	[ -n "${SB_TICKLE:-}" ] && echo "tickle_acks $SB_TICKLE" >> "$d/ha.cf"
	printf 'auth %s\n%s sha256 %s\nship %s\n%s sha256 %s\n' "${SB_HBKEY%%:*}" "${SB_HBKEY%%:*}" \
		"${SB_HBKEY#*:}" "${SB_SHIPKEY%%:*}" "${SB_SHIPKEY%%:*}" "${SB_SHIPKEY#*:}" \
		> "$d/authkeys"
	chmod 600 "$d/authkeys"
	echo "a IPaddr::$SB_VIP/24/lan0 svc" > "$d/haresources"
	cat > "$d/resource.d/svc" <<-SH
	#!/bin/sh
	# LSB stand-in service: the node's name on TCP 7000. Broken while $d/broken exists, its
	# status slow (1.5 s, three deadtimes) while $d/slow exists.
	pid=$d/svc.pid
	case "\$1" in
	start)	[ -e $d/broken ] && exit 1
		[ -f \$pid ] && kill -0 "\$(cat \$pid)" 2>/dev/null && exit 0
		$BUILD/tests/helpers/standby_echo 7000 $1 </dev/null >/dev/null 2>&1 &
		echo \$! > \$pid; exit 0 ;;
	stop)	[ -f \$pid ] && kill "\$(cat \$pid)" 2>/dev/null; rm -f \$pid; exit 0 ;;
	status)	[ -e $d/slow ] && sleep 1.5
		[ -e $d/broken ] && exit 3
		[ -f \$pid ] && kill -0 "\$(cat \$pid)" 2>/dev/null && exit 0; exit 3 ;;
	*)	exit 2 ;;
	esac
	SH
	chmod 755 "$d/resource.d/svc"
}

# sb_start NODE: standbyd in the node's namespace, log in DIR/NODE.log; SB_ARGS: more options
sb_start() {
	ip netns exec "$(ns_of "$1")" "$BUILD/standbyd" -c "$SB_DIR/$1" --node "$1" \
		--ctl "$SB_DIR/$1.sock" --state-dir "$SB_DIR/$1" ${SB_DB:+--db "$SB_DB"} \
		${SB_ARGS:-} >>"$SB_DIR/$1.log" 2>&1 &
	eval "SB_PID_$1=$!"
	disown
}

# sb_pair_up: standbyd on both nodes; checks that a (preferred) becomes active and b stands by.
sb_pair_up() {
	sb_start a
	sb_start b
	check "a active" -- sb_wait_state a active 3000
	check "b standby" -- sb_wait_state b standby 1000
}

# sb_status NODE: standbyd's status answer as vdiskctl prints it, one member a line
# ("key: value"; an object "key: k v k v ...", a list of objects one line each, its name first)
sb_status() { "$SB_CLI" status --ctl "$SB_DIR/$1.sock" 2>/dev/null; }
# sb_field NODE KEY: the value of a top-level member as printed ("" when absent)
sb_field() { sb_status "$1" | sed -n "s/^$2: //p" | head -1; }
# sb_member NODE KEY MEMBER: a member of the object KEY (db_ship, tickle_acks, receiver...)
sb_member() {
	sb_field "$1" "$2" | awk -v m="$3" '{ for (i = 1; i < NF; i++) if ($i == m) { print $(i + 1); exit } }'
}
# sb_peer NODE: "PEER STATUS", the peer's name and whether NODE hears it (alive, dead, unknown)
sb_peer() { sb_status "$1" | sed -n 's/^peer: //p; s/^peer_status: //p' | paste -sd' '; }
sb_state() { sb_field "$1" state; }
sb_cmd() { "$SB_CLI" "$2" "$3" --ctl "$SB_DIR/$1.sock"; }

# sb_wait_state NODE STATE MS: 0 once NODE reports STATE within MS
sb_state_is() { [ "$(sb_state "$1")" = "$2" ]; }
sb_wait_state() { wait_until "$3" sb_state_is "$1" "$2"; }

# sb_fetch: what the service at the address answers the client ("" if nothing)
sb_fetch() {
	ip netns exec "$NS_C" timeout 1 bash -c "exec 3<>/dev/tcp/$SB_VIP/7000 && cat <&3" \
		2>/dev/null
}

# sb_wait_fetch WORD MS: the client gets WORD from the service address within MS
sb_fetch_is() { [ "$(sb_fetch)" = "$1" ]; }
sb_wait_fetch() { wait_until "$2" sb_fetch_is "$1"; }

sb_mac() { ip -n "$(ns_of "$1")" -br link show lan0 | awk '{print $3}'; }
sb_has_vip() { ip -n "$(ns_of "$1")" -br addr show lan0 | grep -q "$SB_VIP/"; }
sb_lacks_vip() { ! sb_has_vip "$1"; }

# sb_power_cut NODE / sb_power_on NODE: tests/lib/netns.sh's, for a node
sb_power_cut() { netns_power_cut "$(ns_of "$1")"; }
sb_power_on() {
	rm -f "$SB_DIR/$1/svc.pid"
	netns_power_on "$(ns_of "$1")" "$SB_VIP/24"
}

# sb_arpwatch OLD_MAC MS OUT: standby_arpwatch in the client's namespace in the background,
# its pid in SB_WATCH; returns once its capture is open (it probes every 5 ms from then on), so
# a power cut that follows is seen from its first moment
sb_packet_socket() { [ "$(ip netns exec "$NS_C" cat /proc/net/packet | wc -l)" -gt 1 ]; }
sb_arpwatch() {
	ip netns exec "$NS_C" "$BUILD/tests/helpers/standby_arpwatch" lan0 $SB_VIP 10.77.0.10 \
		"$1" "$2" >"$3" &
	SB_WATCH=$!
	wait_until 5000 sb_packet_socket
}

# sb_cut_takeover LABEL: power cut of a while the client watches the service address: b
# becomes active (the check LABEL) and the client sees the address at b's MAC within 1.5 s
sb_cut_takeover() {
	local mac_b t0 t1 newmac watch

	mac_b=$(sb_mac b)
	sb_arpwatch "$(sb_mac a)" 5000 "$SB_DIR/watch"
	watch=$SB_WATCH
	t0=$(date +%s%3N)
	sb_power_cut a
	check "$1" -- sb_wait_state b active 3000
	wait $watch
	ok $? "client sees the address at a new MAC"
	read -r t1 newmac < "$SB_DIR/watch"
	is "$newmac" "$mac_b" "the new MAC is b's"
	diag "power cut to the address answering at b's MAC: $((t1 - t0)) ms (deadtime $SB_DEADTIME)"
	ok "$([ $((t1 - t0)) -lt 1500 ]; echo $?)" "within 1.5 s of the cut"
}

# sb_log_has NODE PATTERN: NODE's standbyd log has a line matching PATTERN (grep -E)
sb_log_has() { grep -qE "$2" "$SB_DIR/$1.log"; }
# sb_wait_log NODE PATTERN MS: ... within MS
sb_wait_log() { wait_until "$3" sb_log_has "$1" "$2"; }

# sb_wait_peer NODE 'PEER alive' MS: NODE's status shows that peer and peer_status within MS
sb_peer_is() { [ "$(sb_peer "$1")" = "$2" ]; }
sb_wait_peer() { wait_until "$3" sb_peer_is "$1" "$2"; }

# sb_logs_clean: no sanitizer report in any daemon log (check-asan runs these tests too)
sb_logs_clean() {
	! grep -h -A3 "ERROR: AddressSanitizer\|ERROR: LeakSanitizer\|runtime error" \
		"$SB_DIR"/*.log 2>/dev/null | sed 's/^/# /' | grep .
}

sb_counter() { sb_field "$1" "$2"; }

# sb_drop_heartbeats NODE on|off: drop the heartbeats NODE sends on lan0 (UDP 694), leaving
# ARP and the service alone. An htb class whose leaf queue holds nothing: this needs no tc
# action module, which not every kernel has.
sb_drop_heartbeats() {
	local ns
	ns=$(ns_of "$1")
	if [ "$2" = off ]; then
		ip netns exec "$ns" tc qdisc del dev lan0 root 2>/dev/null
		return 0
	fi
	ip netns exec "$ns" tc qdisc add dev lan0 root handle 1: htb default 10 2>/dev/null &&
	ip netns exec "$ns" tc class add dev lan0 parent 1: classid 1:10 htb rate 10gbit 2>/dev/null &&
	ip netns exec "$ns" tc class add dev lan0 parent 1: classid 1:20 htb rate 10gbit 2>/dev/null &&
	ip netns exec "$ns" tc qdisc add dev lan0 parent 1:20 handle 20: pfifo limit 0 &&
	ip netns exec "$ns" tc filter add dev lan0 parent 1: protocol ip prio 1 u32 \
		match ip protocol 17 0xff match ip dport 694 0xffff flowid 1:20
}
