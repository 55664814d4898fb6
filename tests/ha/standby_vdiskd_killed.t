#!/bin/bash
# vdiskd killed with -9 on the active, preferred node while standbyd lives (issue 15, item 7),
# and an admin release on that node: real vdiskds (tests/mirror/mirror-lib.sh), auto_failback
# on. Each case starts with b having handed the role over once, which is what made the pair
# livelock: a standby kept advertising yield after its handover, so with both nodes yielding
# the preferred node won every tie.
#
#   release: a hands the role to b, and it is not taken back a moment later (nor by
#       auto_failback, since a yields);
#   kill -9: b takes over within the bound below, a does not take the role back while its
#       vdiskd is down, and few state changes happen;
#   vdiskd back (started by hand, as the service manager would): a notices, stops yielding,
#       and auto_failback hands the role back once a has been ready for its delay;
#   vdiskd restarted quickly in the secondary role (before a status check saw it gone):
#       standbyd gives it the primary role back.
source "$(dirname "$0")/../lib/tap.sh"
SB_FAILBACK=on
source "$SRCDIR/tests/mirror/mirror-lib.sh"
mr_require

ms() { echo "${1%ms}"; }
MONITOR=$(ms "$SB_MONITOR") DEADTIME=$(ms "$SB_DEADTIME") KEEPALIVE=$(ms "$SB_KEEPALIVE")
PROBE=100	# probe_wait in standby-lib.sh's ha.cf
# A failed vdiskd is seen at the next status check (monitor_interval), its restart fails at
# once; b hears a give the role up in the heartbeat sent on the state change (or the next
# keepalive), probes for probe_wait, then starts its resources. The deadtime is slack for
# those steps on a loaded machine.
BOUND=$((MONITOR + KEEPALIVE + PROBE + DEADTIME))
# A release takes no detection: the peer hears it, probes and starts.
REL_BOUND=$((KEEPALIVE + PROBE + DEADTIME))
# auto_failback waits for the preferred node to be ready this long (4 x deadtime).
FAILBACK_MS=$((4 * DEADTIME))
# How long a node must keep still to show that nothing undoes a move: past the failback
# delay and several status checks.
HOLD_MS=$((FAILBACK_MS + 3 * MONITOR))

# changes NODE: state changes in NODE's log so far
changes() { grep -c "state [a-z_]* -> " "$SB_DIR/$1.log"; }
hold() { sleep "$(($1 / 1000)).$(printf %03d $(($1 % 1000)))"; }
field_is() { [ "$(sb_field "$1" "$2")" = "$3" ]; }
# takeover_by NODE: NODE asks for the role and gets it; the other node stands by
takeover_by() {
	sb_cmd "$1" takeover "$1" >/dev/null && sb_wait_state "$1" active 3000 &&
		sb_wait_state "$(mr_other "$1")" standby 1000
}

check "topology" -- sb_topology
check "database, pair secret, haresources" -- mr_setup
check "vdiskd on a" -- mr_vdiskd_start a secondary
check "vdiskd on b" -- mr_vdiskd_start b secondary
sb_pair_up

# ---- release on the active, preferred node
b_then_a() { takeover_by b && takeover_by a; }
check "b takes the role, then hands it back to a" -- b_then_a
is "$(sb_field b flags)" "yield" "b handed the role over: it yields while a holds it"
a0=$(changes a) b0=$(changes b)
t0=$(date +%s%3N)
check "release on a" -- sb_cmd a release a
check "b takes the role within ${REL_BOUND} ms" -- sb_wait_state b active "$REL_BOUND"
diag "release: b active $(( $(date +%s%3N) - t0 )) ms after the command"
hold "$HOLD_MS"
is "$(sb_state a)/$(sb_state b)" "standby/active" \
	"a does not take the role back (${HOLD_MS} ms, auto_failback on)"
is "$(( $(changes a) - a0 ))/$(( $(changes b) - b0 ))" "2/2" \
	"two state changes each (a: releasing, standby; b: taking_over, active)"
is "$(sb_field a flags)" "yield" "a yields: it handed the role over"
sb_status b | grep -qx 'flags:'
ok $? "b no longer yields: a gave the role up after its handover (flags: none)"

# ---- kill -9 of vdiskd on the active, preferred node
check "a takes the role again, b hands it over" -- takeover_by a
is "$(sb_field b flags)" "yield" "b yields while a holds the role"
a0=$(changes a) b0=$(changes b)
t0=$(date +%s%3N)
kill -9 "$MR_VPID_a"
check "b takes over within ${BOUND} ms" -- sb_wait_state b active "$BOUND"
diag "kill -9: b active $(( $(date +%s%3N) - t0 )) ms after the kill"
hold "$HOLD_MS"
is "$(sb_state a)/$(sb_state b)" "standby/active" \
	"a does not take the role back while its vdiskd is down (${HOLD_MS} ms)"
na=$(( $(changes a) - a0 )) nb=$(( $(changes b) - b0 ))
diag "state changes since the kill: a $na, b $nb"
is "$na/$nb" "2/2" "two state changes each (a: releasing, standby; b: taking_over, active)"
check "a logged the failure" -- grep -q "resource vdiskd.*failed again after its restart" \
	"$SB_DIR/a.log"
check "a says why it cannot have the role" -- field_is a flags "yield failed"
check "b sees a yield" -- field_is b peer_flags "yield failed"
check "a's address went with the role" -- sb_lacks_vip a
check "b holds it" -- sb_has_vip b

# ---- vdiskd back on a
check "vdiskd started again on a" -- mr_vdiskd_start a secondary
t0=$(date +%s%3N)
check "a notices within $((MONITOR + KEEPALIVE)) ms and stops yielding" -- \
	wait_until $((MONITOR + KEEPALIVE)) field_is a flags ""
check "b sees a eligible again" -- wait_until "$KEEPALIVE" field_is b peer_flags ""
check "b's vdiskd says in-sync (no client: nothing to resync)" -- mr_wait_mirror b in-sync 2000
# half the failback delay after a stopped yielding (t0), not after the checks above: those
# take their time on a loaded machine, and the delay runs meanwhile
left=$(( t0 + FAILBACK_MS / 2 - $(date +%s%3N) ))
[ "$left" -gt 0 ] && hold "$left"
elapsed=$(( $(date +%s%3N) - t0 ))
st=$(sb_state b)
if [ "$elapsed" -lt "$FAILBACK_MS" ]; then
	is "$st" active "no failback before a has been ready for the failback delay (${elapsed} ms)"
else
	# the machine was too slow to look in time: the failback may rightly have come
	skip "no failback before a has been ready for the failback delay" \
		"the checks above took ${elapsed} ms, past the ${FAILBACK_MS} ms delay"
fi
check "auto_failback: a takes its role back" -- \
	sb_wait_state a active $((FAILBACK_MS + MONITOR + BOUND))
diag "failback $(( $(date +%s%3N) - t0 )) ms after vdiskd was started on a" \
	"(delay ${FAILBACK_MS} ms from a's readiness)"
check "b stands by" -- sb_wait_state b standby 1000
check "b's log names auto_failback" -- grep -q "auto_failback: the preferred node is back" \
	"$SB_DIR/b.log"
check "a's vdiskd is primary" -- bash -c "'$MR_CTL' '$SB_DIR/a/vdiskd.sock' status |
	grep -qx 'role: primary'"

# ---- vdiskd restarted in the secondary role before standbyd saw it gone
check "a's vdiskd put in the secondary role by hand" -- mr_ctl a role secondary
vrole_is() { mr_vstatus "$1" | grep -qx "role: $2"; }
check "a's standbyd gives it the primary role back within $((MONITOR + KEEPALIVE)) ms" -- \
	wait_until $((MONITOR + KEEPALIVE)) vrole_is a primary
is "$(sb_state a)/$(sb_state b)" "active/standby" "the role did not move"

check "no sanitizer report from the daemons" -- sb_logs_clean
done_testing
