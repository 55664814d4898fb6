#!/bin/bash
# Heartbeat's other link kinds: the HA link as multicast (mcast IF GROUP PORT TTL LOOP) and
# the LAN as broadcast. Pairing over the multicast link alone, then a power cut.
source "$(dirname "$0")/../lib/tap.sh"
need_root
SB_HALINK="mcast ha0 239.77.0.1 694 1 0"
# The one test that keeps bcast on the LAN: the link kind is Heartbeat's and still accepted,
# so it must work; the other tests unicast there, as docs/standby.md advises.
SB_LANLINK="bcast lan0"
source "$SRCDIR/tests/ha/standby-lib.sh"

check "topology" -- sb_topology
check "mcast in the config" -- grep -q "^mcast ha0 239.77.0.1 694 1 0" "$SB_DIR/a/ha.cf"
sb_pair_up
check "LAN heartbeats dropped" -- sb_drop_heartbeats a on
sb_drop_heartbeats b on
sleep 1.5	# a negative check: three deadtimes on the multicast link alone, nothing moved
is "$(sb_state a)/$(sb_state b)" "active/standby" "the multicast link alone keeps the pair"
is "$(sb_peer b)" "a alive" "b hears a over multicast"
ha0_rx() { sb_status b | sed -n 's/^link: ha0 rx \([0-9]*\).*/\1/p'; }
ha0_counts() { [ "$(ha0_rx)" -gt 5 ]; }
check "heartbeats counted on ha0" -- wait_until 3000 ha0_counts
check "bcast on the service address's LAN warned about at start" -- \
	grep -q "bcast lan0 broadcasts heartbeats to every PC" "$SB_DIR/a.log"
sb_power_cut a
check "power cut: b takes over" -- sb_wait_state b active 3000
check "no sanitizer report from the daemons" -- sb_logs_clean
done_testing
