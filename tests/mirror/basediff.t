#!/bin/bash
# A replica whose base image differs is refused: b's database names another file as the
# image "base" (same size, other bytes). a keeps serving PC001 and acknowledging its writes,
# says base-differs for it and mirrors nothing; b, promoted, should refuse PC001 (its replica
# is another disk) instead of serving it: the handshake's SET STATE marks it unusable.
source "$(dirname "$0")/../lib/tap.sh"
source "$SRCDIR/tests/mirror/mirror-lib.sh"
mr_require
command -v iscsi-inq >/dev/null || skip_all "libiscsi-bin missing"
PORTAL_A=10.77.0.1:3260 PORTAL_B=10.77.0.2:3260

check "topology" -- sb_topology
check "database, pair secret" -- mr_setup
# b's image: the same size, its first 64 KiB not zeros
truncate -s "${MR_IMAGE_MB}M" "$SB_DIR/base-b.img"
head -c 65536 /dev/zero | tr '\0' 'B' | dd of="$SB_DIR/base-b.img" conv=notrunc 2>/dev/null
rm -f "$SB_DIR/b/vdisk.db"
check "b's database names base-b.img" -- mr_make_db "$SB_DIR/b/vdisk.db" "$SB_DIR/base-b.img"
mr_vdiskd_start a primary
mr_vdiskd_start b secondary
mr_seqio_bg "$SB_DIR/hold.out" "$SB_DIR/hold.err" hold $PORTAL_A "$MR_INI_HS" /dev/null
HOLD=$MR_BG
out=$(mr_seqio fill $PORTAL_A "$MR_INI_HS" "$SB_DIR/w.seq" --first 0 --count 64 --quiet 2>&1)
is "$(mr_field "$out" acked)" 64 "a acknowledges PC001's writes"
differs() {
	[ "$(mr_client_field a PC001 resync_total)" != "" ] &&
		mr_vstatus a | grep -q "^mirror_client: PC001 state base-differs"
}
wait_until 10000 differs
line=$(mr_vstatus a | grep "^mirror_client: PC001 ")
diag "a: $line"
ok "$(grep -q "state base-differs" <<<"$line"; echo $?)" "a reports base-differs for PC001"
grep -q "base image differs" "$SB_DIR/a-vdiskd.log"; ok $? "a logs that the peer's base differs"
"$BUILD/vdiskctl" --db "$SB_DIR/a/vdisk.db" events 2>&1 | grep -q "PC001 is not mirrored"
ok $? "and says so in the events table"
out=$(mr_seqio verify $PORTAL_A "$MR_INI_HS" "$SB_DIR/w.seq" 2>&1)
is "$(mr_field "$out" lost)" 0 "a serves PC001's writes"
kill -TERM $HOLD
wait $HOLD
mr_vdiskd_stop a
is "$(mr_answer b role primary)" ok "b: role primary"
ip netns exec "$NS_C" timeout 5 iscsi-inq -i "$MR_INI_HS" "iscsi://$PORTAL_B/$MR_TGT/0" \
	>"$SB_DIR/inq.out" 2>&1
ok "$([ $? != 0 ]; echo $?)" "b refuses PC001: its replica is not a's disk"
check "no sanitizer report from the daemons" -- sb_logs_clean
done_testing
