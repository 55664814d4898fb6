#!/bin/bash
# Hostile heartbeats from the client LAN: forged (wrong key), replayed (a real packet of a's,
# captured on its switch port, sent again) and garbage are dropped and counted, never acted
# on; a burst is an event; a signed far-future boot generation does not blind b. After a
# power cut of a, replaying a's captured heartbeats does not keep b from taking over.
source "$(dirname "$0")/../lib/tap.sh"
need_root
source "$SRCDIR/tests/ha/standby-lib.sh"
INJ=$BUILD/tests/helpers/standby_inject

check "topology" -- sb_topology
sb_pair_up

check "forged heartbeats sent" -- ip netns exec "$NS_C" "$INJ" forge 10.77.0.255 694 20 10 sbtest a
check "garbage sent" -- ip netns exec "$NS_C" "$INJ" garbage 10.77.0.255 694 20 5
# The heartbeats are unicast: a PC sees them only from a switch port that carries them.
check "a heartbeat of a's captured on a's switch port" -- \
	ip netns exec "$NS_SW" "$INJ" capture p-a a "$SB_DIR/a.hb"
check "replayed heartbeats sent" -- ip netns exec "$NS_C" "$INJ" replay 10.77.0.2 694 20 5 "$SB_DIR/a.hb"
# the daemons count what they read: wait for the last of it
counted() {
	[ "$(sb_counter a dropped_bad_auth)" -ge 20 ] && [ "$(sb_counter b dropped_bad_auth)" -ge 20 ] &&
	[ "$(sb_counter a dropped_malformed)" -ge 10 ] &&
	[ "$(sb_counter b dropped_malformed)" -ge 10 ] && [ "$(sb_counter b dropped_replayed)" -ge 19 ]
}
wait_until 5000 counted
for n in a b; do
	ok "$([ "$(sb_counter $n dropped_bad_auth)" -ge 20 ]; echo $?)" \
		"$n counted forged packets ($(sb_counter $n dropped_bad_auth))"
	ok "$([ "$(sb_counter $n dropped_malformed)" -ge 10 ]; echo $?)" \
		"$n counted malformed packets ($(sb_counter $n dropped_malformed))"
done
diag "a: $(sb_status a | grep dropped_ | tr '\n' ' ')"
diag "b: $(sb_status b | grep dropped_ | tr '\n' ' ')"
ok "$([ "$(sb_counter b dropped_replayed)" -ge 19 ]; echo $?)" \
	"b counted replayed packets ($(sb_counter b dropped_replayed))"
is "$(sb_state a)/$(sb_state b)" "active/standby" "nothing acted on"
check "burst of bad packets logged" -- grep -q "burst of bad heartbeat packets" "$SB_DIR/b.log"

# One who holds the key (a weak key broken) claims a restart of a's a day ahead. Followed,
# that generation would make every real heartbeat of a's stale until a restarted a day later.
stale0=$(sb_counter b dropped_stale)
check "far-future boot generation sent, signed" -- \
	ip netns exec "$NS_C" "$INJ" future 10.77.0.2 694 3 10 sbtest a "$SB_HBKEY"
stale_counted() { [ "$(sb_counter b dropped_stale)" -ge $((stale0 + 3)) ]; }
check "b counted the forged generation as stale" -- wait_until 5000 stale_counted
# a negative check: three deadtimes for b to (wrongly) declare a dead
sleep 1.5
is "$(sb_peer b)" "a alive" "b still hears a after the far-future generation"
ok "$(grep -q "peer a dead" "$SB_DIR/b.log"; [ $? = 1 ]; echo $?)" "b never saw a dead"
is "$(sb_state a)/$(sb_state b)" "active/standby" "nothing moved"

# a dies; an attacker keeps replaying a's last heartbeats to hold b back. The power cut
# comes once b counts the replays.
check "a's latest heartbeat captured" -- ip netns exec "$NS_SW" "$INJ" capture p-a a "$SB_DIR/a.hb"
replayed0=$(sb_counter b dropped_replayed)
ip netns exec "$NS_C" "$INJ" replay 10.77.0.2 694 60 30 "$SB_DIR/a.hb" &
inj=$!
replaying() { [ "$(sb_counter b dropped_replayed)" -gt "$replayed0" ]; }
check "the replay of a's heartbeats is under way" -- wait_until 5000 replaying
sb_power_cut a
check "b takes over despite the replayed heartbeats" -- sb_wait_state b active 3000
wait $inj
ok $? "the replay went on to its end (60 packets)"
check "service on b" -- sb_wait_fetch b 2000
check "no sanitizer report from the daemons" -- sb_logs_clean
done_testing
