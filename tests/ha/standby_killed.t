#!/bin/bash
# standbyd alone killed on the active while its host lives: the address stays and answers,
# b's ARP probe sees it alive and does not take over; a restarted standbyd resumes the role
# without moving anything. Then the standby's heartbeat receiver killed: another starts,
# and nothing moves.
source "$(dirname "$0")/../lib/tap.sh"
need_root
source "$SRCDIR/tests/ha/standby-lib.sh"

check "topology" -- sb_topology
sb_pair_up
check "client reaches a" -- sb_wait_fetch a 2000
mac_a=$(sb_mac a)

kill -9 $SB_PID_a
check "b sees a dead" -- sb_wait_log b 'peer a dead' 5000
check "refusal logged" -- sb_wait_log b "takeover refused: the service address answers ARP" 5000
sleep 1.5	# a negative check: a takeover would show within this time
is "$(sb_state b)" "standby" "b does not take over: the address answers ARP"
check "address still on a" -- sb_has_vip a
check "service still answers from a" -- sb_wait_fetch a 1000
check "b never held the address" -- sb_lacks_vip b

sb_start a
check "restarted standbyd resumes the role" -- sb_wait_state a active 3000
check "resume logged" -- grep -q "already configured here: resuming" "$SB_DIR/a.log"
is "$(sb_state b)" "standby" "b still standby"
check "b sees a alive again" -- sb_wait_peer b "a alive" 1000
check "service still on a" -- sb_wait_fetch a 1000
is "$(ip -n "$NS_C" neigh show $SB_VIP | awk '{print $5}')" "$mac_a" "client's ARP entry never moved"
ok "$(grep -c 'state standby -> taking_over' "$SB_DIR/b.log" | grep -qx 0; echo $?)" \
	"b never started a takeover"

# The heartbeat receiver killed (a crash, or a packet that took it over): standbyd starts
# another well inside the deadtime, and nothing moves.
rx_field() { sb_member "$1" receiver "$2"; }
rx_restarts_is() { [ "$(rx_field "$1" restarts)" = "$2" ]; }
dead_before=$(grep -c 'peer a dead' "$SB_DIR/b.log")
old=$(rx_field b pid)
ok "$([ -n "$old" ] && [ "$old" -gt 0 ]; echo $?)" "b's status names its receiver (pid $old)"
kill -9 "$old"
check "b starts another receiver" -- wait_until 2000 rx_restarts_is b 1
new=$(rx_field b pid)
ok "$([ "$new" -gt 0 ] && [ "$new" != "$old" ]; echo $?)" "as another process ($new)"
check "the log says so" -- grep -q "heartbeat receiver died" "$SB_DIR/b.log"
sleep 1.5	# a negative check: three deadtimes, a peer taken for dead would show
is "$(grep -c 'peer a dead' "$SB_DIR/b.log")" "$dead_before" "b never took a for dead"
is "$(sb_peer b)" "a alive" "b hears a"
is "$(sb_state a)/$(sb_state b)" "active/standby" "nothing moved"
check "no sanitizer report from the daemons" -- sb_logs_clean
done_testing
