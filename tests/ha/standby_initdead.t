#!/bin/bash
# initdead: a node started alone waits initdead (not deadtime) for its peer before it takes
# the role, and says why; when the peer then starts, it joins as standby.
source "$(dirname "$0")/../lib/tap.sh"
need_root
SB_INITDEAD=1500ms
source "$SRCDIR/tests/ha/standby-lib.sh"

check "topology" -- sb_topology
t0=$(date +%s%3N)
sb_start b
check "b alone takes the role" -- sb_wait_state b active 4000
t1=$(date +%s%3N)
diag "b active $((t1 - t0)) ms after start (initdead 1500ms, deadtime $SB_DEADTIME)"
ok "$([ $((t1 - t0)) -ge 1500 ]; echo $?)" "not before initdead"
check "the reason is logged" -- grep -q "peer a not heard from within initdead (1500 ms)" "$SB_DIR/b.log"
check "service on b" -- sb_wait_fetch b 2000
sb_start a
check "a joins as standby (auto_failback off)" -- sb_wait_state a standby 3000
check "b sees a" -- sb_wait_peer b "a alive" 1000
is "$(sb_state b)" "active" "b keeps the role"
check "no sanitizer report from the daemons" -- sb_logs_clean
done_testing
