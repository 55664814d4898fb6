#!/bin/bash
# A copy that a primary starts from nothing (its state file lost, or a takeover of a disk the
# peer never replicated there) was never the peer's: when the peer holds a whole copy with a
# generation of its own, that copy must not be discarded unasked (before, the handshake
# discarded it and copied ours over it, which loses the only copy when ours is the stale
# one). It is reported as split brain; `mirror-resolve CLIENT keep-local` (what vdiskctl
# mirror resolve --keep sends) then copies ours, and the peer serves it after a takeover.
source "$(dirname "$0")/../lib/tap.sh"
source "$SRCDIR/tests/mirror/mirror-lib.sh"
mr_require

PORTAL_A=10.77.0.1:3260 PORTAL_B=10.77.0.2:3260

check "topology" -- sb_topology
check "database, pair secret" -- mr_setup
mr_vdiskd_start a primary
mr_vdiskd_start b secondary
mr_seqio_bg "$SB_DIR/hold.out" "$SB_DIR/hold.err" hold $PORTAL_A "$MR_INI_HS" /dev/null \
	--replacement-ms 60000
HOLD=$MR_BG
check "a's mirror of PC001 in sync" -- mr_wait_client a PC001 in-sync 10000
check "8 blocks written through a, mirrored" -- mr_fill "$SB_DIR/w.seq" 0 8 128 $PORTAL_A
check "in sync after them" -- mr_wait_client a PC001 in-sync 10000
kill "$HOLD"; wait "$HOLD" 2>/dev/null

# a loses PC001's state file (its overlay stays): its copy restarts as a new one
discards() { grep -c "replica discarded" "$SB_DIR/b-vdiskd.log"; }
n0=$(discards)	# the first handshake discarded b's empty new copy
mr_vdiskd_stop a
rm -f "$SB_DIR/a/ov/PC001.mirror"
mr_vdiskd_start a primary
mr_seqio_bg "$SB_DIR/hold.out" "$SB_DIR/hold.err" hold $PORTAL_A "$MR_INI_HS" /dev/null \
	--replacement-ms 60000
HOLD=$MR_BG
check "a reports split-brain: b holds a copy a's new one never was" -- mr_wait_client a PC001 split-brain 10000
grep -q "ours made here without the peer's" "$SB_DIR/a-vdiskd.log"
ok $? "a logs why"
is "$(discards)" "$n0" "b's copy was not discarded"

# the admin keeps a's copy: b's is discarded and filled from a
is "$(mr_answer a mirror-resolve PC001 keep-local)" ok "resolve: keep a's copy"
check "a in sync with b after the resolve" -- mr_wait_client a PC001 in-sync 10000
is "$(discards)" $((n0 + 1)) "b's copy discarded on request"
kill "$HOLD"; wait "$HOLD" 2>/dev/null
mr_vdiskd_stop a
is "$(mr_answer b role primary)" ok "a gone, b takes over"
is "$(mr_verify "$SB_DIR/w.seq" $PORTAL_B)" 0 "b serves every acknowledged write"

[ "$tap_failed" = 0 ] || mr_show_logs
check "no sanitizer report from the daemons" -- sb_logs_clean
done_testing
