#!/bin/bash
# An overlay reset of a hot-standby client (restore mode: a new PXE boot) reaches the peer:
# after `overlay-reset PC001` on the active, the promoted peer serves PC001 the bare base
# image, as the active does, not the writes of the previous boot.
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
is "$(mr_ctl a overlay-reset PC001 | head -1)" ok "overlay-reset PC001 on a"
is "$(digest $PORTAL_A "$MR_INI_HS")" "$bare" "a serves PC001 the bare base"
check "a's mirror in sync after the reset" -- mr_wait_mirror a in-sync 10000
mr_vdiskd_stop a
is "$(mr_ctl b role primary | head -1)" ok "b: role primary"
is "$(digest $PORTAL_B "$MR_INI_HS")" "$bare" "b serves PC001 the bare base too"
check "no sanitizer report from the daemons" -- sb_logs_clean
done_testing
