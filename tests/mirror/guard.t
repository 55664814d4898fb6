#!/bin/bash
# The replica listener (the peer's mirror and image sync, TCP 3261 on the HA link) against a
# hostile LAN (issue 16, item 6): a PC that routes to the HA address through the server's LAN
# interface reaches nothing; a host on the HA link with another address is refused; a login
# that never passes CHAP opens nothing, so it cannot hold a base image "being synced" and
# block the replication of the hot-standby PCs of that image; failed logins wait longer and
# longer before the next connection is taken.
source "$(dirname "$0")/../lib/tap.sh"
source "$SRCDIR/tests/mirror/mirror-lib.sh"
mr_require
RAW=$BUILD/tests/helpers/vdiskd_rawpdu

check "topology" -- sb_topology
check "database, secret" -- mr_setup
check "a primary" -- mr_vdiskd_start a primary
check "b secondary" -- mr_vdiskd_start b secondary

# a PC with a route to the HA link through b's LAN address
ip -n "$NS_C" route add 10.78.0.0/24 via 10.77.0.2
connects() { ip netns exec "$NS_C" timeout 2 bash -c 'exec 3<>/dev/tcp/10.78.0.2/3261' 2>/dev/null; }
! connects
ok $? "a PC routing to b's HA address through b's LAN: no connection (bound to ha0)"

# a host on the HA link that is not the peer
ip -n "$NS_A" addr add 10.78.0.9/24 dev ha0
st=$(ip netns exec "$NS_A" env RAWPDU_ADDR=10.78.0.2 RAWPDU_SRC=10.78.0.9 "$RAW" 3261 \
	"$MR_TGT" status 2>/dev/null)
ok "$([ -z "$st" ] || [ "$st" = 0xffff ]; echo $?)" \
	"a login from 10.78.0.9 (not a's address) gets no answer (${st:-connection closed})"
check "refused as not the peer" -- grep -q "connection from 10.78.0.9 refused: not the peer's address" \
	"$SB_DIR/b-vdiskd.log"
ip -n "$NS_A" addr del 10.78.0.9/24 dev ha0

# a login on the image sync target that never authenticates, held open
ip netns exec "$NS_A" env RAWPDU_ADDR=10.78.0.2 RAWPDU_SRC=10.78.0.1 \
	"$RAW" 3261 "$MR_TGT:image.base" hold-login 8 >/dev/null 2>&1 &
HOLD=$!
mr_seqio_bg "$SB_DIR/pc.out" "$SB_DIR/pc.err" hold "10.77.0.1:3260" "$MR_INI_HS" /dev/null
PC=$MR_BG
check "meanwhile PC001's mirror logs in to b and gets in sync (the base is not held)" -- \
	mr_wait_client a PC001 in-sync 6000
kill "$PC" "$HOLD" 2>/dev/null
wait "$PC" "$HOLD" 2>/dev/null
! grep -q "image sync of base\|replication waits: its base image" "$SB_DIR/b-vdiskd.log"
ok $? "nothing opened the base for a sync, no replication waited"

# wrong secrets from the peer's own address: penalized, with a growing wait
refused0=$(mr_vstatus b | awk '$1 == "replica_connections_refused:" { print $2 }')
for i in $(seq 10); do
	ip netns exec "$NS_A" iscsi-inq -i "$MR_INI_HS" \
		"iscsi://vdisk-mirror%not-the-pair-secret@10.78.0.2:3261/$MR_TGT/0" >/dev/null 2>&1
done
# (the log line says so at most once a second: the count is what to look at)
refused1=$(mr_vstatus b | awk '$1 == "replica_connections_refused:" { print $2 }')
ok "$([ "${refused1:-0}" -gt "${refused0:-0}" ]; echo $?)" \
	"failed logins make the next connections wait (refused $refused0 -> $refused1)"
check "no sanitizer report from the daemons" -- sb_logs_clean
done_testing
