#!/bin/bash
# vdiskd --db: the initiator name picks the client, its image and overlay; unknown and
# disabled initiators are refused with the RFC's status; the control socket answers status,
# overlay-reset (now, or once the client's session has gone) and role.
SRCDIR=${SRCDIR:-$(cd "$(dirname "$0")/../.." && pwd)}
source "$SRCDIR/tests/lib/tap.sh"

source "$SRCDIR/tests/vdiskd/vdiskd-lib.sh"

PORT=32654
TGT=iqn.2026-11.lan.vdisk:disk
RAW=$BUILD/tests/helpers/vdiskd_rawpdu
CTL=$BUILD/tests/helpers/ctl_ask
[ -x "$RAW" ] && [ -x "$CTL" ] || skip_all "test helpers not built (make tests)"
[ -x "$BUILD/vdiskctl" ] || skip_all "vdiskctl not built"
command -v iscsi-inq >/dev/null || skip_all "libiscsi-bin missing"

tmp=$(mktemp -d)
pid=
cleanup() { [ -n "$pid" ] && kill "$pid" 2>/dev/null; wait 2>/dev/null; rm -rf "$tmp"; }
trap cleanup EXIT
export VDISK_DB=$tmp/vdisk.db
V() { "$BUILD/vdiskctl" "$@" >/dev/null; }
V init
V setting set client_auth none	# logins without CHAP: tests/vdiskd/clientauth.t has it
V setting set restore_discard_s 0	# overlays kept between sessions: clientauth.t has it
head -c 4M /dev/zero | tr '\0' 'B' >"$tmp/base.img"
V image add win10 --path "$tmp/base.img"
V client add --name PC001 --mac 52:54:00:00:00:01 --image win10 --overlay restore
V client add --name PC002 --mac 52:54:00:00:00:02 --image win10 --enabled off
V client add --name PC003 --mac 52:54:00:00:00:03 --image win10 --overlay persistent
ini1=$("$BUILD/vdiskctl" client show PC001 | awk '/iqn/{print $NF}' | grep iqn | head -1)
[ -n "$ini1" ] || ini1=iqn.2026-11.lan.vdisk:pc001

start_vdiskd --db "$VDISK_DB" --overlay-dir "$tmp/ov" --ctl "$tmp/vdiskd.sock" 2>"$tmp/log" ||
	skip_all "no free port in 32654-32694"
wait_until 5000 test -S "$tmp/vdiskd.sock"

# the pxe part's one-shot control socket client (common/ctlsock.h's ctl_call): the answer's
# members as "key: value" lines
ctl() { "$CTL" "$tmp/vdiskd.sock" "$@"; }
# answer REQUEST...: "ok" then the members when vdiskd answers ok, else "error: WHY"
answer() {
	local out
	if out=$("$CTL" "$tmp/vdiskd.sock" "$@" 2>"$tmp/ctl.err"); then
		echo ok
		[ -z "$out" ] || echo "$out"
	else
		echo "error: $(sed 's/^ctl_ask: //' "$tmp/ctl.err")"
	fi
}

st=$(RAWPDU_INITIATOR=$ini1 "$RAW" $PORT $TGT status)
is "$st" "0x0000" "known client logs in ($ini1)"
st=$(RAWPDU_INITIATOR=iqn.2026-11.lan.vdisk:stranger "$RAW" $PORT $TGT status)
is "$st" "0x0202" "unknown initiator: 0x0202 (not authorized)"
st=$(RAWPDU_INITIATOR=iqn.2026-11.lan.vdisk:pc002 "$RAW" $PORT $TGT status)
is "$st" "0x0202" "disabled client: 0x0202"
st=$(RAWPDU_INITIATOR=$ini1 "$RAW" $PORT iqn.2026-11.lan.vdisk:other status)
is "$st" "0x0203" "another target name: 0x0203"

# the disk: base image through the overlay, identity from client + image
url=iscsi://127.0.0.1:$PORT/$TGT/0
size=$(iscsi-readcapacity16 -i "$ini1" $url 2>/dev/null | awk -F: '/Total size/{print $2}')
is "$size" 4194304 "LUN 0 is the client's image"
iscsi-inq -i "$ini1" -e 1 -c 0x80 $url >"$tmp/serial1" 2>&1
grep -qi serial "$tmp/serial1"; ok $? "VPD 80 answered"

# a running PC (its session answers pings) is not reset by a PXE request with its MAC
RAWPDU_INITIATOR=$ini1 "$RAW" $PORT $TGT hold 6 &
hold=$!
has_session() { ctl status | grep -q "^client: PC001 image win10 sessions 1 "; }
check "status lists PC001's session" -- wait_until 10000 has_session
out=$(answer overlay-reset PC001)
echo "$out" | head -1 | grep -q "^ok"; ok $? "overlay-reset with a session open: ok"
echo "$out" | grep -q "^note: .*does not answer"; ok $? "says a session that answers is not reset"
refused() { grep -q "PC001: overlay reset refused: its session answered" "$tmp/log"; }
check "the running PC's session answered: the reset is refused" -- wait_until 5000 refused
check "and recorded as an event" -- bash -c \
	"'$BUILD/vdiskctl' --db '$VDISK_DB' events | grep -q 'overlay reset of PC001 refused'"
check "its session goes on" -- has_session
# a PC that reboots leaves a dead session: no answer, dropped, then the overlay goes
kill -STOP $hold
out=$(answer overlay-reset PC001)
echo "$out" | head -1 | grep -q "^ok"; ok $? "overlay-reset with a dead session open: ok"
no_disk() { local st; st=$(ctl status) && ! grep -q "^client: PC001 " <<<"$st"; }
check "the dead session is dropped, no disk left open for PC001" -- wait_until 5000 no_disk
kill -CONT $hold
wait $hold; [ $? -ne 0 ]; ok $? "the frozen initiator finds its session gone"
# An idle running PC only answers the target's pings, often within the ping's millisecond:
# that answer counts (it did not, and half such resets discarded a running PC's disk).
RAWPDU_INITIATOR=$ini1 "$RAW" $PORT $TGT answer 15 &
ans=$!
check "an initiator that only answers pings has its session" -- wait_until 10000 has_session
refusals() { grep -c "PC001: overlay reset refused: its session answered" "$tmp/log"; }
n0=$(refusals) r=0
for i in 1 2 3 4; do
	ctl overlay-reset PC001 >/dev/null
	wait_until 5000 eval '[ "$(refusals)" -ge $((n0 + i)) ]' || r=1
done
ok $r "4 resets asked while it only answers pings: all 4 refused"
check "its session goes on" -- has_session
kill $ans 2>/dev/null; wait $ans 2>/dev/null
out=$(answer overlay-reset PC001); is "$(echo "$out" | head -1)" "ok" "overlay-reset without a session"
out=$(answer overlay-reset PC003); echo "$out" | grep -q "^error: .*persistent"
ok $? "persistent overlay kept unless forced"
out=$(answer overlay-reset PC003 force); is "$(echo "$out" | head -1)" "ok" "forced reset"
out=$(answer overlay-reset NOPE); echo "$out" | grep -q "^error: no client"; ok $? "unknown client named"

is "$(answer role secondary | head -1)" "ok" "role secondary"
st=$(RAWPDU_INITIATOR=$ini1 "$RAW" $PORT $TGT status)
is "$st" "0x0301" "a secondary refuses logins: 0x0301 (service unavailable)"
is "$(answer role primary | head -1)" "ok" "role primary"
st=$(RAWPDU_INITIATOR=$ini1 "$RAW" $PORT $TGT status)
is "$st" "0x0000" "serving again"
answer bogus | grep -q "^error: unknown command"; ok $? "unknown command refused"

# no mirror peer configured: "off" until a client has hot standby on, whose writes would then
# be on this server only ("unprotected", which standbyd counts as not in sync)
mirror_state() { ctl status | sed -n 's/^mirror: //p'; }
is "$(mirror_state)" off "no mirror, no hot-standby client: mirror off"
V client set --name PC003 --hot-standby on
is "$(mirror_state)" unprotected "a hot-standby client without a mirror: mirror unprotected"
is "$(mirror_state)" unprotected "asked again: unprotected"
is "$(grep -c "1 clients have hot standby on but no mirror peer is configured" "$tmp/log")" 1 \
	"logged once"
"$BUILD/vdiskctl" --db "$VDISK_DB" events | grep -q "no mirror peer is configured"
ok $? "and an event says so"
V client set --name PC003 --hot-standby off
is "$(mirror_state)" off "hot standby off again: mirror off"

# a client moved to another image of the same size: its overlay, writes over the old image,
# is discarded at its next login, not read over the new base
qio() {	# qio INITIATOR COMMAND: qemu-io on LUN 0 as INITIATOR
	qemu-io --image-opts "driver=iscsi,transport=tcp,portal=127.0.0.1:$PORT,target=$TGT,lun=0,initiator-name=$1" \
		-c "$2" 2>&1
}
if command -v qemu-io >/dev/null; then
	ini3=iqn.2026-11.lan.vdisk:pc003
	head -c 4M /dev/zero | tr '\0' 'C' >"$tmp/base2.img"
	V image add win11 --path "$tmp/base2.img"
	qio $ini3 'write -P 0x5a 0 64k' | grep -q "wrote 65536"
	ok $? "PC003 (persistent) writes over win10"
	qio $ini3 'read -P 0x5a 0 64k' | grep -q "read 65536"; ok $? "and reads its write back"
	V client set --name PC003 --image win11
	qio $ini3 'read -P 0x43 0 128k' | grep -q "read 131072"
	ok $? "moved to win11 (same size): it reads win11, not its writes over win10"
	grep -q "client PC003: overlay discarded: made over image win10, the client has win11 now" \
		"$tmp/log"; ok $? "logged"
	"$BUILD/vdiskctl" --db "$VDISK_DB" events | grep -q "PC003's overlay was made over image win10"
	ok $? "and an event says so"
	qio $ini3 'write -P 0x61 64k 64k' >/dev/null
	qio $ini3 'read -P 0x61 64k 64k' | grep -q "read 65536"
	ok $? "its writes over win11 are kept"
	V client set --name PC003 --image win11 --overlay persistent
	qio $ini3 'read -P 0x61 64k 64k' | grep -q "read 65536"
	ok $? "and stay at the next login on the same image"
fi

kill -TERM $pid; wait $pid; is $? 0 "clean exit"
pid=
done_testing
