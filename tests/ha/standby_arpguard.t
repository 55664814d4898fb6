#!/bin/bash
# The takeover's ARP probe on a hostile LAN (issue 16, item 5): a PC on the client LAN
# configured with the service address answers every ARP for it. Only the peer's answer (its
# LAN MAC, carried in its authenticated heartbeat) may hold a takeover back: after a power
# cut of a, b takes over anyway, records the conflict naming the PC's MAC, its gratuitous
# ARPs win the client back, and the client reaches the service on b. (That the peer's own
# answer still holds a takeover back is standby_killed.t and standby_links.t.)
source "$(dirname "$0")/../lib/tap.sh"
need_root
source "$SRCDIR/tests/ha/standby-lib.sh"

check "topology" -- sb_topology
check "a PC on the LAN" -- sb_pc_join
sb_pair_up
mac_a=$(sb_mac a)
pc_mac=$SB_PC_MAC
b_knows_a() { [ "$(sb_field b peer_lan_mac)" = "$mac_a" ]; }
check "b learned a's LAN MAC from its heartbeats" -- wait_until 2000 b_knows_a
is "$(sb_field b peer_heartbeat)" "version 2" "a speaks heartbeat version 2"
check "client reaches a" -- sb_wait_fetch a 2000

# The PC takes the service address: from now on it answers ARP for it.
check "the PC configures the service address" -- \
	ip -n "$NS_PC" addr add "$SB_VIP/24" dev lan0 nodad
# from the client: the first ARP answer for the address from a MAC other than a's
watch=$(ip netns exec "$NS_C" "$BUILD/tests/helpers/standby_arpwatch" lan0 "$SB_VIP" 10.77.0.10 \
	"$mac_a" 2000 2>&1)
ok "$(echo "$watch" | grep -qi "$pc_mac"; echo $?)" "the PC answers ARP for $SB_VIP ($watch)"

t0=$(date +%s%3N)
sb_power_cut a
check "b takes over despite the PC's answers" -- sb_wait_state b active 3000
diag "b active $(( $(date +%s%3N) - t0 )) ms after the cut (deadtime $SB_DEADTIME)"
check "b holds the address" -- sb_has_vip b
check "the conflict recorded, naming the PC's MAC" -- \
	grep -q "address conflict: $SB_VIP is answered on the LAN by $pc_mac, which is not a" \
	"$SB_DIR/b.log"
ok "$(grep -q "takeover refused: the service address answers ARP" "$SB_DIR/b.log"; [ $? = 1 ];
	echo $?)" "no takeover refused for the PC's answer"
ok "$([ "$(grep -c "address conflict: $SB_VIP is answered" "$SB_DIR/b.log")" = 1 ]; echo $?)" \
	"one conflict event for the probe"
check "the client reaches the service on b" -- sb_wait_fetch b 3000
check "the client's ARP entry is b's" -- bash -c \
	"ip -n '$NS_C' neigh show '$SB_VIP' | grep -qi '$(sb_mac b)'"
check "no sanitizer report from the daemons" -- sb_logs_clean
done_testing
