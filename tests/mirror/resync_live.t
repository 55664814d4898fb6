#!/bin/bash
# Resync under load, and a power cut in the middle of one (roles by control socket, no
# standbyd; resync capped with --resync-rate so that it lasts while the test acts):
# - b returns to 16 MiB of dirty chunks while the client keeps writing at random into them;
#   once in sync, b promoted serves every acknowledged write, before and during the resync,
#   and the same disk a served (digest).
# - a returns to 16 MiB written on b meanwhile and b's power is cut before the resync ends:
#   a, promoted, refuses PC001 (its copy is half old, half new) instead of serving it.
source "$(dirname "$0")/../lib/tap.sh"
source "$SRCDIR/tests/mirror/mirror-lib.sh"
mr_require
command -v iscsi-inq >/dev/null || skip_all "libiscsi-bin missing"
"$BUILD/vdiskd" --help 2>&1 | grep -q -- --resync-rate || skip_all "no --resync-rate"
PORTAL_A=10.77.0.1:3260 PORTAL_B=10.77.0.2:3260
MR_VDISKD_OPTS="--resync-rate 8"	# MB/s: 16 MiB take about 2 s
T_START=$(date +%s)

check "topology" -- sb_topology
check "database, pair secret" -- mr_setup
mr_vdiskd_start a primary
mr_vdiskd_start b secondary
check "a's mirror in sync" -- mr_wait_mirror a in-sync 10000
fill() {	# fill LOG PORTAL FIRST COUNT
	local out
	out=$(mr_seqio fill "$2" "$MR_INI_HS" "$1" --first "$3" --count "$4" --qd 32 --quiet 2>&1)
	[ "$(mr_field "$out" acked)" = "$4" ] || { diag "fill: $out"; return 1; }
}
verify() {	# verify LOG PORTAL: lost blocks, "x" if the check could not run
	local out
	out=$(mr_seqio verify "$2" "$MR_INI_HS" "$1" --replacement-ms 5000 2>"$SB_DIR/verify.err")
	echo "${out:+$(mr_field "$out" lost)}" | sed 's/^$/x/'
}
digest() { mr_seqio digest "$1" "$MR_INI_HS" /dev/null --blocks 4096 --quiet 2>/dev/null; }

# ---- writes while b is resynced
mr_vdiskd_stop b
check "b away: 16 MiB written through a" -- fill "$SB_DIR/away.seq" $PORTAL_A 0 4096
mr_vdiskd_start b secondary
check "a resyncs b" -- mr_wait_mirror a syncing 5000
# the same log: its seqs go on from the fill's, so a block's seq only grows
mr_seqio_bg "$SB_DIR/live.out" "$SB_DIR/live.err" write $PORTAL_A "$MR_INI_HS" \
	"$SB_DIR/away.seq" --blocks 4096 --qd 16
w=$MR_BG
check "in sync while the client writes" -- mr_wait_mirror a in-sync 30000
# and goes on writing in sync a while: 100 more writes acknowledged
mr_wait_records "$SB_DIR/away.seq" $(( $(mr_log_records "$SB_DIR/away.seq") + 100 )) 10000
kill -TERM $w
wait $w
out=$(cat "$SB_DIR/live.out")
diag "writer during the resync: $out"
ok "$([ "$(mr_field "$out" acked)" -gt 0 ] 2>/dev/null; echo $?)" "the client wrote during the resync"
is "$(mr_field "$out" reconnects)" 0 "without losing its session"
check "in sync after the writer stopped" -- mr_wait_mirror a in-sync 10000
da=$(digest $PORTAL_A)
mr_vdiskd_stop a
is "$(mr_answer b role primary)" ok "b: role primary"
is "$(verify "$SB_DIR/away.seq" $PORTAL_B)" 0 \
	"b serves every write acknowledged while it was away and during its resync"
db=$(digest $PORTAL_B)
ok "$([ -n "$da" ] && [ "$da" = "$db" ]; echo $?)" "b serves the disk a served ($da / $db)"

# ---- a power cut in the middle of a resync
mr_vdiskd_start a secondary
check "b in sync with a" -- mr_wait_mirror b in-sync 10000
mr_vdiskd_stop a
check "a away: 16 MiB written through b" -- fill "$SB_DIR/away2.seq" $PORTAL_B 4096 4096
mr_vdiskd_start a secondary
check "b resyncs a" -- mr_wait_mirror b syncing 5000
# the cut comes once the resync has copied something, and before it ends
copied_some() { [ "$(mr_client_field b PC001 resync_done)" -gt 0 ] 2>/dev/null; }
wait_until 10000 copied_some
line=$(mr_vstatus b | grep "^mirror_client: PC001 ")
diag "b when its power is cut: $line"
sb_power_cut b
is "$(mr_answer a role primary)" ok "a: role primary"
ip netns exec "$NS_C" timeout 5 iscsi-inq -i "$MR_INI_HS" "iscsi://$PORTAL_A/$MR_TGT/0" \
	>/dev/null 2>&1
ok "$([ $? != 0 ]; echo $?)" "a refuses PC001: its copy is incomplete"
grep -q "incomplete" "$SB_DIR/a-vdiskd.log"; ok $? "a says why"
"$BUILD/vdiskctl" --db "$SB_DIR/a/vdisk.db" events 2>&1 | grep -q "incomplete replica"
ok $? "and records it in the events table"
# A restore-mode PC's PXE boot discards its overlay anyway (pxed asks vdiskd for the reset):
# then the incomplete copy may go and the PC boots a fresh disk.
is "$(mr_answer a overlay-reset PC001)" ok "overlay-reset PC001 on a (a restore-mode boot)"
grep -q "PC001: its incomplete copy here is discarded for a new boot" "$SB_DIR/a-vdiskd.log"
ok $? "a says the incomplete copy goes"
ip netns exec "$NS_C" timeout 5 iscsi-inq -i "$MR_INI_HS" "iscsi://$PORTAL_A/$MR_TGT/0" \
	>/dev/null 2>&1
ok $? "a serves PC001 again after the reset"

[ "$tap_failed" = 0 ] || mr_show_logs
diag "wall time $(( $(date +%s) - T_START )) s"
check "no sanitizer report from the daemons" -- sb_logs_clean
done_testing
