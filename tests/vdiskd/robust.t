#!/bin/bash
# Misbehaving initiators (raw PDUs from vdiskd_rawpdu): each gets a protocol-correct refusal
# or loses only its own connection, while a well-behaved session keeps being answered; then
# 1,000 sessions come and go without leaking descriptors (and, under check-asan, memory).
SRCDIR=${SRCDIR:-$(cd "$(dirname "$0")/../.." && pwd)}
source "$SRCDIR/tests/lib/tap.sh"

source "$SRCDIR/tests/vdiskd/vdiskd-lib.sh"

PORT=32651
IQN=iqn.2026-11.lan.vdisk:robust
RAW=$BUILD/tests/helpers/vdiskd_rawpdu
[ -x "$RAW" ] || skip_all "$RAW not built (make tests)"

tmp=$(mktemp -d)
pid=
cleanup() { [ -n "$pid" ] && kill "$pid" 2>/dev/null; wait 2>/dev/null; rm -rf "$tmp"; }
trap cleanup EXIT
truncate -s 16M "$tmp/disk.img"
start_vdiskd --lun "$IQN=$tmp/disk.img" 2>"$tmp/vdiskd.log" || skip_all "no free port in 32651-32691"
wait_until 10000 "$RAW" $PORT $IQN login 2>/dev/null

"$RAW" $PORT $IQN hold 4 2>"$tmp/hold.err" &
hold=$!
for s in truncated oversized prelogin-big unknown-op cmdsn garbage-keys no-login unknown-target; do
	"$RAW" $PORT $IQN $s 2>>"$tmp/raw.err"
	ok $? "$s: refused or dropped as RFC 7143 says"
done
wait $hold
ok $? "a well-behaved session was answered throughout"

# large reads leave as file ranges (sendfile) when the pages are cached, small ones copied
head -c 16M /dev/urandom >"$tmp/disk.img"
cat "$tmp/disk.img" >/dev/null
"$RAW" $PORT $IQN read 1000 2048 >"$tmp/read1" && cmp -s "$tmp/read1" \
	<(dd if="$tmp/disk.img" bs=512 skip=1000 count=2048 2>/dev/null)
ok $? "1 MiB READ returns the file's bytes (zero-copy path)"
"$RAW" $PORT $IQN read 7 9 >"$tmp/read2" && cmp -s "$tmp/read2" \
	<(dd if="$tmp/disk.img" bs=512 skip=7 count=9 2>/dev/null)
ok $? "4.5 KiB READ returns the file's bytes (copied)"

fds_before=$(ls /proc/$pid/fd | wc -l)
n=1000
"$RAW" $PORT $IQN sessions $n
ok $? "$n sessions opened and closed"
# vdiskd closes a session's descriptor once it has read the close: wait for the count to
# come back; a leak keeps it above fds_before and the check below fails
fds_now() { ls /proc/$pid/fd | wc -l; }
fds_back() { [ "$(fds_now)" -le "$fds_before" ]; }
wait_until 10000 fds_back
fds_after=$(fds_now)
is "$fds_after" "$fds_before" "no descriptor leaked"
kill -0 $pid 2>/dev/null
ok $? "vdiskd still running"
kill -TERM $pid
wait $pid
ok $? "clean exit on SIGTERM"
pid=
if grep -q "LeakSanitizer\|AddressSanitizer" "$tmp/vdiskd.log"; then
	sed -n 1,40p "$tmp/vdiskd.log" | sed 's/^/# /'
	ok 1 "no sanitizer report"
else
	ok 0 "no sanitizer report"
fi
done_testing
