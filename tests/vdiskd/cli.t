#!/bin/bash
# vdiskd's command line: --help, usage errors (exit 2) that name the problem, runtime errors
# (exit 1), and a target that serves what --lun says.
SRCDIR=${SRCDIR:-$(cd "$(dirname "$0")/../.." && pwd)}
source "$SRCDIR/tests/lib/tap.sh"

source "$SRCDIR/tests/vdiskd/vdiskd-lib.sh"

V=$BUILD/vdiskd
PORT=32652
IQN=iqn.2026-11.lan.vdisk:cli
tmp=$(mktemp -d)
pid=
cleanup() { [ -n "$pid" ] && kill "$pid" 2>/dev/null; wait 2>/dev/null; rm -rf "$tmp"; }
trap cleanup EXIT

"$V" --help >"$tmp/out"; is $? 0 "--help exits 0"
grep -q -- "--lun IQN=FILE" "$tmp/out"; ok $? "--help describes --lun"
"$V" 2>"$tmp/err"; is $? 2 "no --lun: usage error"
grep -q "nothing to export" "$tmp/err"; ok $? "says what is missing"
"$V" --lun notaname=/x 2>"$tmp/err"; is $? 2 "bad IQN: usage error"
grep -q "not an iSCSI name" "$tmp/err"; ok $? "names the problem"
"$V" --lun $IQN=/x,bogus 2>"$tmp/err"; is $? 2 "unknown --lun option: usage error"
"$V" --listen 127.0.0.1:99999 --lun $IQN=/x 2>"$tmp/err"; is $? 2 "bad port: usage error"
"$V" --test-fault lose-everything --lun $IQN=/x 2>"$tmp/err"; is $? 2 "unknown --test-fault: usage error"
grep -q "crash-at-final-answer or lose-final-request" "$tmp/err"; ok $? "names the faults there are"
grep -q -- "--test-fault" "$tmp/out"; is $? 1 "--help keeps the test-only --test-fault out"
"$V" --version >"$tmp/out"; is $? 0 "--version exits 0"
grep -q '^vdiskd (vdisk) [0-9]' "$tmp/out"; ok $? "--version names the program and its version"

# the configuration file: the same keys as the long options, the bad line named, exit 2
printf 'listen 127.0.0.1:%s\nlun %s=%s/a.img\nthreads 2\n' $PORT $IQN "$tmp" >"$tmp/v.conf"
"$V" -c "$tmp/v.conf" --check-config >"$tmp/out" 2>"$tmp/err"; is $? 0 "--check-config on a good file: 0"
is "$(cat "$tmp/out")" "$tmp/v.conf: configuration ok: standalone, listen 127.0.0.1:$PORT" \
	"--check-config says so in one line"
"$V" -c "$tmp/v.conf" --check-config --verbose >"$tmp/out"
grep -q "^threads 2$" "$tmp/out"; ok $? "--check-config --verbose prints what it read"
"$V" -c "$tmp/v.conf" --threads 3 --check-config --verbose >"$tmp/out"
grep -q "^threads 3$" "$tmp/out"; ok $? "the command line wins over the file"
printf 'lun %s=/x\nthreads 0\n' $IQN >"$tmp/bad.conf"
"$V" -c "$tmp/bad.conf" --check-config >/dev/null 2>"$tmp/err"; is $? 2 "a bad line: exit 2"
is "$(cat "$tmp/err")" "vdiskd: $tmp/bad.conf:2: threads 0: 1 to 64" "one line naming file, line, key and range"
printf 'threads 4\n' >"$tmp/empty.conf"
"$V" -c "$tmp/empty.conf" --check-config >/dev/null 2>"$tmp/err"; is $? 2 "a file with nothing to export: exit 2"
grep -q "nothing to export" "$tmp/err"; ok $? "... says what is missing"
"$V" -c "$tmp/none.conf" 2>"$tmp/err"; is $? 2 "a missing --config file: exit 2"
grep -q "none.conf: No such file" "$tmp/err"; ok $? "... names it"

"$V" --listen 127.0.0.1:$PORT --lun $IQN=$tmp/missing.img 2>"$tmp/err"; is $? 1 "missing file: runtime error"
grep -q "missing.img" "$tmp/err"; ok $? "names the file"

truncate -s 8M "$tmp/a.img"
truncate -s 4M "$tmp/b.img"
start_vdiskd --lun "$IQN=$tmp/a.img" --lun "$IQN=$tmp/b.img,ro" --ctl "$tmp/ctl.sock" \
	2>"$tmp/log" || skip_all "no free port in 32652-32692"
wait_until 5000 eval "iscsi-ls iscsi://127.0.0.1:$PORT >/dev/null 2>&1"
if command -v iscsi-ls >/dev/null; then
	out=$(iscsi-ls -s iscsi://127.0.0.1:$PORT 2>&1)
	echo "$out" | grep -q "Lun:0 " && echo "$out" | grep -q "Lun:1 "
	ok $? "two --lun with one IQN: LUN 0 and LUN 1"
	size=$(iscsi-readcapacity16 iscsi://127.0.0.1:$PORT/$IQN/1 | awk -F: '/Total size/{print $2}')
	is "$size" 4194304 "LUN 1 is the 4 MiB file"
	iscsi-inq -e 1 -c 0x80 iscsi://127.0.0.1:$PORT/$IQN/0 >"$tmp/s1" 2>&1
	kill $pid; wait $pid; pid=
	start_vdiskd --lun "$IQN=$tmp/a.img" 2>"$tmp/log"
	wait_until 5000 eval "iscsi-ls iscsi://127.0.0.1:$PORT >/dev/null 2>&1"
	iscsi-inq -e 1 -c 0x80 iscsi://127.0.0.1:$PORT/$IQN/0 >"$tmp/s2" 2>&1
	grep -qi "serial" "$tmp/s1" && cmp -s "$tmp/s1" "$tmp/s2"
	ok $? "the serial number survives a restart (derived from IQN and LUN)"
else
	skip "LUNs served" "iscsi-ls missing (libiscsi-bin)"
fi
kill -TERM $pid; wait $pid; is $? 0 "SIGTERM: exit 0"
pid=

# vdiskd started from a file alone serves what the file says
if command -v iscsi-ls >/dev/null; then
	printf 'listen 127.0.0.1:%s\nlun %s=%s/b.img,ro\n' $PORT $IQN "$tmp" >"$tmp/v.conf"
	"$V" --config "$tmp/v.conf" 2>"$tmp/log" &
	pid=$!
	wait_until 5000 iscsi-ls "iscsi://127.0.0.1:$PORT" >/dev/null 2>&1
	size=$(iscsi-readcapacity16 iscsi://127.0.0.1:$PORT/$IQN/0 2>/dev/null | awk -F: '/Total size/{print $2}')
	is "$size" 4194304 "started from --config FILE alone: serves the file's LUN"
	kill -TERM $pid; wait $pid; pid=
else
	skip "started from a file" "iscsi-ls missing (libiscsi-bin)"
fi

# keepalive: an idle session gets a NOP-In asking for an answer
RAW=$BUILD/tests/helpers/vdiskd_rawpdu
if [ -x "$RAW" ]; then
	start_vdiskd --lun "$IQN=$tmp/a.img" --nop-interval 1 2>"$tmp/log"
	"$RAW" $PORT $IQN nop-in 2>"$tmp/raw.err"
	ok $? "target NOP-In on an idle session, answered, session still works"
	kill -TERM $pid; wait $pid; pid=
else
	skip "target NOP-In" "vdiskd_rawpdu not built"
fi
done_testing
