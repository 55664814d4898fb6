#!/bin/bash
# libiscsi's iscsi-test-cu against vdiskd on loopback, scored by cu-score. Fails when any test
# fails (except the one cu-score misreads, see below) or when fewer tests pass than the best
# run measured, so a regression shows. `make conformance` runs this script too.
SRCDIR=${SRCDIR:-$(cd "$(dirname "$0")/../.." && pwd)}
source "$SRCDIR/tests/lib/tap.sh"

source "$SRCDIR/tests/vdiskd/vdiskd-lib.sh"

# The best score reached (docs/vdiskd.md); raise it when conformance improves.
BEST_PASS=193
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
start_vdiskd --lun "$IQN=$tmp/disk.img" 2>"$tmp/vdiskd.log" || skip_all "no free port in 32650-32699"
wait_until 5000 eval "iscsi-ls iscsi://127.0.0.1:$PORT >/dev/null 2>&1"

log=${CU_LOG:-$tmp/cu.log}
timeout 600 iscsi-test-cu -d -v "iscsi://127.0.0.1:$PORT/$IQN/0" >"$log" 2>&1
score=$("$CU_SCORE" "$log" | tail -1)
diag "cu-score: $score"
read -r _ pass _ fail _ skip _ ran <<<"$score"

# iSCSIdatasn.iSCSIDataSnInvalid expects each of its writes with a wrong DataSN to fail; the
# helper it calls logs "[FAILED]" for every failing write, which cu-score counts though CUnit
# passes the test.
misread=iSCSIdatasn.iSCSIDataSnInvalid
# cu-score keeps the last result of a name the suite runs under several families (ALL,
# SCSI, iSCSI): collect a failure from any of them.
bad=$(awk -v m=$misread '
	/^Suite: / { suite = $2 }
	match($0, /^ +Test: [^ ]+ \.\.\./) { split(substr($0, RSTART, RLENGTH), w, " "); cur = suite "." w[2] }
	cur != "" && (/\[FAILED\]/ || $0 ~ /^FAILED$/ || / \.\.\.FAILED/) && cur != m { f[cur] = 1 }
	END { for (k in f) print k }' "$log" | sort)
# On a loaded machine a test can meet writes a previous test left in the store's queue (a
# session that ends does not cancel them): run each failure once more on its own; only one
# that fails again counts.
still=
recovered=0
for t in $bad; do
	timeout 120 iscsi-test-cu -d -v -t "ALL.$t" "iscsi://127.0.0.1:$PORT/$IQN/0" >"$tmp/rerun.log" 2>&1
	if "$CU_SCORE" "$tmp/rerun.log" | grep -q "^pass 1 fail 0"; then
		diag "flaky: $t failed in the full run, passed alone"
		recovered=$((recovered + 1))
	else
		still="$still $t"
	fi
done
is "$still" "" "no test fails (besides the one cu-score misreads)"
pass=$((pass + recovered))
ok $([ "$pass" -ge "$BEST_PASS" ]; echo $?) "at least $BEST_PASS tests pass (got $pass of $ran)"

# SANITIZE only runs with --allow-sanitize, which the scored command above leaves out (the
# score stays comparable with tgt's). Sanitize.Reset is left out of the check: it expects an
# OVERWRITE still running 3 s after it started and again after a reconnect, then polls every
# 60 s until it ends; ours overwrites this 64 MiB disk in well under a second, so it cannot
# pass without a disk slow enough to cost a minute or more (the NOT READY, SANITIZE IN
# PROGRESS answers it looks for are unit-tested in test_vdiskd_scsi_sanitize_xcopy).
timeout 120 iscsi-test-cu -d -S -v -t ALL.Sanitize "iscsi://127.0.0.1:$PORT/$IQN/0" \
	>"$tmp/sanitize.log" 2>&1
san=$("$CU_SCORE" "$tmp/sanitize.log" --list)
diag "sanitize: $(tail -1 <<<"$san")"
is "$(grep -v '^PASS\|^pass\|Sanitize.Reset$' <<<"$san")" "" \
	"every SANITIZE test passes with --allow-sanitize (but Reset, see above)"
is "$(grep -c '^PASS' <<<"$san")" 10 "10 SANITIZE tests pass"
# MultipathIO needs a second URL (two sessions to the same LU); also left out of the scored
# command. Its Reset test is left out: it expects a unit attention after LUN RESET on every
# path, which vdiskd does not establish (docs/vdiskd.md, "What is supported").
url="iscsi://127.0.0.1:$PORT/$IQN/0"
timeout 60 iscsi-test-cu -d -v -t ALL.MultipathIO "$url" "$url" >"$tmp/mpath.log" 2>&1
mp=$("$CU_SCORE" "$tmp/mpath.log" --list)
diag "multipath: $(tail -1 <<<"$mp")"
is "$(grep '^PASS' <<<"$mp" | sort | tr '\n' ' ')" \
	"PASS MultipathIO.CompareAndWrite PASS MultipathIO.CompareAndWriteAsync PASS MultipathIO.Simple " \
	"MultipathIO over two sessions: Simple, CompareAndWrite, CompareAndWriteAsync pass"
kill -0 "$pid" 2>/dev/null; ok $? "vdiskd still running after the suite"
kill -TERM "$pid"; wait "$pid"; is $? 0 "clean exit on SIGTERM"
pid=
# under make check-asan: no memory error or leak after 230 tests' worth of sessions
! grep -q "AddressSanitizer\|LeakSanitizer\|runtime error" "$tmp/vdiskd.log"
ok $? "no sanitizer report from vdiskd"
done_testing
