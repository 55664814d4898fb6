#!/bin/bash
# libiscsi's iscsi-test-cu against vdiskd on loopback, scored by cu-score. Fails when any test
# fails (except the one cu-score misreads, see below) or when fewer tests pass than the best
# run measured, so a regression shows. `make conformance` runs this script too.
SRCDIR=${SRCDIR:-$(cd "$(dirname "$0")/../.." && pwd)}
source "$SRCDIR/tests/lib/tap.sh"

# The best score reached (docs/vdiskd.md); raise it when conformance improves.
BEST_PASS=184
PORT=32650
IQN=iqn.2026-11.lan.vdisk:conformance
if [ -z "$CU_SCORE" ]; then
	CU_SCORE=$SRCDIR/../shared/tools/cu-score
	[ -x "$CU_SCORE" ] || CU_SCORE=$SRCDIR/../../shared/tools/cu-score
fi

command -v iscsi-test-cu >/dev/null || skip_all "iscsi-test-cu missing (Debian package libiscsi-bin)"
[ -x "$CU_SCORE" ] || skip_all "cu-score not found at $CU_SCORE (set CU_SCORE=...)"
[ -x "$BUILD/vdiskd" ] || skip_all "$BUILD/vdiskd not built"

tmp=$(mktemp -d)
pid=
cleanup() { [ -n "$pid" ] && kill "$pid" 2>/dev/null; wait 2>/dev/null; rm -rf "$tmp"; }
trap cleanup EXIT
truncate -s 64M "$tmp/disk.img"
"$BUILD/vdiskd" --listen 127.0.0.1:$PORT --lun "$IQN=$tmp/disk.img" 2>"$tmp/vdiskd.log" &
pid=$!
for _ in $(seq 50); do iscsi-ls iscsi://127.0.0.1:$PORT >/dev/null 2>&1 && break; sleep 0.1; done

log=${CU_LOG:-$tmp/cu.log}
timeout 600 iscsi-test-cu -d -v "iscsi://127.0.0.1:$PORT/$IQN/0" >"$log" 2>&1
score=$("$CU_SCORE" "$log" | tail -1)
diag "cu-score: $score"
read -r _ pass _ fail _ skip _ ran <<<"$score"

# iSCSIdatasn.iSCSIDataSnInvalid expects each of its writes to fail; the helper it calls logs
# "[FAILED]" for every failing write, which cu-score counts though CUnit passes the test.
bad=$("$CU_SCORE" "$log" --list | awk '$1 == "FAIL" && $2 != "iSCSIdatasn.iSCSIDataSnInvalid"')
is "$bad" "" "no test fails (besides the one cu-score misreads)"
ok $([ "$pass" -ge "$BEST_PASS" ]; echo $?) "at least $BEST_PASS tests pass (got $pass of $ran)"
cunit_failed=$(awk '/^ +tests /{print $5}' "$log" | tail -1)
is "$cunit_failed" "0" "CUnit reports no failed test"
kill -0 "$pid" 2>/dev/null; ok $? "vdiskd still running after the suite"
done_testing
