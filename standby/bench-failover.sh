#!/bin/bash
# make bench-failover: time from a power cut of the active server (every process of its
# namespace killed with -9, its links down) to the service address answering ARP at the new
# active's MAC, seen from the client namespace. 20 runs per setting, roles alternating:
#   standbyd keepalive 200ms / deadtime 1s, standbyd keepalive 100ms / deadtime 500ms,
#   keepalived VRRPv3 advert_int 0.2 with unicast peers, in the same topology.
# Needs root. BENCH_RUNS overrides the run count.
set -u
SRCDIR=$(cd "$(dirname "$0")/.." && pwd)
BUILD=${BUILD:-$SRCDIR/build}
[ "$(id -u)" = 0 ] || { echo "bench-failover: needs root (network namespaces)" >&2; exit 1; }
command -v keepalived >/dev/null || { echo "bench-failover: keepalived not installed" >&2; exit 1; }
source "$SRCDIR/tests/lib/tap.sh" >/dev/null
RUNS=${BENCH_RUNS:-20}
RESULTS=$(mktemp /tmp/sb-bench.XXXXXX)

other() { [ "$1" = a ] && echo b || echo a; }
ip_of() { [ "$1" = a ] && echo 10.77.0.1 || echo 10.77.0.2; }

# run_cut NODE: power-cut NODE, print ms until the client sees the address at another MAC
run_cut() {
	local victim=$1 mac t0 t1 newmac out
	mac=$(sb_mac "$victim")
	out=$SB_DIR/watch
	ip netns exec "$NS_C" "$BUILD/tests/helpers/standby_arpwatch" lan0 $SB_VIP 10.77.0.10 \
		"$mac" 10000 > "$out" &
	local w=$!
	sleep 0.1
	t0=$(date +%s%3N)
	sb_power_cut "$victim"
	if ! wait $w; then echo "-1"; return; fi
	read -r t1 newmac < "$out"
	[ "$newmac" = "$(sb_mac "$(other "$victim")")" ] || { echo "-1"; return; }
	echo $((t1 - t0))
}

stats() {	# stats NAME < one number per line
	sort -n | awk -v name="$1" '{ v[NR] = $1 } END {
		if (NR == 0) { printf "%-44s no successful run\n", name; exit }
		p = int(0.95 * NR + 0.999999); if (p < 1) p = 1
		med = (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2
		printf "%-44s %4d runs  median %5.0f  p95 %5d  max %5d ms\n", name, NR, med, v[p], v[NR]
		print med > "/dev/stderr" }'
}

bench_standbyd() {	# KEEPALIVE DEADTIME
	local label="standbyd keepalive $1 / deadtime $2" active=a i ms
	local res=$RESULTS.sb-$1-$2
	(
	SB_KEEPALIVE=$1 SB_DEADTIME=$2 SB_WARNTIME=$2 SB_INITDEAD=$2 SB_ID=$((RANDOM))
	source "$SRCDIR/tests/ha/standby-lib.sh"
	sb_topology || exit 1
	sb_start a; sb_start b
	sb_wait_state a active 5000 && sb_wait_state b standby 2000 ||
		{ echo "# $label: pair did not form" >&2; exit 1; }
	for i in $(seq "$RUNS"); do
		sleep 0.3
		ms=$(run_cut $active)
		[ "$ms" -ge 0 ] && echo "$ms" >> "$res" || echo "# run $i: no move seen" >&2
		sb_wait_state "$(other $active)" active 5000 || { echo "# run $i: no takeover" >&2; break; }
		sb_power_on $active
		sb_start $active
		sb_wait_state $active standby 5000 || { echo "# run $i: $active did not rejoin" >&2; break; }
		while [ "$(sb_peer $active)" != "$(other $active) alive" ]; do sleep 0.05; done
		active=$(other $active)
	done
	)
	touch "$res"
	stats "$label" < "$res" 2>>"$RESULTS.med"
	rm -f "$res"
}

ka_conf() {	# NODE PRIORITY
	local me peer
	me=$(ip_of "$1") peer=$(ip_of "$(other "$1")")
	cat > "$SB_DIR/ka-$1.conf" <<-KA
	global_defs {
		router_id sb-$1
		vrrp_version 3
		script_user root
		enable_script_security
	}
	vrrp_instance SB {
		state BACKUP
		nopreempt
		interface lan0
		virtual_router_id 77
		priority $2
		advert_int 0.2
		unicast_src_ip $me
		unicast_peer {
			$peer
		}
		virtual_ipaddress {
			$SB_VIP/24 dev lan0
		}
	}
	KA
}

ka_start() {
	ip netns exec "$(ns_of "$1")" keepalived -n -l -P -f "$SB_DIR/ka-$1.conf" \
		-p "$SB_DIR/ka-$1.pid" -r "$SB_DIR/ka-$1-vrrp.pid" >>"$SB_DIR/ka-$1.log" 2>&1 &
	disown
}

wait_vip() {	# NODE MS
	local end=$(( $(date +%s%3N) + $2 ))
	while [ "$(date +%s%3N)" -lt "$end" ]; do sb_has_vip "$1" && return 0; sleep 0.05; done
	return 1
}

bench_keepalived() {
	local label="keepalived VRRPv3 advert_int 0.2 unicast" active=a i ms
	local res=$RESULTS.ka
	(
	SB_ID=$((RANDOM))
	source "$SRCDIR/tests/ha/standby-lib.sh"
	sb_topology || exit 1
	ka_conf a 150; ka_conf b 100
	ka_start a
	wait_vip a 5000 || { echo "# $label: a never became master" >&2; exit 1; }
	ka_start b
	sleep 1
	for i in $(seq "$RUNS"); do
		sleep 0.3
		ms=$(run_cut $active)
		[ "$ms" -ge 0 ] && echo "$ms" >> "$res" || echo "# run $i: no move seen" >&2
		wait_vip "$(other $active)" 5000 || { echo "# run $i: no takeover" >&2; break; }
		sb_power_on $active
		rm -f "$SB_DIR/ka-$active.pid" "$SB_DIR/ka-$active-vrrp.pid"
		ka_start $active
		sleep 1.2	# the returning router learns the master's adverts (nopreempt: stays backup)
		sb_has_vip $active && { echo "# run $i: $active preempted" >&2; break; }
		active=$(other $active)
	done
	)
	touch "$res"
	stats "$label" < "$res" 2>>"$RESULTS.med"
	rm -f "$res"
}

echo "failover: power cut of the active -> service address answering at the new MAC (client's view)"
bench_standbyd 200ms 1s
bench_standbyd 100ms 500ms
bench_keepalived
mapfile -t med < "$RESULTS.med"
if [ ${#med[@]} = 3 ]; then
	awk -v a="${med[0]}" -v b="${med[1]}" -v k="${med[2]}" 'BEGIN {
		printf "median ratio standbyd/keepalived: %.2f (200ms/1s), %.2f (100ms/500ms)\n", a / k, b / k }'
fi
rm -f "$RESULTS" "$RESULTS.med"
[ ${#med[@]} = 3 ]
