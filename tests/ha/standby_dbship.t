#!/bin/bash
# DB shipping: an admin change on the active node (a) reaches the standby's database (b)
# within a second, over TCP on the HA link; transfers that are not authentic (wrong key,
# the heartbeat key, broken MAC, replayed challenge, garbage) are refused and change nothing.
source "$(dirname "$0")/../lib/tap.sh"
need_root
command -v sqlite3 >/dev/null || skip_all "sqlite3 missing"
source "$SRCDIR/tests/ha/standby-lib.sh"
CTL=$BUILD/vdiskctl
FORGE=$BUILD/tests/helpers/standby_shipforge

check "topology" -- sb_topology
for n in a b; do
	"$CTL" --db "$SB_DIR/$n.db" init >/dev/null || BAIL_OUT "vdiskctl init"
done
"$CTL" --db "$SB_DIR/a.db" client add --name PC001 --mac 02:00:00:00:00:01 >/dev/null
SB_DB=$SB_DIR/a.db sb_start a
SB_DB=$SB_DIR/b.db sb_start b
check "a active" -- sb_wait_state a active 3000
check "b standby" -- sb_wait_state b standby 1000

# b_has FIELD VALUE MS: b's DB shows PC001's FIELD as VALUE within MS
b_shows() { "$CTL" --db "$SB_DIR/b.db" client show PC001 2>/dev/null | grep -q "^$1: *$2\$"; }
b_has() { WAIT_STEP=0.01 wait_until "$3" b_shows "$1" "$2"; }
# b_row WHERE MS: PC001's row in b's DB matches the SQL condition WHERE within MS. For the
# latencies: sqlite3 starts in a few ms, vdiskctl (under ASan and load: 100-400 ms) would add
# its own start-up to each look.
b_row_is() {
	[ "$(sqlite3 "$SB_DIR/b.db" "SELECT count(*) FROM clients WHERE name = 'PC001' AND $1" \
		2>/dev/null)" = 1 ]
}
b_row() { WAIT_STEP=0.01 wait_until "$2" b_row_is "$1"; }
check "the client added before the start reached b" -- b_has hot-standby off 5000

t0=$(date +%s%3N)
"$CTL" --db "$SB_DIR/a.db" client set --name PC001 --hot-standby on >/dev/null
b_row "hot_standby = 1" 3000; ok $? "a's hot_standby change appears in b's DB"
lat=$(( $(date +%s%3N) - t0 ))
diag "shipping latency (vdiskctl on a to the row seen in b's DB): $lat ms"
ok "$([ "$lat" -lt 1000 ]; echo $?)" "within 1 s ($lat ms)"
for i in 1 2 3 4 5; do
	t0=$(date +%s%3N)
	"$CTL" --db "$SB_DIR/a.db" client set --name PC001 --ip 10.77.0.$((20 + i)) >/dev/null
	b_row "ip = '10.77.0.$((20 + i))'" 3000 || break
	lats+=" $(( $(date +%s%3N) - t0 ))"
done
diag "five more changes, latency ms:$lats"
is "$(echo $lats | wc -w)" 5 "five changes in a row all reached b"
# Tickle ACKs' connection lists share the channel: a's (empty) list reached b, and no
# transfer of either kind was refused for it.
lists() { sb_member "$1" tickle_acks "$2"; }
# a list goes at most once a second, and waits while a DB transfer is under way: poll
lists_shipped() { [ "$(lists a lists_sent)" -ge 1 ] && [ "$(lists b lists_received)" -ge 1 ]; }
wait_until 10000 lists_shipped 2>/dev/null
ok "$(lists_shipped 2>/dev/null; echo $?)" \
	"a's connection list shipped to b beside the DB (sent $(lists a lists_sent), received $(lists b lists_received))"
is "$(sb_member b db_ship refused)" 0 "no transfer refused so far"
diag "a: $(sb_status a | grep '^db_ship' | tr '\n' ' ')"
diag "b: $(sb_status b | grep '^db_ship' | tr '\n' ' ')"
is "$(sb_field b db_seq)" "$(sb_field a db_seq)" "b's heartbeat DB version matches a's"

# Forged transfers, from a's HA-link address (the only one b listens to).
"$CTL" --db "$SB_DIR/forged.db" init >/dev/null
"$CTL" --db "$SB_DIR/forged.db" client add --name FORGED --mac 02:00:00:00:00:99 >/dev/null
sum_before=$("$CTL" --db "$SB_DIR/b.db" client list)
forge() { sb_ns_exec a "$FORGE" "$1" 10.78.0.2 694 sbtest a "$2" "$SB_DIR/forged.db"; }
for how in "wrongkey 3:not-the-key" "badmac $SB_SHIPKEY" "replay $SB_SHIPKEY" \
	   "garbage $SB_SHIPKEY"; do
	set -- $how
	is "$(forge "$1" "$2")" closed "$1 transfer refused (connection closed, nothing applied)"
done
# The heartbeat key travels the LAN in every heartbeat's MAC: one who broke it must not be
# able to replace the standby's database (before, the same key signed both).
is "$(forge good "$SB_HBKEY")" closed \
	"a transfer signed with the heartbeat key is refused (DB shipping has a key of its own)"
ok "$("$CTL" --db "$SB_DIR/b.db" client show FORGED >/dev/null 2>&1; [ $? = 1 ]; echo $?)" \
	"no forged row in b's DB"
is "$("$CTL" --db "$SB_DIR/b.db" client list)" "$sum_before" "b's clients unchanged"
refused=$(sb_member b db_ship refused)
ok "$([ "${refused:-0}" -ge 5 ]; echo $?)" "b counted the five refusals ($refused)"
check "b recorded the refusal as an event" -- bash -c \
	"'$CTL' --db '$SB_DIR/b.db' events | grep -q 'DB transfer from a refused'"
# From anywhere but the peer's HA-link address: refused before the challenge.
is "$(sb_ns_exec c "$FORGE" good 10.78.0.2 694 sbtest a $SB_SHIPKEY "$SB_DIR/forged.db" 2>&1)" \
	closed "a transfer from the client LAN, even with the key, is refused"

# Positive control: the same helper with the right key is applied, so the refusals above
# were the authentication's doing; then a notices b's other version and ships its own again.
# The first good transfer carries a's change_seq: b's heartbeats then show the version a
# shipped last, a has nothing to ship, and FORGED stays in b's DB until looked at. (With
# another version a replaces it within a few hundred ms: under load, before vdiskctl looked.)
forged_seq=$(sqlite3 "$SB_DIR/forged.db" "SELECT value FROM settings WHERE key = 'change_seq'")
sqlite3 "$SB_DIR/forged.db" \
	"UPDATE settings SET value = '$(sb_field a db_seq)' WHERE key = 'change_seq'"
is "$(forge good $SB_SHIPKEY | cut -d' ' -f1)" applied "a correctly signed transfer is applied"
check "FORGED visible in b after the good transfer" -- \
	"$CTL" --db "$SB_DIR/b.db" client show FORGED
# The same tables at their own change_seq, below a's (a newer one would be b's own edits,
# tested below): a sees another version in b's heartbeats and ships its DB.
sqlite3 "$SB_DIR/forged.db" "UPDATE settings SET value = '$forged_seq' WHERE key = 'change_seq'"
is "$(forge good $SB_SHIPKEY | cut -d' ' -f1)" applied \
	"a correctly signed transfer of another version is applied"
forged_gone() { "$CTL" --db "$SB_DIR/b.db" client show FORGED >/dev/null 2>&1; [ $? = 1 ]; }
wait_until 6000 forged_gone
ok "$(forged_gone; echo $?)" "a re-shipped its DB once b's heartbeats showed another version"

# Edits on the standby are refused, naming the active node; with no standbyd (no socket, or
# nobody listening on it) they go ahead as before. vdiskctl finds standbyd.sock in
# $VDISK_RUN_DIR.
mkdir -p "$SB_DIR/run-a" "$SB_DIR/run-b" "$SB_DIR/run-none" "$SB_DIR/run-dead"
ln -s "$SB_DIR/a.sock" "$SB_DIR/run-a/standbyd.sock"
ln -s "$SB_DIR/b.sock" "$SB_DIR/run-b/standbyd.sock"
# A socket file nobody listens on: a daemon killed with -9 leaves one.
"$BUILD/tests/helpers/ctl_fake" "$SB_DIR/run-dead/standbyd.sock" /dev/null /dev/null &
fake=$!
wait_until 5000 test -S "$SB_DIR/run-dead/standbyd.sock"
kill -9 "$fake"; wait "$fake" 2>/dev/null
on() { local n=$1 db=$2; shift 2; VDISK_RUN_DIR=$SB_DIR/run-$n "$CTL" --db "$db" "$@"; }
seq_b=$(sb_field b db_seq)
: >"$SB_DIR/none.csv"
refused=0
for cmd in "client set --name PC001 --hot-standby off" \
	   "client add --name PC002 --mac 02:00:00:00:00:02" "client del --name PC001" \
	   "client import $SB_DIR/none.csv" "client reset --name PC001" \
	   "server add x --role primary" "server mark a maintenance" \
	   "image add img --path /tmp/none --size 4096" "group add g" "setting set k v"; do
	out=$(on b "$SB_DIR/b.db" $cmd 2>&1)
	if [ $? = 1 ] && [ "$out" = "vdiskctl $(echo $cmd | cut -d' ' -f1-2): this server is the standby (active: a); make changes on a" ]; then
		refused=$((refused + 1))
	else
		diag "vdiskctl $cmd on b: $out"
	fi
done
is "$refused" 10 "ten kinds of edit refused on the standby with 'this server is the standby (active: a); make changes on a'"
check "--dry-run on the standby is allowed (it changes nothing)" -- \
	on b "$SB_DIR/b.db" client set --name PC001 --hot-standby off --dry-run
is "$("$CTL" --db "$SB_DIR/b.db" client show PC001 | sed -n 's/^hot-standby: *//p')" on \
	"b's row unchanged by the refused edits"
is "$(sb_field b db_seq)" "$seq_b" "b's change_seq unchanged"
check "the same edit on the active node is allowed" -- \
	on a "$SB_DIR/a.db" client set --name PC001 --hot-standby off
check "and reaches b" -- b_has hot-standby off 2000
check "no standbyd socket: allowed (as without standbyd)" -- \
	on none "$SB_DIR/forged.db" client add --name PC003 --mac 02:00:00:00:00:03
check "a socket nobody listens on: allowed" -- \
	on dead "$SB_DIR/forged.db" setting set k v

# The standby never ships back: a change made directly in b's DB (no VDISK_RUN_DIR: the
# guard finds no standbyd) stays there.
"$CTL" --db "$SB_DIR/b.db" setting set auto_register on >/dev/null 2>&1
sleep 1	# a negative check: a shipping b's change would do it within this time
ok "$("$CTL" --db "$SB_DIR/a.db" setting get auto_register 2>/dev/null | grep -q on; [ $? = 1 ]; echo $?)" \
	"a change in b's DB is not shipped to a"
wait_event() {
	local end=$(( $(date +%s%3N) + $3 ))
	while [ "$(date +%s%3N)" -lt "$end" ]; do
		"$CTL" --db "$1" events | grep -q "$2" && return 0
		sleep 0.1
	done
	return 1
}
check "a overwrites b's own edit and records that b's DB was ahead" -- \
	wait_event "$SB_DIR/a.db" "DB: b's database is at change_seq" 5000
check "b's own edit is gone" -- bash -c \
	"! '$CTL' --db '$SB_DIR/b.db' setting get auto_register 2>/dev/null | grep -q on"
ok "$(grep -q 'peer a dead\|peer b dead' "$SB_DIR"/a.log "$SB_DIR"/b.log; [ $? = 1 ]; echo $?)" \
	"heartbeats kept flowing (neither node saw the other dead)"

# After a takeover the direction reverses: b, now active, takes edits and ships them to a when
# a comes back (standing by: auto_failback is off); a refuses edits then.
sb_power_cut a
check "b takes over" -- sb_wait_state b active 3000
check "edits allowed on b now that it is active" -- \
	on b "$SB_DIR/b.db" client set --name PC001 --ip 10.77.0.99
sb_power_on a
SB_DB=$SB_DIR/a.db sb_start a
check "a back, standing by" -- sb_wait_state a standby 3000
a_has_ip() {
	local end=$(( $(date +%s%3N) + 3000 ))
	while [ "$(date +%s%3N)" -lt "$end" ]; do
		"$CTL" --db "$SB_DIR/a.db" client show PC001 | grep -q '^ip: *10.77.0.99$' && return 0
		sleep 0.05
	done
	return 1
}
check "b's edit reached a's DB" -- a_has_ip
# the guard lets an edit through, with a warning, when standbyd does not answer within 1 s
# (a loaded machine): asked again until refused, every answer kept for a failure's report
refuses_edit() {
	local out rc
	out=$(on a "$SB_DIR/a.db" setting set k v 2>&1)
	rc=$?
	seen="$seen | $rc:$out"
	[ "$rc:$out" = "1:vdiskctl setting set: this server is the standby (active: b); make changes on b" ]
}
seen=
wait_until 5000 refuses_edit
r=$?
ok $r "a, standing by, refuses edits and names b"
[ $r = 0 ] || diag "answers:$seen"
grep -i "DB" "$SB_DIR"/b.log | tail -8 | sed "s/^/# /"
check "no sanitizer report from the daemons" -- sb_logs_clean
done_testing
