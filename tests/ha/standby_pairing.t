#!/bin/bash
# Normal pairing: the preferred node takes the role, the other stands by, the client reaches
# the service at the address, status shows both sides.
source "$(dirname "$0")/../lib/tap.sh"
need_root
source "$SRCDIR/tests/ha/standby-lib.sh"

check "topology in network namespaces" -- sb_topology
is "$("$BUILD/standbyd" -c "$SB_DIR/a" --node a --check-config >/dev/null 2>&1; echo $?)" 0 \
	"--check-config accepts the test config"
sb_start a
sb_start b
check "a becomes active" -- sb_wait_state a active 3000
check "b stands by" -- sb_wait_state b standby 1000
check "a holds the service address" -- sb_has_vip a
check "b does not" -- sb_lacks_vip b
check "client reaches the service on a" -- sb_wait_fetch a 2000
is "$(sb_peer b)" "a alive" "b sees a alive"
is "$(sb_peer a)" "b alive" "a sees b alive"
is "$(sb_field b peer_state)" "active" "b sees a active"
is "$(sb_field a replication)" "in_sync" "replication reported"
is "$(sb_status b | grep '^dropped_' | grep -vc ': 0$')" 0 \
	"no packet dropped in normal pairing (copies by both links are not replays)"
for l in lan0 ha0; do
	n=$(sb_status b | sed -n "s/^link: $l rx \([0-9]*\).*/\1/p")
	ok "$([ "${n:-0}" -gt 2 ]; echo $?)" "b counts heartbeats received on $l (${n:-0})"
done
ok "$(grep -q "directive 'respawn' is not implemented" "$SB_DIR/a.log"; echo $?)" \
	"ignored directive warned about"
sleep 1	# a negative check: nothing moves within this time
is "$(sb_state a)/$(sb_state b)" "active/standby" "pair stays stable"
check "takeover b asked on b" -- sb_cmd b takeover b
check "b becomes active on request" -- sb_wait_state b active 3000
check "a stands by" -- sb_wait_state a standby 1000
check "client reaches the service on b" -- sb_wait_fetch b 2000
check "maintenance b hands the role to a" -- sb_cmd b maintenance b
check "b in maintenance" -- sb_wait_state b maintenance 3000
check "a active again" -- sb_wait_state a active 3000
out=$("$SB_CLI" takeover nosuch --ctl "$SB_DIR/a.sock" 2>&1); rc=$?
is "$rc" 1 "unknown node: exit 1"
ok "$(echo "$out" | grep -q "neither a nor b"; echo $?)" "unknown node named in one line"
"$SB_CLI" bogus --ctl "$SB_DIR/a.sock" 2>/dev/null
is "$?" 2 "unknown subcommand: exit 2"
"$SB_CLI" status --ctl "$SB_DIR/none.sock" 2>/dev/null
is "$?" 1 "no daemon: exit 1"
check "release b leaves maintenance" -- sb_cmd b release b
check "b standby" -- sb_wait_state b standby 2000
kill -TERM $SB_PID_a
check "a stopping hands over to b" -- sb_wait_state b active 3000
check "a removed the address on stop" -- sb_lacks_vip a
check "no sanitizer report from the daemons" -- sb_logs_clean
done_testing
