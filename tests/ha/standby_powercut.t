#!/bin/bash
# Power cut of the active server: every process of its namespace killed with -9 and its
# links down. The standby takes the address, the client's ARP entry moves to its MAC and the
# TCP service answers again; events reach the DB. With auto_failback off the returning node
# stays standby.
source "$(dirname "$0")/../lib/tap.sh"
need_root
source "$SRCDIR/tests/ha/standby-lib.sh"

SB_DB=$SB_DIR/vdisk.db
check "topology" -- sb_topology
check "database for events" -- "$BUILD/vdiskctl" --db "$SB_DB" init
sb_pair_up
check "client reaches a" -- sb_wait_fetch a 2000
mac_a=$(sb_mac a) mac_b=$(sb_mac b)
is "$(ip -n "$NS_C" neigh show $SB_VIP | awk '{print $5}')" "$mac_a" "client's ARP entry: a's MAC"

sb_cut_takeover "b takes over"
check "TCP service answers from b" -- sb_wait_fetch b 2000
check "client's ARP entry moved to b" -- bash -c \
	"ip -n $NS_C neigh show $SB_VIP | grep -q $mac_b"
is "$(sb_peer b)" "a dead" "b reports a dead"
events=$("$BUILD/vdiskctl" --db "$SB_DB" events 2>&1)
ok "$(echo "$events" | grep -q "peer a dead"; echo $?)" "peer death recorded in the DB"
ok "$(echo "$events" | grep -q "taking over"; echo $?)" "takeover recorded in the DB"
ok "$(echo "$events" | grep -q "state standby -> taking_over"; echo $?)" "state change recorded"

sb_power_on a
sb_start a
check "a back, standing by (auto_failback off)" -- sb_wait_state a standby 3000
sleep 2.5	# a negative check: longer than the failback delay (4 x deadtime), nothing moved
is "$(sb_state a)/$(sb_state b)" "standby/active" "the role stays on b"
check "service still on b" -- sb_wait_fetch b 1000
check "no sanitizer report from the daemons" -- sb_logs_clean
done_testing
