#!/bin/bash
# The last step of a resync (SET STATE: the peer's copy now equals ours, same generation) is
# where a lost message matters: the active cannot know whether the peer took it. vdiskd's
# --test-fault makes it happen on purpose.
# - The peer took the step, and the active dies as the answer arrives: it must have counted
#   its generation as the peer's, durably before the step, so that the writes it makes
#   degraded after its restart get a generation the peer cannot hold. Then the active dies,
#   the peer takes over and writes, the old active returns: both took writes apart, which
#   must be reported as split brain (before, the new active saw the old one's generation as
#   the common one and resynced over its writes).
# - The step itself is lost: the peer's copy stays inconsistent, from a generation the active
#   no longer counts as common; the next handshake copies everything (no false split brain)
#   and the copy then serves every acknowledged write.
# Roles are set over vdiskd's control socket (no standbyd).
source "$(dirname "$0")/../lib/tap.sh"
source "$SRCDIR/tests/mirror/mirror-lib.sh"
mr_require
"$BUILD/vdiskd" --test-fault list 2>&1 | grep -q 'lose-final-request' || skip_all "this vdiskd has no --test-fault"

PORTAL_A=10.77.0.1:3260 PORTAL_B=10.77.0.2:3260

wait_log() {	# wait_log NODE TEXT MS: TEXT in NODE's vdiskd log within MS
	WAIT_STEP=0.02 wait_until "$3" grep -q "$2" "$SB_DIR/$1-vdiskd.log"
}
hold_on() {	# a session on a keeps PC001's disk (and its mirror) open
	mr_seqio_bg "$SB_DIR/hold.out" "$SB_DIR/hold.err" hold $PORTAL_A "$MR_INI_HS" /dev/null \
		--replacement-ms 60000
	HOLD=$MR_BG
}
hold_off() { kill "$HOLD" 2>/dev/null; wait "$HOLD" 2>/dev/null; }
# a in sync with b; then b away and a restarted with FAULT (no handshake can meet it) writes;
# b back: the resync of those writes meets the fault at its last step
resync_with_fault() {
	mr_vdiskd_start a primary
	mr_vdiskd_start b secondary
	hold_on
	check "$1: a's mirror of PC001 in sync" -- mr_wait_client a PC001 in-sync 10000
	hold_off
	mr_vdiskd_stop b
	mr_vdiskd_stop a
	MR_VDISKD_OPTS="--test-fault $2" mr_vdiskd_start a primary
	hold_on
	check "$1: b away, a (restarted) writes 8 blocks" -- \
		mr_fill "$SB_DIR/$1.dirty.seq" 0 8 128 $PORTAL_A
	mr_vdiskd_start b secondary
}

check "topology" -- sb_topology
check "database, pair secret" -- mr_setup

# ---- b took the step, a died as its answer came
resync_with_fault answer crash-at-final-answer
check "answer: the fault hit the resync's last step" -- \
	wait_log a "stopping dead at the answer to the resync's last step" 15000
a_gone() { ! kill -0 "$MR_VPID_a" 2>/dev/null; }
wait_until 5000 a_gone
ok "$(kill -0 "$MR_VPID_a" 2>/dev/null; [ $? != 0 ]; echo $?)" "answer: a's vdiskd is gone"
# a restarts with b unreachable: what it knew of the step must have been on disk
ip -n "$NS_A" link set ha0 down
ip -n "$NS_B" link set ha0 down
hold_off
mr_vdiskd_start a primary
check "answer: a (restarted) writes 8 blocks while b is unreachable" -- \
	mr_fill "$SB_DIR/a_apart.seq" 4096 8 128 $PORTAL_A
check "answer: a degraded" -- mr_wait_mirror a degraded 5000
mr_vdiskd_stop a
is "$(mr_answer b role primary)" ok "answer: a gone, b takes over"
# an inconsistent copy would be refused: b took the step
is "$(mr_verify "$SB_DIR/answer.dirty.seq" $PORTAL_B)" 0 "answer: b serves the resynced writes"
check "answer: b writes 8 other blocks" -- mr_fill "$SB_DIR/b_apart.seq" 8192 8 128 $PORTAL_B
ip -n "$NS_A" link set ha0 up
ip -n "$NS_B" link set ha0 up
mr_vdiskd_start a secondary
check "answer: b (primary) reports split-brain when a returns" -- mr_wait_mirror b split-brain 10000
grep -q "SPLIT BRAIN" "$SB_DIR/b-vdiskd.log"; ok $? "answer: b logs the split brain"
sleep 1.5	# a negative check: time for a resync, had one started
is "$(mr_mirror_state b)" split-brain "answer: still split-brain, nothing copied over a's writes"
mr_vdiskd_stop a
mr_vdiskd_stop b
rm -rf "$SB_DIR/a/ov" "$SB_DIR/b/ov"
mkdir -p "$SB_DIR/a/ov" "$SB_DIR/b/ov"

# ---- the step itself is lost: b's copy stays inconsistent, of a generation a moved past
resync_with_fault request lose-final-request
check "request: the fault hit the resync's last step" -- wait_log a "last step is lost on the way" 15000
check "request: a back in sync, by a full resync" -- mr_wait_mirror a in-sync 15000
grep -q "unfinished resync of another generation: full resync" "$SB_DIR/a-vdiskd.log"
ok $? "request: a copied everything to b's unfinished copy"
ok "$(grep -q "SPLIT BRAIN" "$SB_DIR/a-vdiskd.log"; [ $? != 0 ]; echo $?)" \
	"request: no split brain reported"
hold_off
mr_vdiskd_stop a
is "$(mr_answer b role primary)" ok "request: a gone, b takes over"
is "$(mr_verify "$SB_DIR/request.dirty.seq" $PORTAL_B)" 0 "request: b serves every acknowledged write"

[ "$tap_failed" = 0 ] || mr_show_logs
check "no sanitizer report from the daemons" -- sb_logs_clean
done_testing
