#!/bin/bash
# Link failures that must not move anything: the HA link cut while the LAN carries
# heartbeats; then both heartbeat paths cut while a still answers ARP on the LAN: b's probe
# sees the address alive and refuses, saying why.
source "$(dirname "$0")/../lib/tap.sh"
need_root
source "$SRCDIR/tests/ha/standby-lib.sh"

check "topology" -- sb_topology
sb_pair_up

ip -n "$NS_A" link set ha0 down
sleep 1.5	# a negative check: three deadtimes, nothing moved
is "$(sb_state a)/$(sb_state b)" "active/standby" "HA link cut, LAN up: no takeover"
is "$(sb_peer b)" "a alive" "b still hears a over the LAN"
ok "$(grep -q "peer a dead" "$SB_DIR/b.log"; [ $? = 1 ]; echo $?)" "no peer death logged"

# Heartbeats on the LAN dropped both ways at a; ARP and the service untouched.
ip -n "$NS_A" link set ha0 up
check "LAN heartbeats dropped at a" -- sb_drop_heartbeats a on
check "LAN heartbeats dropped at b" -- sb_drop_heartbeats b on
ip -n "$NS_A" link set ha0 down
check "b sees a dead" -- sb_wait_log b 'peer a dead' 5000
check "late heartbeat warned about first (warntime)" -- grep -q "heartbeat from a late" "$SB_DIR/b.log"
check "refusal logged with its reason" -- \
	sb_wait_log b "takeover refused: the service address answers ARP" 5000
sleep 1	# a negative check: a takeover would show within this time
is "$(sb_state b)" "standby" "both heartbeat paths cut, a answers ARP: b does not take over"
is "$(sb_field b last_refusal)" "the service address answers ARP on the LAN: its holder is alive" \
	"status shows the refusal"
check "service still on a" -- sb_wait_fetch a 1000
sb_drop_heartbeats a off
sb_drop_heartbeats b off
ip -n "$NS_A" link set ha0 up
check "links back: b hears a again" -- sb_wait_peer b "a alive" 2000
is "$(sb_state a)/$(sb_state b)" "active/standby" "nothing moved"
check "no sanitizer report from the daemons" -- sb_logs_clean
done_testing
