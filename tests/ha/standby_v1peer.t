#!/bin/bash
# A rolling upgrade: b runs this standbyd, a still an old one that speaks heartbeat version 1
# (played by standby_inject v1peer: active, holding the address). b takes a's version 1
# heartbeats, answers in version 1 (so the old a keeps hearing it) with one version 2 packet
# per 10 s, and says so. a's LAN MAC is unknown meanwhile, so when a dies while a PC
# answers ARP for the service address, b counts that answer as a's and does not take over:
# the rule from before the LAN MAC, on the safe side.
source "$(dirname "$0")/../lib/tap.sh"
need_root
source "$SRCDIR/tests/ha/standby-lib.sh"
INJ=$BUILD/tests/helpers/standby_inject

check "topology" -- sb_topology
check "a PC on the LAN" -- sb_pc_join
check "the PC configures the service address" -- \
	ip -n "$NS_PC" addr add "$SB_VIP/24" dev lan0 nodad
# the old a: 120 heartbeats, one per 100 ms (the test's keepalive)
ip netns exec "$NS_A" "$INJ" v1peer 10.78.0.2 694 120 100 sbtest a "$SB_HBKEY" \
	>"$SB_DIR/v1peer.out" 2>&1 &
old_a=$!
sb_start b
check "b hears the old a" -- sb_wait_peer b "a alive" 2000
is "$(sb_field b peer_heartbeat)" "version 1" "b's status: a speaks version 1"
is "$(sb_field b peer_lan_mac)" unknown "a's LAN MAC unknown"
is "$(sb_state b)" standby "b stands by for the active a"
check "b said it answers in version 1" -- \
	grep -q "peer a speaks heartbeat version 1 (an older standbyd): answering in version 1" \
	"$SB_DIR/b.log"
wait $old_a
read -r _ v1 _ v2 <"$SB_DIR/v1peer.out"
diag "the old a received from b: version 1 ${v1:-?}, version 2 ${v2:-?} (two links)"
ok "$([ "${v1:-0}" -ge 150 ]; echo $?)" "b answered in version 1 (${v1:-0} packets in 12 s)"
ok "$([ "${v2:-99}" -ge 2 ] && [ "${v2:-99}" -le 6 ]; echo $?)" \
	"b's version 2 packets: its first heartbeat and one probe per 10 s (${v2:-?})"

# The old a is gone; the PC's answer counts as a's, whose MAC b does not know.
check "b refuses the takeover: the address answers ARP" -- wait_until 3000 grep -q \
	"takeover refused: the service address answers ARP" "$SB_DIR/b.log"
check "the answer counted as a's, whose LAN address is unknown" -- grep -q \
	"probe: $SB_VIP answered by $SB_PC_MAC (a's LAN address is unknown" "$SB_DIR/b.log"
is "$(sb_state b)" standby "b still stands by"
check "no sanitizer report from the daemons" -- sb_logs_clean
done_testing
