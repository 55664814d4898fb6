#!/bin/bash
# CHAP with libiscsi as the initiator: one-way and mutual succeed with the right secrets;
# a wrong secret, a missing one, or a target that cannot prove itself end the login. Header
# digests (CRC32C) negotiated and used on a session.
SRCDIR=${SRCDIR:-$(cd "$(dirname "$0")/../.." && pwd)}
source "$SRCDIR/tests/lib/tap.sh"

source "$SRCDIR/tests/vdiskd/vdiskd-lib.sh"

PORT=32658
IQN=iqn.2026-11.lan.vdisk:chap
command -v iscsi-inq >/dev/null || skip_all "libiscsi-bin missing"
tmp=$(mktemp -d)
pid=
cleanup() { [ -n "$pid" ] && kill "$pid" 2>/dev/null; wait 2>/dev/null; rm -rf "$tmp"; }
trap cleanup EXIT
truncate -s 8M "$tmp/disk.img"

start() {
	PORT=32658
	start_vdiskd --lun "$IQN=$tmp/disk.img" "$@" 2>>"$tmp/log" || skip_all "no free port"
	wait_until 5000 eval "iscsi-ls iscsi://127.0.0.1:$PORT >/dev/null 2>&1"
}
stop() { kill $pid; wait $pid 2>/dev/null; pid=; }
inq() { iscsi-inq "iscsi://$1127.0.0.1:$PORT/$IQN/0$2" >/dev/null 2>&1; }

start --chap alice:s3cretpassw0rd
inq "alice%s3cretpassw0rd@" ""; ok $? "one-way CHAP: right secret logs in"
inq "alice%wrong@" ""; [ $? -ne 0 ]; ok $? "wrong secret refused"
inq "bob%s3cretpassw0rd@" ""; [ $? -ne 0 ]; ok $? "wrong user refused"
inq "" ""; [ $? -ne 0 ]; ok $? "no CHAP at all refused"
grep -q "0x0201" "$tmp/log"; ok $? "refusals logged as 0x0201 (authentication failure)"
stop

start --chap alice:s3cretpassw0rd --mutual-chap tgt:tgtsecret123
inq "alice%s3cretpassw0rd@" "?target_user=tgt&target_password=tgtsecret123"
ok $? "mutual CHAP: both sides prove their secret"
inq "alice%s3cretpassw0rd@" "?target_user=tgt&target_password=other"
[ $? -ne 0 ]; ok $? "initiator refuses a target that answers with another secret"
stop

start
# raw PDUs: iscsi-inq's ?header_digest=crc32c is overridden by the tool and logs in with None
"$BUILD/tests/helpers/vdiskd_rawpdu" "$PORT" "$IQN" header-digest 2>>"$tmp/log"
ok $? "CRC32C header digests: none on the final login response, both ways after it"
stop
done_testing
