#!/bin/bash
# vdiskctl image sync between two vdiskd on loopback (server a primary, b secondary; separate
# DBs and files): only the differing blocks are sent, a second run sends none, a run killed
# midway is resumed, a wrong secret or a primary peer changes nothing, an image that a disk on
# the peer uses is refused, and a hot-standby client's mirror stops reporting base-differs.
SRCDIR=${SRCDIR:-$(cd "$(dirname "$0")/../.." && pwd)}
source "$SRCDIR/tests/lib/tap.sh"

RAW=$BUILD/tests/helpers/vdiskd_rawpdu
CTL=$BUILD/tests/helpers/ctl_ask
[ -x "$RAW" ] && [ -x "$CTL" ] || skip_all "test helpers not built (make tests)"
[ -x "$BUILD/vdiskctl" ] && [ -x "$BUILD/vdiskd" ] || skip_all "vdiskd/vdiskctl not built"

tmp=$(mktemp -d)
pids=()
cleanup() {
	for p in "${pids[@]}"; do kill "$p" 2>/dev/null; done
	wait 2>/dev/null
	rm -rf "$tmp"
}
trap cleanup EXIT

# a: clients on 127.0.0.1:P (the raw PDU helper's address), replica listener 127.0.0.2:P+1;
# b: 127.0.0.3:P+2 and 127.0.0.4:P+3. P from 33400, 33410, ... (parallel checkouts).
echo "imgsync-pair-secret" >"$tmp/secret"
echo "not-the-pair-secret" >"$tmp/badsecret"
chmod 600 "$tmp/secret" "$tmp/badsecret"
A_REP= B_REP= P=
sum() { md5sum <"$1" | cut -d' ' -f1; }
ctla() { "$CTL" "$tmp/a.sock" "$@"; }
ctlb() { "$CTL" "$tmp/b.sock" "$@"; }
sync_img() { VDISK_DB=$tmp/a.db "$BUILD/vdiskctl" image sync "$@"; }

# the same clients and image names on both servers, each with its own files
mkdb() {
	local db=$tmp/$1.db dir=$tmp/$1
	mkdir -p "$dir"
	V() { VDISK_DB=$db "$BUILD/vdiskctl" "$@" >/dev/null; }
	V init
	V setting set client_auth none	# logins without CHAP: tests/vdiskd/clientauth.t has it
	V setting set restore_discard_s 0	# overlays kept between sessions: clientauth.t has it
	V image add win10 --path "$dir/win10.img"
	V image add big --path "$dir/big.img"
	V image add other --path "$dir/other.img"
	V image add alias --path "$dir/other.img"	# another name for the same file
	V client add --name PC001 --mac 52:54:00:00:00:01 --image win10 --hot-standby on
	V client add --name PC002 --mac 52:54:00:00:00:02 --image other --hot-standby on
	V client add --name PC003 --mac 52:54:00:00:00:03 --image big --hot-standby on
}

head -c 16M /dev/urandom >"$tmp/win10.src"
head -c 64M /dev/urandom >"$tmp/big.src"
head -c 4M /dev/urandom >"$tmp/other.src"
mkdir -p "$tmp/a" "$tmp/b"
cp "$tmp/win10.src" "$tmp/a/win10.img"
cp "$tmp/big.src" "$tmp/a/big.img"
cp "$tmp/other.src" "$tmp/a/other.img"
cp "$tmp/other.src" "$tmp/b/other.img"
# b's win10 differs in 5 of its 256 blocks, the last one included; its big is all zeros
cp "$tmp/win10.src" "$tmp/b/win10.img"
for blk in 0 7 100 101 255; do
	printf 'B%03d' $blk | dd of="$tmp/b/win10.img" bs=1 seek=$((blk * 65536 + 1000)) \
		conv=notrunc status=none
done
truncate -s 64M "$tmp/b/big.img"
mkdb a
mkdb b

# started NAME LOG PID: vdiskd PID logged that it listens, or has exited (a port was taken)
started() { grep -q "listening on" "$2" || ! kill -0 "$3" 2>/dev/null; }
start_pair() {
	local base
	for base in 33400 33410 33420 33430 33440 33450 33460 33470 33480 33490; do
		P=$base A_REP=127.0.0.2:$((base + 1)) B_REP=127.0.0.4:$((base + 3))
		"$BUILD/vdiskd" --db "$tmp/b.db" --listen 127.0.0.3:$((P + 2)) --role secondary \
			--node b --replica-listen $B_REP --mirror-secret "$tmp/secret" \
			--overlay-dir "$tmp/b/ov" --ctl "$tmp/b.sock" 2>"$tmp/b.log" &
		bpid=$!
		"$BUILD/vdiskd" --db "$tmp/a.db" --listen 127.0.0.1:$P --role primary --node a \
			--replica-listen $A_REP --mirror-peer $B_REP --mirror-secret "$tmp/secret" \
			--mirror-timeout-ms 1000 --fence none --overlay-dir "$tmp/a/ov" --ctl "$tmp/a.sock" \
			2>"$tmp/a.log" &
		apid=$!
		wait_until 10000 started a "$tmp/a.log" $apid
		wait_until 10000 started b "$tmp/b.log" $bpid
		if kill -0 $apid 2>/dev/null && kill -0 $bpid 2>/dev/null; then
			pids+=($apid $bpid)
			return 0
		fi
		kill $apid $bpid 2>/dev/null
		wait $apid $bpid 2>/dev/null
	done
	return 1
}
start_pair || skip_all "no free ports in 33400-33499"

# PC001 (hot-standby, image win10) logs in to a: its mirror finds b's base different
RAWPDU_INITIATOR=iqn.2026-11.lan.vdisk:pc001 "$RAW" $P iqn.2026-11.lan.vdisk:disk hold 60 \
	>/dev/null 2>&1 &
hold1=$!
pids+=($hold1)
# pc001_in STATE...: PC001's mirror on a is in one of these states (the last one seen in $state)
pc001_in() {
	local s
	state=$(ctla status | awk '/^mirror_client: PC001 /{print $4}')
	for s; do [ "$state" = "$s" ] && return 0; done
	return 1
}
state=
wait_until 10000 pc001_in base-differs
is "$state" base-differs "before the sync, PC001's mirror reports base-differs"

# a wrong secret: refused with the reason, exit 1, nothing written
before=$(sum "$tmp/b/win10.img")
sync_img win10 --peer $B_REP --secret "$tmp/badsecret" >"$tmp/out" 2>"$tmp/err"
is $? 1 "wrong secret: exit 1"
grep -q "cannot log in.*Authentication failure" "$tmp/err"
ok $? "wrong secret: says the login failed authentication"
is "$(sum "$tmp/b/win10.img")" "$before" "wrong secret: b's image unchanged"

# the peer is primary (a's own listener): refused, exit 1
before=$(sum "$tmp/a/win10.img")
sync_img win10 --peer $A_REP --secret "$tmp/secret" >"$tmp/out" 2>"$tmp/err"
is $? 1 "a primary peer: exit 1"
grep -q "image sync refused: this server is primary" "$tmp/a.log"
ok $? "a primary peer logs why it refused"
is "$(sum "$tmp/a/win10.img")" "$before" "a primary peer: its image unchanged"

# usage errors
sync_img nosuch --peer $B_REP --secret "$tmp/secret" 2>"$tmp/err"
is $? 1 "unknown image: exit 1"
sync_img win10 --peer nowhere --secret "$tmp/secret" 2>"$tmp/err"
is $? 2 "--peer without a port: exit 2"
sync_img win10 --secret "$tmp/secret" 2>"$tmp/err"
is $? 2 "no --peer and no servers rows: exit 2"
grep -q "give --peer" "$tmp/err"; ok $? "says to give --peer"

# the default peer: the servers row that is not this host, port 3261 (nobody listens there)
cp "$tmp/a.db" "$tmp/a2.db"
VDISK_DB=$tmp/a2.db "$BUILD/vdiskctl" server add "$(hostname -s)" --ha-addr 127.0.0.2 >/dev/null
VDISK_DB=$tmp/a2.db "$BUILD/vdiskctl" server add b --ha-addr 127.0.0.4 >/dev/null
VDISK_DB=$tmp/a2.db "$BUILD/vdiskctl" image sync win10 --secret "$tmp/secret" 2>"$tmp/err"
is $? 1 "default peer, nobody there: exit 1"
grep -q "at 127.0.0.4:3261: " "$tmp/err"; ok $? "the default peer is b's ha_addr, port 3261"
VDISK_DB=$tmp/a2.db "$BUILD/vdiskctl" server add c --ha-addr 127.0.0.6 >/dev/null
VDISK_DB=$tmp/a2.db "$BUILD/vdiskctl" image sync win10 --secret "$tmp/secret" 2>"$tmp/err"
is $? 2 "two other servers: exit 2, --peer needed"

# --dry-run counts the differing blocks and sends nothing
before=$(sum "$tmp/b/win10.img")
sync_img win10 --peer $B_REP --secret "$tmp/secret" --dry-run >"$tmp/out" 2>"$tmp/err"
is "$?:$(cat "$tmp/out")" "0:image win10: 256 blocks compared, 5 differ (dry run, nothing sent)" \
	"--dry-run: 5 of 256 blocks differ"
is "$(sum "$tmp/b/win10.img")" "$before" "--dry-run: b's image unchanged"

# the sync: exactly the 5 differing blocks
sync_img win10 --peer $B_REP --secret "$tmp/secret" >"$tmp/out" 2>"$tmp/err"
is $? 0 "sync win10: exit 0"
is "$(cat "$tmp/out")" "image win10: 256 blocks compared, 5 sent (0.3 MiB), identical" \
	"sync win10: 5 of 256 blocks sent"
cmp -s "$tmp/a/win10.img" "$tmp/b/win10.img"; ok $? "b's win10 is now a's, byte for byte"
grep -q "image win10: 256/256 blocks compared, 5 sent" "$tmp/err"; ok $? "progress on stderr"
VDISK_DB=$tmp/a.db "$BUILD/vdiskctl" events | grep -q "image sync win10 to $B_REP: 256 blocks compared, 5 sent"
ok $? "the sync is in a's events"
# (a second run of it: at the end, once PC001's mirror no longer holds a replica of it on b)

# an image that a disk on b uses: PC002's replica (mirrored from a) holds image other
RAWPDU_INITIATOR=iqn.2026-11.lan.vdisk:pc002 "$RAW" $P iqn.2026-11.lan.vdisk:disk hold 30 \
	>/dev/null 2>&1 &
hold2=$!
pids+=($hold2)
pc002_replica() { ctlb status | grep -q "^replica_client: PC002 sessions 1 "; }
check "PC002's replica is open on b" -- wait_until 10000 pc002_replica
before=$(sum "$tmp/b/other.img")
printf 'X' | dd of="$tmp/a/other.img" bs=1 seek=5000 conv=notrunc status=none
sync_img other --peer $B_REP --secret "$tmp/secret" >"$tmp/out" 2>"$tmp/err"
is $? 1 "image in use on the peer: exit 1"
grep -q "image sync of other refused: client PC002's disk uses that image" "$tmp/b.log"
ok $? "b logs which client's disk uses the image"
is "$(sum "$tmp/b/other.img")" "$before" "image in use: b's copy unchanged"
r0=$(ctlb status | awk '/^refused: /{print $2}')
sync_img alias --peer $B_REP --secret "$tmp/secret" >"$tmp/out" 2>"$tmp/err"
is $? 1 "the same file under another image name: exit 1"
r1=$(ctlb status | awk '/^refused: /{print $2}')
[ "$r1" -gt "$r0" ]; ok $? "b refused it ($r0 -> $r1 refusals)"
is "$(sum "$tmp/b/other.img")" "$before" "another name: b's copy unchanged"
kill $hold2 2>/dev/null

# the peer's file is not whole sectors: refused there, nothing changed (its own log line:
# image-sync login refusals are rate limited, one a second)
printf 'odd' >>"$tmp/b/big.img"
before=$(sum "$tmp/b/big.img")
sync_img big --peer $B_REP --secret "$tmp/secret" >"$tmp/out" 2>"$tmp/err"
is $? 1 "peer file of 64 MiB + 3 bytes: exit 1"
grep -q "image sync: big: cannot open .*whole 512-byte sectors" "$tmp/b.log"
ok $? "b logs that its file is not whole sectors"
is "$(sum "$tmp/b/big.img")" "$before" "b's odd-sized file unchanged"
truncate -s 64M "$tmp/b/big.img"

# an image b's DB does not have: refused there (target not found)
VDISK_DB=$tmp/a.db "$BUILD/vdiskctl" image add solo --path "$tmp/a/other.img" >/dev/null
sync_img solo --peer $B_REP --secret "$tmp/secret" >"$tmp/out" 2>"$tmp/err"
is $? 1 "an image unknown to the peer: exit 1"
grep -qi "not found" "$tmp/err"; ok $? "says the peer has no such target"

# A sync has written to b once b's first block of the image is a's (b's starts all zeros, a's
# is random). At --rate 10 a 64 MiB sync lasts 6.7 s: the checks below that must happen
# during one have that long.
first_block_sent() { cmp -s -n 65536 "$tmp/a/big.img" "$tmp/b/big.img"; }
# image-sync sessions of big b has closed
big_closed() { grep -c "image sync: big closed" "$tmp/b.log"; }

# interrupted: killed midway through a 64 MiB image (1024 blocks, all differ)
closed0=$(big_closed)
VDISK_DB=$tmp/a.db "$BUILD/vdiskctl" image sync big --peer $B_REP --secret "$tmp/secret" \
	--rate 10 >"$tmp/out" 2>"$tmp/err" &
cli=$!
check "the sync is under way (b's first block of big is a's)" -- wait_until 20000 first_block_sent
kill $cli
wait $cli
rc=$?
[ $rc -ne 0 ] && ! grep -q identical "$tmp/out"
ok $? "the first run was killed before it finished"
# b refuses a second sync of an image while the killed run's session is open
b_closed_it() { [ "$(big_closed)" -gt "$closed0" ]; }
check "b closed the killed run's session" -- wait_until 10000 b_closed_it
sync_img big --peer $B_REP --secret "$tmp/secret" >"$tmp/out" 2>"$tmp/err"
sent=$(sed -n 's/^image big: 1024 blocks compared, \([0-9]*\) sent.*identical$/\1/p' "$tmp/out")
diag "resumed run: ${sent:-?} of 1024 blocks still to send; $(tail -1 "$tmp/err")"
[ -n "$sent" ] && [ "$sent" -gt 0 ] && [ "$sent" -lt 1024 ]
ok $? "the resumed run sends only what the killed one had not (${sent:-none} < 1024)"
cmp -s "$tmp/a/big.img" "$tmp/b/big.img"; ok $? "b's big is now a's"

# while big is being synced, b refuses to be the replica of PC003 (image big)
truncate -s 0 "$tmp/b/big.img"
truncate -s 64M "$tmp/b/big.img"
refused() { ctlb status | awk '/^refused: /{print $2}'; }
r0=$(refused)
VDISK_DB=$tmp/a.db "$BUILD/vdiskctl" image sync big --peer $B_REP --secret "$tmp/secret" \
	--rate 10 >"$tmp/out" 2>"$tmp/err" &
cli=$!
check "the sync is under way (b's first block of big is a's)" -- wait_until 20000 first_block_sent
# PC003 logs in to a; a's mirror tries to replicate it on b while the sync runs
RAWPDU_INITIATOR=iqn.2026-11.lan.vdisk:pc003 "$RAW" $P iqn.2026-11.lan.vdisk:disk hold 30 \
	>/dev/null 2>&1 &
hold3=$!
pids+=($hold3)
refused_more() { [ "$(refused)" -gt "$r0" ]; }
wait_until 10000 refused_more
r1=$(refused)
st=$(ctlb status) && ! grep -q "^replica_client: PC003 " <<<"$st"
ok $? "during the sync b opens no replica of PC003 (image big)"
[ "$r1" -gt "$r0" ]; ok $? "b refused PC003's replication logins ($r0 -> $r1 refusals)"
kill -0 $cli 2>/dev/null; ok $? "(the sync was still running then)"
kill $hold3 2>/dev/null
wait $hold3 2>/dev/null
wait $cli
is $? 0 "a sync with a hot-standby client of that image logged in on a: exit 0"
cmp -s "$tmp/a/big.img" "$tmp/b/big.img"; ok $? "b's big is a's again"
# PC003's mirror on a (refused meanwhile, degraded, retrying every second) replicates to b
# once the sync is done, then closes, PC003 being gone; until then b would refuse the next
# sync of big for PC003's replica
pc003_closed() {
	local sa sb
	sa=$(ctla status) && sb=$(ctlb status) && ! grep -q "^mirror_client: PC003 " <<<"$sa" &&
		! grep -q "^replica_client: PC003 " <<<"$sb"
}
check "PC003's mirror caught up with b and closed, and b its replica" -- \
	wait_until 20000 pc003_closed

# b promoted during a sync: the sync session is dropped, the CLI fails
truncate -s 0 "$tmp/b/big.img"
truncate -s 64M "$tmp/b/big.img"
VDISK_DB=$tmp/a.db "$BUILD/vdiskctl" image sync big --peer $B_REP --secret "$tmp/secret" \
	--rate 10 >"$tmp/out" 2>"$tmp/err" &
cli=$!
check "the sync is under way (b's first block of big is a's)" -- wait_until 20000 first_block_sent
ctlb role primary >/dev/null
wait $cli
is $? 1 "b promoted during a sync: the CLI fails (exit 1)"
diag "$(tail -1 "$tmp/err")"
ctlb role secondary >/dev/null

# PC001's mirror retries the peer (every 5 s after base-differs) and finds the same base
state=
wait_until 40000 pc001_in syncing in-sync
ok "$([ "$state" = syncing ] || [ "$state" = in-sync ]; echo $?)" \
	"after the sync, PC001's mirror is no longer base-differs (state ${state:-none})"

# A second run of win10's sync sends nothing. Not right after the first: PC001's mirror,
# retrying every 5 s, may meet the same base by then and open PC001's replica on b, and b
# refuses the sync of an image one of its disks reads (under load it did). PC001 logs out
# first, and b closes the replica once a's mirror, in sync and idle, has closed.
kill $hold1 2>/dev/null
no_pc001_replica() { local st; st=$(ctlb status) && ! grep -q "^replica_client: PC001 " <<<"$st"; }
check "PC001 gone: b closed its replica" -- wait_until 20000 no_pc001_replica
sync_img win10 --peer $B_REP --secret "$tmp/secret" >"$tmp/out" 2>"$tmp/err"
is "$(cat "$tmp/out")" "image win10: 256 blocks compared, 0 sent (0.0 MiB), identical" \
	"a second run sends nothing"

done_testing
