#!/bin/bash
# The synchronous mirror between two vdiskds on loopback (no standbyd: roles are set on the
# control sockets, as standbyd would): a hot-standby client's writes reach the peer before
# GOOD; peer loss records exactly the chunks written and the return resyncs only those; the
# secondary, promoted, serves the same data and refuses a client without hot-standby; the
# direction reverses; a split brain is detected, not resynced, and settled by keep-local;
# a replica over another base image is refused.
SRCDIR=${SRCDIR:-$(cd "$(dirname "$0")/../.." && pwd)}
source "$SRCDIR/tests/lib/tap.sh"

CTL=$BUILD/tests/helpers/ctl_ask
[ -x "$CTL" ] && [ -x "$BUILD/vdiskd" ] || skip_all "vdiskd or test helpers not built"
command -v qemu-io >/dev/null || skip_all "qemu-io missing (qemu-utils)"

tmp=$(mktemp -d)
cleanup() {
	pkill -9 -f "vdiskd --db $tmp/" 2>/dev/null
	wait 2>/dev/null
	rm -rf "$tmp"
}
trap cleanup EXIT
# two loopback addresses of our own, so parallel runs do not collide
NET=127.$((RANDOM % 200 + 20)).$((RANDOM % 250 + 1))
A=$NET.1 B=$NET.2
TGT=iqn.2026-11.lan.vdisk:disk
INI1=iqn.2026-11.lan.vdisk:pc001
INI2=iqn.2026-11.lan.vdisk:pc002

export VDISK_DB=$tmp/a.db
V() { "$BUILD/vdiskctl" "$@" >/dev/null; }
V init
V setting set client_auth none	# logins without CHAP: tests/vdiskd/clientauth.t has it
V setting set restore_discard_s 0	# overlays kept between sessions: clientauth.t has it
head -c 64M /dev/zero | tr '\0' 'B' >"$tmp/base.img"
cp "$tmp/base.img" "$tmp/base-b.img"
V image add img --path "$tmp/base.img"
V server add a --role primary
V server add b --role secondary
V client add --name PC001 --mac 52:54:00:00:00:01 --image img --hot-standby on
V client add --name PC002 --mac 52:54:00:00:00:02 --image img
cp "$tmp/a.db" "$tmp/b.db"
[ "$(sqlite3 "$tmp/b.db" "SELECT role FROM servers WHERE name = 'b'")" = secondary ] ||
	{ ok 1 "the DB has its server rows"; done_testing; }
sqlite3 "$tmp/b.db" "UPDATE images SET path='$tmp/base-b.img'"
echo "pair-secret-for-the-test" >"$tmp/secret"
chmod 644 "$tmp/secret"
"$BUILD/vdiskd" --db "$tmp/a.db" --listen "$A:3260" --replica-listen "$A:3261" \
	--mirror-secret "$tmp/secret" --fence none 2>"$tmp/mode.err"
is "$?" 1 "a pair secret others can read: vdiskd refuses to start"
grep -q "readable by group or others (mode 644): chmod 600" "$tmp/mode.err"
ok $? "and says why"
chmod 600 "$tmp/secret"

start() {	# start NODE ROLE
	local me=$1 peer addr paddr
	if [ "$me" = a ]; then addr=$A paddr=$B; else addr=$B paddr=$A; fi
	"$BUILD/vdiskd" --db "$tmp/$me.db" --listen "$addr:3260" --overlay-dir "$tmp/ov-$me" \
		--ctl "$tmp/$me.sock" --node "$me" --role "$2" --replica-listen "$addr:3261" \
		--mirror-peer "$paddr:3261" --mirror-secret "${SECRET_FILE:-$tmp/secret}" --mirror-timeout-ms 1000 \
		--fence none \
		2>>"$tmp/$me.log" &
	eval "pid_$me=$!"
	wait_until 10000 test -S "$tmp/$me.sock"
}
# stop NODE: killed, and gone (its ports closed) when this returns
stop() {
	local pid
	eval "pid=\$pid_$1"
	kill -9 "$pid"
	wait "$pid" 2>/dev/null
	rm -f "$tmp/$1.sock"
}
# ctl NODE REQUEST...: the answer as "key: value" lines (a list element "key: NAME k v ...")
ctl() { "$CTL" "$tmp/$1.sock" "${@:2}"; }
# answer NODE REQUEST...: "ok" when the answer is, else "error: WHY"
answer() {
	local err
	if err=$("$CTL" "$tmp/$1.sock" "${@:2}" 2>&1 >/dev/null); then echo ok
	else echo "error: ${err#ctl_ask: }"; fi
}
field() { ctl "$1" status | awk -v k="$2" '$1 == "mirror_client:" { for (i = 3; i < NF; i++) if ($i == k) print $(i + 1) }'; }
pair_state() { ctl "$1" status | awk '$1 == "mirror:" { print $2 }'; }
# a mirror with nobody logged in closes once in sync: its figures are in the log then
copied() { grep -o 'in sync with .*(\([0-9]*\) chunks copied)' "$tmp/$1.log" | tail -1 | grep -o '([0-9]*' | tr -d '('; }
state_is() {	# state_is NODE STATE: the client's mirror, or the pair's for in-sync
	if [ "$2" = in-sync ]; then [ "$(pair_state "$1")" = in-sync ]
	else [ "$(field "$1" state)" = "$2" ]; fi
}
wait_state() { wait_until 20000 state_is "$1" "$2"; }
# io NODE INITIATOR qemu-io commands...: prints nothing when every command succeeded
io() {
	local addr=$A; [ "$1" = b ] && addr=$B
	timeout 30 qemu-io --image-opts "driver=iscsi,transport=tcp,portal=$addr:3260,target=$TGT,lun=0,initiator-name=$2" \
		"${@:3}" 2>&1 | grep -E "fail|error|Pattern|can't" | head -3
}

refused() { [ -n "$(io "$@" -c 'read 0 4k')" ]; }
no_mirror() { local st; st=$(ctl "$1" status) && ! grep -q '^mirror_client:' <<<"$st"; }
# closed NODE: no mirror open (nobody logged in, nothing left to send or flush)
closed() { wait_until 10000 no_mirror "$1"; }

start a primary || { ok 1 "vdiskd a starts"; done_testing; }
is "$(pair_state a)" "in-sync" "no hot-standby disk open: the pair is in sync"

# The first writes go in before b ever runs, so what the full resync finds in the overlay is
# known. (With b up from the start it depends on whether the handshake or the client's first
# write comes first, a write held for the handshake being mirrored live: under load a
# handshake that won found an empty overlay and copied 0 chunks.)
is "$(io a $INI1 -c 'write -P 0xab 0 1M')" "" "client writes 1 MiB, b not started yet"
check "a's mirror has no peer: degraded, the writes recorded" -- wait_state a degraded
start b secondary || { ok 1 "vdiskd b starts"; done_testing; }
check "the new replica got a full resync, then the pair is in sync" -- wait_state a in-sync
check "a full resync: b never held a copy" -- grep -q 'full resync to' "$tmp/a.log"
is "$(copied a)" 16 "the full resync copied what the overlay holds (the 16 chunks of 64 KiB written)"
is "$(io a $INI1 -c 'write -P 0x11 2M 1M' -c 'write -P 0x22 20M 4k')" "" \
	"writes while in sync (go to both)"

# peer loss and return: only the chunks written meanwhile are copied (once the peer has
# flushed what it got: until then the activity log would count those chunks too)
check "the idle mirror closes once the peer flushed" -- closed a
stop b
is "$(io a $INI1 -c 'write -P 0x33 30M 200k' -c 'write -P 0x44 40M 64k')" "" \
	"writes go on with the peer gone"
is "$(field a state)" degraded "degraded"
is "$(field a dirty)" 5 "5 chunks recorded (200 KiB over 4 chunks, 64 KiB in 1)"
is "$(pair_state a)" "degraded" "the pair reports degraded (for standbyd's heartbeat)"
start b secondary
check "the peer is back: in sync again" -- wait_state a in-sync
is "$(copied a)" 5 "the resync copied exactly the 5 recorded chunks"

# takeover: b serves the same disk, a client without hot-standby is refused
stop a
ctl b role primary >/dev/null
is "$(io b $INI1 -c 'read -P 0xab 0 1M' -c 'read -P 0x11 2M 1M' -c 'read -P 0x22 20M 4k')" "" \
	"after takeover b reads what a acknowledged before the peer loss"
is "$(io b $INI1 -c 'read -P 0x33 30M 200k' -c 'read -P 0x44 40M 64k')" "" \
	"and what a wrote while b was away (resynced)"
is "$(io b $INI1 -c 'read -P 0x42 50M 64k')" "" "unwritten blocks read the base"
check "a client without hot-standby is refused by the secondary" -- refused b $INI2
check "and b says why" -- grep -q 'not hot-standby' "$tmp/b.log"

# the direction reverses: b records for a, resyncs a when it returns
is "$(io b $INI1 -c 'write -P 0x55 10M 128k')" "" "b takes writes with a gone"
start a secondary
check "b resyncs a" -- wait_state b in-sync
is "$(copied b)" 2 "2 chunks (128 KiB) copied from b to a"
ctl b role secondary >/dev/null
ctl a role primary >/dev/null
is "$(io a $INI1 -c 'read -P 0x55 10M 128k' -c 'read -P 0x44 40M 64k')" "" \
	"failback: a serves what b wrote"

# split brain: both active and writing while apart
ctl b role primary >/dev/null
io a $INI1 -c 'write -P 0x66 12M 64k' >/dev/null
io b $INI1 -c 'write -P 0x77 14M 64k' >/dev/null
ctl b role secondary >/dev/null
check "a meets b again: split brain detected" -- wait_state a split-brain
is "$(pair_state a)" split-brain "the pair reports split-brain"
check "loudly, in the log" -- grep -q 'SPLIT BRAIN' "$tmp/a.log"
check "and in the events table" -- bash -c "VDISK_DB='$tmp/a.db' '$BUILD/vdiskctl' events | grep -q 'SPLIT BRAIN on PC001'"
check "the peer loss before was an event too" -- bash -c "VDISK_DB='$tmp/a.db' '$BUILD/vdiskctl' events | grep -q 'mirror degraded'"
sleep 1.5	# a negative check: a resync, had one started, would show within this time
is "$(field a state)" split-brain "and nothing is resynced automatically"
is "$(answer a mirror-resolve PC001 keep-peer | cut -c1-6)" "error:" "vdiskd: an unknown choice is refused"
"$BUILD/vdiskctl" mirror status --ctl "$tmp/a.sock" >"$tmp/ms.out"
check "vdiskctl mirror status shows the split brain" -- grep -q "^mirror: split-brain" "$tmp/ms.out"
"$BUILD/vdiskctl" mirror resolve PC001 --keep b --ctl "$tmp/a.sock" 2>"$tmp/err"
is "$?" 1 "resolve --keep b on a: refused (keep the copy of the node it runs on)"
check "and it says where to run it" -- grep -q "make b active" "$tmp/err"
check "resolve --keep a on a" -- "$BUILD/vdiskctl" mirror resolve PC001 --keep a --ctl "$tmp/a.sock"
check "full resync after the resolve" -- wait_state a in-sync
stop a
ctl b role primary >/dev/null
is "$(io b $INI1 -c 'read -P 0x66 12M 64k' -c 'read -P 0x55 10M 128k' -c 'read -P 0x42 14M 64k')" "" \
	"b now holds a's copy (its own split-brain write is gone)"

# a replica over another base image is refused
ctl b role secondary >/dev/null
printf 'X' | dd of="$tmp/base-b.img" conv=notrunc status=none
start a primary
io a $INI1 -c 'write -P 0x88 16M 4k' >/dev/null
check "the mirror sees the peer's other base" -- wait_state a base-differs
check "a does not mirror there and says why" -- grep -q 'base image differs' "$tmp/a.log"

# a pair secret that differs: the peer refuses the replication login, and a's status says
# so (vdiskctl doctor names mirror.secret from it)
stop b
cp "$tmp/base.img" "$tmp/base-b.img"
echo "another-pair-secret-not-a-match" >"$tmp/other.secret"
chmod 600 "$tmp/other.secret"
SECRET_FILE=$tmp/other.secret start b secondary
io a $INI1 -c 'write -P 0x99 18M 4k' >/dev/null
down() { ctl a status | grep -q '^mirror_down: PC001 why .*Authentication failure'; }
check "a's status: mirror_down PC001, the login refused for its authentication" -- wait_until 10000 down

done_testing
