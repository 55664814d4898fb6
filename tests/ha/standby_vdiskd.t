#!/bin/bash
# The built-in vdiskd resource: standbyd tells vdiskd its role over the control socket, and
# a vdiskd that stops answering does not stall the heartbeats (the request runs beside the
# loop): the active node restarts the resource once, then hands the role over, and the peer
# never sees it dead.
source "$(dirname "$0")/../lib/tap.sh"
need_root
command -v socat >/dev/null || skip_all "socat not installed"
source "$SRCDIR/tests/ha/standby-lib.sh"
FAKE=$BUILD/tests/helpers/ctl_fake

check "topology" -- sb_topology
for n in a b; do
	echo "a IPaddr::$SB_VIP/24/lan0 vdiskd::$SB_DIR/$n/vdiskd.sock svc" >"$SB_DIR/$n/haresources"
	# a running vdiskd: ok to a role change, a status without a role (running as told)
	echo '{"role": {"ok": true}, "status": {"ok": true, "sessions": 3}}' >"$SB_DIR/$n/answers"
	"$FAKE" "$SB_DIR/$n/vdiskd.sock" "$SB_DIR/$n/vdiskd.log" "$SB_DIR/$n/answers" 2>/dev/null &
	eval "FAKE_$n=$!"
done
sb_pair_up
check "a told its vdiskd 'role primary'" -- grep -qx "role primary" "$SB_DIR/a/vdiskd.log"
check "and keeps checking it" -- wait_until 5000 grep -qx status "$SB_DIR/a/vdiskd.log"

# vdiskd hangs: it accepts connections and never answers.
kill "$FAKE_a"; wait "$FAKE_a" 2>/dev/null
socat "UNIX-LISTEN:$SB_DIR/a/vdiskd.sock,fork" SYSTEM:'sleep 60' 2>/dev/null &
HUNG=$!
check "b takes over from a with a hung vdiskd" -- sb_wait_state b active 15000
check "a logged the restart, then the failure" -- bash -c "grep -q 'resource vdiskd.*restarting it once' '$SB_DIR/a.log' &&
	grep -q 'resource vdiskd.*failed again' '$SB_DIR/a.log'"
ok "$(grep -q 'peer a dead' "$SB_DIR/b.log"; [ $? = 1 ]; echo $?)" \
	"heartbeats kept flowing while vdiskd hung (b never saw a dead)"
check "b told its vdiskd 'role primary'" -- grep -qx "role primary" "$SB_DIR/b/vdiskd.log"
kill "$HUNG" "$FAKE_b" 2>/dev/null
check "no sanitizer report from the daemons" -- sb_logs_clean
done_testing
