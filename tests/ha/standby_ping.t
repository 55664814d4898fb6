#!/bin/bash
# Ping nodes: b takes over after a power cut of a only if one of its ping nodes answers.
# First with the client as ping node (it answers), then with an address nobody holds.
source "$(dirname "$0")/../lib/tap.sh"
need_root
SB_PING="10.77.0.99 10.77.0.10"
source "$SRCDIR/tests/ha/standby-lib.sh"

check "topology" -- sb_topology
sb_pair_up
sb_power_cut a
check "one ping node answers: b takes over" -- sb_wait_state b active 3000
check "service on b" -- sb_wait_fetch b 2000

# Now b's only ping node is silent: a power cut of b's peer must not make b take over.
sb_power_on a
sb_start a
check "a back, standing by" -- sb_wait_state a standby 3000
sed -i 's/^ping .*/ping 10.77.0.99/' "$SB_DIR/a/ha.cf"
kill -TERM $SB_PID_b
check "b hands over on stop" -- sb_wait_state a active 3000
sed -i 's/^ping .*/ping 10.77.0.99/' "$SB_DIR/b/ha.cf"
sb_start b
check "b standby with a silent ping node" -- sb_wait_state b standby 3000
sb_power_cut a
check "refusal says why" -- sb_wait_log b "takeover refused: no ping node answers" 5000
sleep 1.5	# a negative check: a takeover would show within this time
is "$(sb_state b)" "standby" "no ping node answers: no takeover"
check "no sanitizer report from the daemons" -- sb_logs_clean
done_testing
