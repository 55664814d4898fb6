#!/bin/bash
# Resources on the active node: a status script slower than deadtime does not stop the
# heartbeats (scripts run beside the loop); a failing resource is restarted once, and when it
# fails again the node releases and the peer takes over.
source "$(dirname "$0")/../lib/tap.sh"
need_root
source "$SRCDIR/tests/ha/standby-lib.sh"

check "topology" -- sb_topology
sb_pair_up
check "client reaches a" -- sb_wait_fetch a 2000

touch "$SB_DIR/a/slow"
sleep 2.5	# the stimulus: slow status scripts for five deadtimes (checked after: nothing moved)
rm -f "$SB_DIR/a/slow"
check "service answers during the slow checks" -- sb_wait_fetch a 500
ok "$(grep -q 'peer a dead' "$SB_DIR/b.log"; [ $? = 1 ]; echo $?)" \
	"heartbeats kept flowing during a 1.5 s status script (deadtime 500ms)"
is "$(sb_state a)/$(sb_state b)" "active/standby" "nothing moved"

# The service dies once: monitoring restarts it, nothing moves.
kill "$(cat "$SB_DIR/a/svc.pid")"
# A status check still running from the slow phase (1.5 s) may come first: allow for it.
check "restart logged" -- sb_wait_log a 'resource svc is not running.*restarting it once' 10000
check "service back on a" -- sb_wait_fetch a 2000
is "$(sb_state a)" "active" "one failure: a keeps the role"

# Now it stays broken: the second failure hands the role over.
touch "$SB_DIR/a/broken"
check "b takes over from the failing a" -- sb_wait_state b active 5000
check "a stands by" -- sb_wait_state a standby 1000
check "failure logged" -- grep -q "resource svc failed again after its restart" "$SB_DIR/a.log"
check "service on b" -- sb_wait_fetch b 2000
check "a released the address" -- sb_lacks_vip a
is "$(sb_field a flags)" "yield failed" "a yields the role: its resource failed"
check "no sanitizer report from the daemons" -- sb_logs_clean
done_testing
