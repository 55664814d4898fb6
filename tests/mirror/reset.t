#!/bin/bash
# An overlay reset of a hot-standby client (restore mode: a new PXE boot) reaches the peer:
# after `overlay-reset PC001` on the active, the promoted peer serves PC001 the bare base
# image, as the active does, not the writes of the previous boot. Also when PC001 is logged
# out at the reset and does not log in again before the takeover (found by model.t: the
# mirror closed at once and the peer kept the old disk while the pair said in sync).
source "$(dirname "$0")/../lib/tap.sh"
source "$SRCDIR/tests/mirror/mirror-lib.sh"
mr_require
PORTAL_A=10.77.0.1:3260 PORTAL_B=10.77.0.2:3260

check "topology" -- sb_topology
check "database, pair secret" -- mr_setup
mr_vdiskd_start a primary
mr_vdiskd_start b secondary
digest() { mr_seqio digest "$1" "$2" /dev/null --blocks 256 --quiet 2>/dev/null; }
bare=$(digest $PORTAL_A "$MR_INI_NOHS")
ok "$([ -n "$bare" ]; echo $?)" "the bare base, through PC002's empty overlay: $bare"
out=$(mr_seqio fill $PORTAL_A "$MR_INI_HS" "$SB_DIR/w.seq" --first 0 --count 256 --quiet 2>&1)
is "$(mr_field "$out" acked)" 256 "PC001: 1 MiB written through a"
written=$(digest $PORTAL_A "$MR_INI_HS")
ok "$([ -n "$written" ] && [ "$written" != "$bare" ]; echo $?)" "PC001's disk differs from the base"
check "a's mirror in sync" -- mr_wait_mirror a in-sync 10000
is "$(mr_answer a overlay-reset PC001)" ok "overlay-reset PC001 on a"
is "$(digest $PORTAL_A "$MR_INI_HS")" "$bare" "a serves PC001 the bare base"
check "a's mirror in sync after the reset" -- mr_wait_mirror a in-sync 10000
mr_vdiskd_stop a
is "$(mr_answer b role primary)" ok "b: role primary"
is "$(digest $PORTAL_B "$MR_INI_HS")" "$bare" "b serves PC001 the bare base too"

# ---- the same with PC001 logged out, and no login between the reset and the takeover
mr_vdiskd_start a secondary
check "b's mirror in sync with a" -- mr_wait_mirror b in-sync 10000
mr_answer a overlay-reset PC001 | grep -q "^error: this server is secondary"
ok $? "overlay-reset on the secondary is refused: a replica changes only through its mirror"
out=$(mr_seqio fill $PORTAL_B "$MR_INI_HS" "$SB_DIR/w2.seq" --first 0 --count 256 --quiet 2>&1)
is "$(mr_field "$out" acked)" 256 "PC001: 1 MiB written through b"
check "b's mirror in sync, PC001 logged out" -- mr_wait_mirror b in-sync 10000
# the mirror of a client logged out closes once the peer has flushed everything
disk_closed() { ! mr_vstatus "$1" | grep -q "^client: $2 "; }
check "b closes PC001's disk" -- wait_until 10000 disk_closed b PC001
is "$(mr_answer b overlay-reset PC001)" ok "overlay-reset PC001 on b, PC001 logged out"
check "b's mirror in sync after the reset" -- mr_wait_mirror b in-sync 10000
mr_vdiskd_stop b
is "$(mr_answer a role primary)" ok "a: role primary"
is "$(digest $PORTAL_A "$MR_INI_HS")" "$bare" "a serves PC001 the bare base, not the old disk"
check "no sanitizer report from the daemons" -- sb_logs_clean
done_testing
