#!/bin/bash
# auto_failback on: after a power cut moved the role to b, a comes back and takes its role
# back once it has been alive a while and reports in sync; not while it reports syncing.
source "$(dirname "$0")/../lib/tap.sh"
need_root
SB_FAILBACK=on
source "$SRCDIR/tests/ha/standby-lib.sh"

check "topology" -- sb_topology
sb_pair_up
sb_power_cut a
check "b takes over" -- sb_wait_state b active 3000
check "service on b" -- sb_wait_fetch b 2000
sb_power_on a
sb_start a
check "a back, standby first" -- sb_wait_state a standby 2000
# The data side reports through the control socket; syncing holds the failback back.
# ctl_req SOCKET REQUEST...: 0 when the answer says ok
ctl_req() { "$BUILD/tests/helpers/ctl_ask" "$@" >/dev/null; }
check "replication syncing reported" -- ctl_req "$SB_DIR/a.sock" "replication syncing"
sleep 2.5	# a negative check: past the failback delay (4 x deadtime), nothing moved
is "$(sb_state b)" "active" "no failback while the preferred node is syncing"
check "replication in_sync reported" -- ctl_req "$SB_DIR/a.sock" "replication in_sync"
check "a takes its role back" -- sb_wait_state a active 4000
check "b stands by" -- sb_wait_state b standby 1000
check "service on a again" -- sb_wait_fetch a 2000
ok "$(grep -q "auto_failback" "$SB_DIR/b.log"; echo $?)" "b logged why it released"
check "bad replication state refused" -- bash -c \
	"'$BUILD/tests/helpers/ctl_ask' --json '$SB_DIR/a.sock' replication bogus | grep -q '\"ok\":false'"
check "no sanitizer report from the daemons" -- sb_logs_clean
done_testing
