#!/bin/bash
# A PC's identity in --db mode (issue 16, item 1): every client login passes CHAP with the
# PC's own secret from the DB (CHAP_N its IQN), the target proves itself with the PC's target
# secret when asked (mutual CHAP), nothing is opened for a login that fails, a PC with an
# address in the DB logs in from that address only, and a PC's disk has one live session:
# a second one from another address is refused and recorded. On loopback: 127.0.0.1 is the
# PC, 127.0.0.7 another host.
source "$(dirname "$0")/../lib/tap.sh"
source "$SRCDIR/tests/vdiskd/vdiskd-lib.sh"
RAW=$BUILD/tests/helpers/vdiskd_rawpdu
[ -x "$RAW" ] || skip_all "vdiskd_rawpdu not built"
PORT=32657
tmp=$(mktemp -d /tmp/clientauth.XXXXXX)
stop_vdiskd() { [ -n "$pid" ] && kill "$pid" 2>/dev/null && wait "$pid"; pid=; }
trap 'stop_vdiskd; rm -rf "$tmp"' EXIT
export VDISK_DB=$tmp/vdisk.db
V() { "$BUILD/vdiskctl" "$@" >/dev/null; }
V init
truncate -s 4M "$tmp/base.img"
V image add base --path "$tmp/base.img"
V client add --name PC001 --mac 52:54:00:00:00:01 --image base
V client add --name PC002 --mac 52:54:00:00:00:02 --image base --ip 127.0.0.5
TGT=iqn.2026-11.lan.vdisk:disk
INI1=iqn.2026-11.lan.vdisk:pc001 INI2=iqn.2026-11.lan.vdisk:pc002
secret() { "$BUILD/vdiskctl" client show "$1" --secrets | sed -n "s/^$2: *//p"; }
S1=$(secret PC001 chap-secret) T1=$(secret PC001 chap-target-secret) S2=$(secret PC002 chap-secret)
ok "$([ ${#S1} = 16 ] && [ ${#T1} = 16 ] && [ "$S1" != "$T1" ]; echo $?)" \
	"PC001 has a 16-character secret and another for the target"
start_vdiskd --db "$VDISK_DB" --overlay-dir "$tmp/ov" --ctl "$tmp/vdiskd.sock" \
	2>"$tmp/log" || skip_all "no free port"
ctl() { "$BUILD/tests/helpers/ctl_ask" "$tmp/vdiskd.sock" "$@" 2>/dev/null; }
# login INITIATOR [SRC] [SECRET [TARGET_SECRET]]: the login status (0x0000 ok)
login() {
	env RAWPDU_INITIATOR="$1" ${2:+RAWPDU_SRC=$2} ${3:+RAWPDU_CHAP_SECRET=$3} \
		${4:+RAWPDU_CHAP_TARGET_SECRET=$4} "$RAW" "$PORT" "$TGT" status
}
is "$(login $INI1)" 0x0201 "PC001 without CHAP: refused (0x0201, authentication failure)"
is "$(login $INI1 "" "${S1}x")" 0x0201 "PC001 with a wrong secret: refused"
is "$(login $INI1 "" "$S2")" 0x0201 "PC001 with PC002's secret: refused"
ctl status | grep -q "^client: PC001 "; [ $? != 0 ]
ok $? "nothing was opened for the refused logins (no disk of PC001 in status)"
is "$(login $INI1 "" "$S1")" 0x0000 "PC001 with its secret: logged in"
is "$(login $INI1 "" "$S1" "$T1")" 0x0000 "and with mutual CHAP: the target proved itself"
is "$(login $INI1 "" "$S1" "${T1}x")" 0xfffe \
	"a target that answers with another secret fails the initiator's check"

# PC002 has an address in the DB
is "$(login $INI2 "" "$S2")" 0x0202 "PC002 from 127.0.0.1, not its address: refused (0x0202)"
is "$(login $INI2 127.0.0.5 "$S2")" 0x0000 "PC002 from its own address 127.0.0.5: logged in"

# one live session per PC: a second one from another address while PC001 runs
RAWPDU_INITIATOR=$INI1 RAWPDU_CHAP_SECRET=$S1 "$RAW" "$PORT" "$TGT" hold 4 &
HOLD=$!
running() { ctl status | grep -q "^client: PC001 image base sessions 1 "; }
check "PC001 runs (a session that pings)" -- wait_until 5000 running
is "$(login $INI1 127.0.0.7 "$S1")" 0x0202 \
	"a second session for PC001 from 127.0.0.7 (with the secret): refused"
check "recorded as an event" -- bash -c \
	"'$BUILD/vdiskctl' events | grep -q 'login of $INI1 from 127.0.0.7 refused: a second session'"
is "$(login $INI1 127.0.0.1 "$S1")" 0x0000 "another session from PC001's own address: taken"
wait $HOLD
ok $? "PC001's running session was never disturbed"

# restore mode: a PC whose session ended and that does not come back loses its overlay
stop_vdiskd
V setting set restore_discard_s 2
PORT=32657
start_vdiskd --db "$VDISK_DB" --overlay-dir "$tmp/ov" --ctl "$tmp/vdiskd.sock" \
	2>"$tmp/log1" || skip_all "no free port"
write1() { qemu-io --object "secret,id=s1,data=$S1" --image-opts \
	"driver=iscsi,transport=tcp,portal=127.0.0.1:$PORT,target=$TGT,lun=0,initiator-name=$INI1,user=$INI1,password-secret=s1" \
	-c 'write -P 0x5a 0 64k' 2>&1 | grep -q "wrote 65536"; }
mapped() { ls "$tmp/ov/PC001.data" >/dev/null 2>&1 && [ "$(du -k "$tmp/ov/PC001.data" | cut -f1)" -gt 0 ]; }
check "PC001 writes with its CHAP secret (qemu-io), then its session ends" -- write1
check "its overlay holds the write" -- mapped
discarded() { grep -q "client PC001: overlay discarded: its session ended" "$tmp/log1"; }
check "2 s later, with no new login, its overlay is discarded" -- wait_until 10000 discarded
ok "$(mapped; [ $? != 0 ]; echo $?)" "nothing of it is left in the overlay file"
check "PC001 writes again, then its session ends" -- write1
V client set --name PC001 --overlay persistent >/dev/null
# a negative check: twice the grace, then the overlay must still hold the write
sleep 4
ok "$(mapped; echo $?)" "made persistent within the grace: its overlay is kept"
V client set --name PC001 --overlay restore >/dev/null
# the grace outlives the process: a restarted (or newly active) vdiskd starts it again
stop_vdiskd
start_vdiskd --db "$VDISK_DB" --overlay-dir "$tmp/ov" --ctl "$tmp/vdiskd.sock" \
	2>"$tmp/log3" || skip_all "no free port"
discarded3() { grep -q "client PC001: overlay discarded" "$tmp/log3"; }
check "restarted with PC001 logged out: 2 s later its overlay is discarded" -- \
	wait_until 10000 discarded3
ok "$(mapped; [ $? != 0 ]; echo $?)" "nothing of it is left"
# an emptied overlay holds nothing: the next start leaves it alone
stop_vdiskd
start_vdiskd --db "$VDISK_DB" --overlay-dir "$tmp/ov" --ctl "$tmp/vdiskd.sock" \
	2>"$tmp/log4" || skip_all "no free port"
sleep 4	# a negative check: twice the grace, then nothing may have been discarded
! grep -q "overlay discarded" "$tmp/log4"; ok $? "restarted again: an empty overlay is not reset"

# client_auth none: the old behaviour, with a warning at start
stop_vdiskd
V setting set client_auth none
PORT=32657
start_vdiskd --db "$VDISK_DB" --overlay-dir "$tmp/ov" --ctl "$tmp/vdiskd.sock" \
	2>"$tmp/log2" || skip_all "no free port"
is "$(login $INI1)" 0x0000 "client_auth none: a login without CHAP is taken"
check "and vdiskd warned about it" -- grep -q "client_auth is none" "$tmp/log2"
done_testing
