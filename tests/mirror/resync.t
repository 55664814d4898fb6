#!/bin/bash
# Peer loss and return, without standbyd (roles set over vdiskd's control socket):
# - b's vdiskd stops; a keeps serving PC001 (hot standby), reports itself degraded and counts
#   the 64 KiB chunks written meanwhile; b returns, a resyncs exactly those chunks (status
#   counts them) and reports in-sync; b, promoted, serves every acknowledged write.
# - PC002 (no hot standby) marks nothing dirty, and the promoted secondary refuses it.
# - A split brain made on purpose (HA link down, both promoted, both write, link up, one side
#   demoted as standbyd would, then the other) is reported as split-brain by whichever is
#   primary, and neither side's writes are copied to the other.
source "$(dirname "$0")/../lib/tap.sh"
source "$SRCDIR/tests/mirror/mirror-lib.sh"
mr_require
command -v iscsi-inq >/dev/null || skip_all "libiscsi-bin missing"

K=${MIRROR_RESYNC_CHUNKS:-37}	# distinct 64 KiB chunks written while b is away
PORTAL_A=10.77.0.1:3260 PORTAL_B=10.77.0.2:3260
T_START=$(date +%s)

check "topology" -- sb_topology
check "database, pair secret" -- mr_setup
mr_vdiskd_start a primary
mr_vdiskd_start b secondary
check "a's mirror in sync with b" -- mr_wait_mirror a in-sync 10000

# A session held open keeps PC001's disk, and so its mirror_client status element, open on a
# (vdiskd closes an idle client's mirror once it is in sync).
mr_seqio_bg "$SB_DIR/hold.out" "$SB_DIR/hold.err" hold $PORTAL_A "$MR_INI_HS" /dev/null
HOLD=$MR_BG
check "PC001: 32 blocks written through a while in sync" -- \
	mr_fill "$SB_DIR/base.seq" 0 32 1 $PORTAL_A
check "a's mirror in sync" -- mr_wait_mirror a in-sync 5000
is "$(mr_client_field a PC001 dirty)" 0 "in sync: no dirty chunk"
# those writes leave activity bits until a periodic peer flush covers them (a chunk written
# in the last second keeps its bit): a peer lost before that makes them dirty, rightly
no_unflushed() { [ "$(mr_client_field a PC001 unflushed)" = 0 ]; }
check "the peer flushed them: no activity bit left" -- wait_until 10000 no_unflushed

# ---- b away: a counts dirty chunks
mr_vdiskd_stop b
# K chunks, twice each (blocks 0 and 1 of chunk 64 + 2i): a chunk is dirty once.
check "b away: $K blocks written through a, one per 64 KiB chunk" -- \
	mr_fill "$SB_DIR/dirty.seq" 1024 "$K" 32 $PORTAL_A
check "a second block in each of those chunks" -- mr_fill "$SB_DIR/dirty.seq" 1025 "$K" 32 $PORTAL_A
check "PC002 (no hot standby) written too" -- \
	mr_fill "$SB_DIR/nohs.seq" 1024 8 32 $PORTAL_A "$MR_INI_NOHS"
check "a reports degraded" -- mr_wait_mirror a degraded 5000
is "$(mr_client_field a PC001 dirty)" "$K" "a counts $K dirty chunks for PC001"
pc2=$(mr_client_field a PC002 dirty)
ok "$([ -z "$pc2" ] || [ "$pc2" = 0 ]; echo $?)" "nothing dirty for PC002 (not mirrored)"
diag "a while degraded: $(mr_vstatus a | grep '^mirror' | tr '\n' ';')"

# ---- b returns: a resyncs exactly the dirty chunks
mr_vdiskd_start b secondary
check "a back in sync after b returns" -- mr_wait_mirror a in-sync 20000
line=$(mr_vstatus a | grep "^mirror_client: PC001 ")
diag "a after the resync: $line"
is "$(mr_field "$line" resync_total)" "$K" "the resync copied $K chunks: the dirty ones"
is "$(mr_field "$line" resync_done)" "$K" "all of them done"
is "$(mr_field "$line" dirty)" 0 "no dirty chunk left"

# ---- b promoted (a stopped): it serves every acknowledged write
kill -TERM $HOLD
wait $HOLD
is "$(cat "$SB_DIR/hold.out")" "held reconnects 0" "the session held on a stayed up throughout"
mr_vdiskd_stop a
is "$(mr_answer b role primary)" ok "b: role primary"
is "$(mr_verify "$SB_DIR/base.seq" $PORTAL_B)" 0 "b serves the blocks written while in sync"
is "$(mr_verify "$SB_DIR/dirty.seq" $PORTAL_B)" 0 "b serves the blocks resynced to it"
ip netns exec "$NS_C" timeout 5 iscsi-inq -i "$MR_INI_NOHS" "iscsi://$PORTAL_B/$MR_TGT/0" \
	>/dev/null 2>&1
ok "$([ $? != 0 ]; echo $?)" "b refuses PC002 (no hot standby) after the takeover"

# ---- a returns as secondary: nothing changed on b, nothing to copy
mr_vdiskd_start a secondary
check "b in sync with a" -- mr_wait_mirror b in-sync 20000
line=$(mr_vstatus b | grep "^mirror_client: PC001 ")
diag "b after a returned: $line"
ok "$(t=$(mr_field "$line" resync_total); [ -z "$t" ] || [ "$t" = 0 ]; echo $?)" \
	"nothing written while a was away: nothing resynced"

# ---- split brain: HA link down, both primary, both write
ip -n "$NS_A" link set ha0 down
ip -n "$NS_B" link set ha0 down
# (blocks far from those written above: a stale copy of an older write must not pass)
check "split: b writes 16 blocks" -- mr_fill "$SB_DIR/sb_b.seq" 5120 16 32 $PORTAL_B
check "b reports degraded" -- mr_wait_mirror b degraded 5000
is "$(mr_answer a role primary)" ok "a: role primary while apart"
check "split: a writes 16 other blocks" -- mr_fill "$SB_DIR/sb_a.seq" 4096 16 32 $PORTAL_A
ip -n "$NS_A" link set ha0 up
ip -n "$NS_B" link set ha0 up
# Two primaries that see each other again refuse each other's replication login ("this
# server is primary": a primary takes no writes from another), so both stay degraded, and
# nothing is copied either way, until standbyd demotes one (docs/mirror.md).
sleep 1.5	# a negative check: a copy, had one started, would show within this time
is "$(mr_vstatus b | awk '$1 == "mirror:" { print $2 }')" degraded \
	"both primary, HA link back: b stays degraded, copies nothing"
# standbyd demotes one side when the link is back; here a goes first, then b.
is "$(mr_answer a role secondary)" ok "a: role secondary"
check "b (primary) reports split-brain once a is secondary" -- mr_wait_mirror b split-brain 10000
sleep 2	# a negative check: time for a resync, had one started
is "$(mr_mirror_state b)" split-brain "b: still split-brain 2 s later"
is "$(mr_verify "$SB_DIR/sb_b.seq" $PORTAL_B)" 0 "b keeps its own split writes"
n=$(mr_verify "$SB_DIR/sb_a.seq" $PORTAL_B)
ok "$([ "$n" != x ] && [ "$n" -gt 0 ]; echo $?)" "a's split writes were not copied to b ($n missing)"
grep -q "SPLIT BRAIN" "$SB_DIR/b-vdiskd.log"; ok $? "b logs the split brain"
is "$(mr_answer b role secondary)" ok "b: role secondary"
is "$(mr_answer a role primary)" ok "a: role primary"
check "a (primary) reports split-brain" -- mr_wait_mirror a split-brain 10000
sleep 2	# a negative check: time for a resync, had one started
is "$(mr_mirror_state a)" split-brain "a: still split-brain 2 s later"
is "$(mr_verify "$SB_DIR/sb_a.seq" $PORTAL_A)" 0 "a keeps its own split writes"
n=$(mr_verify "$SB_DIR/sb_b.seq" $PORTAL_A)
ok "$([ "$n" != x ] && [ "$n" -gt 0 ]; echo $?)" "b's split writes were not copied to a ($n missing)"
grep -q "SPLIT BRAIN" "$SB_DIR/a-vdiskd.log"; ok $? "a logs the split brain"
for n in a b; do
	"$BUILD/vdiskctl" --db "$SB_DIR/$n/vdisk.db" events 2>&1 | grep -q "SPLIT BRAIN"
	ok $? "the split brain is an event in $n's database"
done

[ "$tap_failed" = 0 ] || mr_show_logs
diag "wall time $(( $(date +%s) - T_START )) s"
check "no sanitizer report from the daemons" -- sb_logs_clean
done_testing
