#!/bin/bash
# make lab in `make check`: qemu-lab/failover.sh with two QEMU clients (one with hot standby,
# one without) booting from the server pair, a power cut of the primary, reboots on the
# secondary, the primary's return and auto_failback. Each PASS/FAIL line of the lab is one
# TAP result. While vdiskd has no mirror (issue 7) the checks that need it are TODO: they
# fail, as they must when acknowledged writes exist on one server only.
# Serial and daemon logs: $BUILD/qemu-lab/logs-test.
source "$(dirname "$0")/../lib/tap.sh" || exit 1
need_root
for p in qemu-system-x86_64 in.tftpd socat; do
	command -v "$p" >/dev/null || skip_all "$p missing (make deps installs qemu-lab/deps.txt)"
done
perl -MTime::HiRes -e 1 2>/dev/null || skip_all "perl's Time::HiRes missing (package perl)"

out=$(mktemp /tmp/lab-t.XXXXXX)
trap 'rm -f "$out"' EXIT
make -s -C "$SRCDIR" BUILD="$BUILD" lab-image >"$out" 2>&1
ok $? "make lab-image" || { sed 's/^/# /' "$out"; done_testing; }

start=$(date +%s)
LAB_CLIENTS=2 LAB_LOGS=$BUILD/qemu-lab/logs-test SRCDIR=$SRCDIR BUILD=$BUILD \
	"$SRCDIR/qemu-lab/failover.sh" >"$out" 2>&1
rc=$?
while IFS= read -r line; do
	case $line in
	"PASS "*) ok 0 "${line#PASS }" ;;
	"FAIL "*) ok 1 "${line#FAIL }" ;;
	"#   TIME "*) ;;	# the lab's summary of the TIME lines already shown
	"TIME "* | "# "*) diag "${line#\# }" ;;
	esac
done <"$out"
grep -q '^lab: [0-9]* passed' "$out"
ok $? "the lab ran to its end (exit status $rc)" || sed 's/^/#   /' "$out" | tail -20
diag "wall time $(($(date +%s) - start)) s"
done_testing
