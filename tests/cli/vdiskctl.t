#!/usr/bin/env bash
# vdiskctl end to end on a scratch database: every command, every error path (exit status,
# one clear line, database unchanged), CSV import all-or-nothing, JSON output.
source "$(dirname "$0")/../lib/tap.sh"
V=$BUILD/vdiskctl
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT
export VDISK_DB=$T/vdisk.db

# Runs vdiskctl, keeping stdout in $T/out and stderr in $T/err; sets $rc.
run() { "$V" "$@" >"$T/out" 2>"$T/err"; rc=$?; }
dump() { sqlite3 "$VDISK_DB" .dump | md5sum; }
# expect_fail RC PATTERN DESCRIPTION -- ARGS: fails with RC, one stderr line matching
# PATTERN, and the database is exactly as before.
expect_fail() {
	local want=$1 pat=$2 desc=$3; shift 4
	local before; before=$(dump)
	run "$@"
	local lines; lines=$(wc -l <"$T/err")
	if [ "$rc" = "$want" ] && [ "$lines" -ge 1 ] && grep -q -- "$pat" "$T/err" &&
	   [ "$(dump)" = "$before" ]; then ok 0 "$desc"; else
		ok 1 "$desc"; diag "rc=$rc want=$want err: $(cat "$T/err")"; fi
}

run client list
is "$rc" 1 "no database yet: runtime failure"
grep -q "no database at $VDISK_DB" "$T/err"; ok $? "message says there is no database and how to make one"
[ ! -e "$VDISK_DB" ]; ok $? "and no file was created"

run init
is "$rc" 0 "init creates the database"
is "$(sqlite3 "$VDISK_DB" 'PRAGMA user_version')" 4 "schema version recorded"
is "$(stat -c %a "$VDISK_DB")" 640 "the database (CHAP secrets) is not world-readable"
is "$(sqlite3 "$VDISK_DB" 'PRAGMA journal_mode')" wal "WAL mode"
run init
is "$rc" 0 "init again is harmless"

run image add win10 --path "$T/win10.img" --size 1073741824
is "$rc" 0 "image add with --size for a file not here yet"
truncate -s 64M "$T/lab.img"
run image add lab --path "$T/lab.img"
is "$rc" 0 "image add reads the size of an existing file"
run image list --json
grep -q '"size":67108864' "$T/out"; ok $? "image list --json shows the size"
run group add hall --image win10
is "$rc" 0 "group add with a default image"
run group add vip
run server add srv-a --role primary --service-addr 192.0.2.10 --ha-addr 10.99.0.1
is "$rc" 0 "server add primary"
run server add srv-b --role secondary --service-addr 192.0.2.10 --ha-addr 10.99.0.2
is "$rc" 0 "server add secondary"

for i in $(seq -w 1 12); do
	run client add --name PC0$i --mac 52:54:00:00:01:$i --ip 192.0.2.1$i --group hall \
		--server srv-a
	[ "$rc" = 0 ] || break
done
is "$rc" 0 "twelve clients added"
run client show PC001 --json
grep -q '"image":"win10"' "$T/out"; ok $? "the group's default image applies"
grep -q '"iqn":"iqn.2026-11.lan.vdisk:pc001"' "$T/out"; ok $? "iqn derived from the name"
run client show 52-54-00-00-01-02
grep -q '^name: *PC002' "$T/out"; ok $? "show by MAC in another notation"

run client set --range PC001-PC008 --hot-standby on --dry-run
is "$rc" 0 "dry run"
grep -q '8 of 8 selected clients would change' "$T/out"; ok $? "dry run counts what would change"
is "$(sqlite3 "$VDISK_DB" 'SELECT count(*) FROM clients WHERE hot_standby=1')" 0 "dry run writes nothing"
run client set --range PC001-PC008 --hot-standby on
grep -q '^8 clients changed' "$T/out"; ok $? "batch set reports how many changed"
is "$(sqlite3 "$VDISK_DB" 'SELECT group_concat(name) FROM clients WHERE hot_standby=1 ORDER BY name')" \
	"PC001,PC002,PC003,PC004,PC005,PC006,PC007,PC008" "exactly the range changed"
run client set --range PC005-PC012 --hot-standby on
grep -q '^4 clients changed (8 selected)' "$T/out"; ok $? "already-set clients are not counted"
grep -q "client set: 8 clients changed (PC001 .. PC008): hot_standby=on" <(sqlite3 "$VDISK_DB" 'SELECT message FROM events'); ok $? "an event says what changed and how many"

run client set --name 'pc01*' --ip-range 192.0.2.110-192.0.2.111 --overlay persistent
grep -q '^2 clients changed' "$T/out"; ok $? "glob AND ip-range"
run client set --mac 52:54:00:00:01:03,52:54:00:00:01:04 --set-group vip --enabled off
grep -q '^2 clients changed' "$T/out"; ok $? "MAC list selection, group and enabled change"
run client list --group vip --json
is "$(grep -c '"name"' "$T/out")" 2 "list --group --json"
run client set --name PC003 --new-name LAB001 --ip none
is "$rc" 0 "rename and clear the IP"
run client show LAB001 --json
grep -q '"iqn":"iqn.2026-11.lan.vdisk:lab001","' "$T/out" && grep -q '"ip":""' "$T/out"; ok $? "iqn follows the new name; IP cleared"

# Error paths: exit status, one clear line, database unchanged.
expect_fail 2 "unknown option '--colour'" "unknown option" -- client set --all --colour red
expect_fail 2 "needs a value" "missing option value" -- client set --all --ip
expect_fail 2 "not a MAC address" "bad MAC on add" -- client add --name PC100 --mac 52:54:00
expect_fail 2 "not an IPv4 address" "bad IP on add" -- client add --name PC100 --mac 52:54:00:00:09:99 --ip 192.0.2.300
expect_fail 1 "only letters, digits" "bad name" -- client add --name 'PC 100' --mac 52:54:00:00:09:99
expect_fail 1 "already in use" "duplicate MAC" -- client add --name PC100 --mac 52:54:00:00:01:01
expect_fail 1 "no group 'nosuch'" "unknown group" -- client add --name PC100 --mac 52:54:00:00:09:99 --group nosuch
expect_fail 2 "--name and --mac are required" "add without mac" -- client add --name PC100
expect_fail 1 "no client matches the selection" "empty selection" -- client set --range PC900-PC999 --hot-standby on
expect_fail 2 "no selection" "set without selection" -- client set --hot-standby on
expect_fail 2 "nothing to change" "set without fields" -- client set --all
expect_fail 2 "first end is after the last" "reversed range" -- client set --range PC080-PC001 --hot-standby on
expect_fail 2 "expected on or off" "bad boolean" -- client set --all --hot-standby maybe
expect_fail 2 "expected restore or persistent" "bad overlay mode" -- client set --all --overlay sometimes
expect_fail 2 "unique per client" "one IP for many clients" -- client set --all --ip 192.0.2.250
expect_fail 1 "already in use" "rename onto an existing name" -- client set --name PC001 --new-name pc002
expect_fail 2 "unknown command 'client frob'" "unknown subcommand" -- client frob
expect_fail 2 "unknown command 'frob'" "unknown command" -- frob
expect_fail 1 "no client 'PC999'" "show unknown" -- client show PC999

# Servers: the pair's rules.
expect_fail 1 "already primary" "a third server cannot be primary" -- server add srv-c --role primary
run server add srv-c
expect_fail 1 "is already primary and srv-c is not secondary" "role refused to a server outside the pair" -- server mark srv-c primary
run server mark srv-b primary
is "$rc" 0 "mark the secondary primary: the pair swaps"
is "$(sqlite3 "$VDISK_DB" "SELECT name||'='||role FROM servers WHERE role IS NOT NULL ORDER BY name" | tr '\n' ' ')" \
	"srv-a=secondary srv-b=primary " "one primary, one secondary after the swap"
run server mark srv-a maintenance
is "$rc" 0 "secondary to maintenance"
expect_fail 1 "only active server of the pair" "the last active server is not taken out" -- server mark srv-b disabled
expect_fail 2 "expected primary, secondary" "unknown mark" -- server mark srv-b asleep
expect_fail 1 "no server 'srv-z'" "unknown server" -- server mark srv-z active
run server list --json
grep -q '"name":"srv-a","role":"secondary","mark":"maintenance"' "$T/out"; ok $? "server list --json"

# CSV import: every bad row reported with its line number, nothing written.
cat >"$T/bad.csv" <<'CSV'
mac,name,hot_standby,group
52:54:00:00:02:01,PC101,on,hall
52:54:00:00:02:02,PC102,maybe,hall
52:54:00:00:zz:03,PC103,off,hall
52:54:00:00:02:01,PC104,off,hall
52:54:00:00:02:05,PC001,off,hall
52:54:00:00:02:06,PC106,off,nosuch
52:54:00:00:02:07,"PC107,x",off,hall
CSV
expect_fail 1 "6 bad rows, nothing imported" "import with bad rows refused whole" -- client import "$T/bad.csv"
grep -q '^line 3: hot_standby' "$T/err"; ok $? "bad boolean reported at line 3"
grep -q '^line 4: .*not a MAC' "$T/err"; ok $? "bad MAC reported at line 4"
grep -q "^line 5: mac '52:54:00:00:02:01' also on line 2" "$T/err"; ok $? "duplicate inside the file names both lines"
grep -q "^line 6: name 'PC001' already exists in the database" "$T/err"; ok $? "duplicate against the database"
grep -q "^line 7: unknown group 'nosuch'" "$T/err"; ok $? "unknown group"
grep -q "^line 8: " "$T/err"; ok $? "bad name in quotes"
printf 'name,mac,colour\nPC1,52:54:00:00:00:01,red\n' >"$T/hdr.csv"
expect_fail 1 "unknown column 'colour'" "unknown column in the header" -- client import "$T/hdr.csv"
printf 'name,ip\nPC1,192.0.2.9\n' >"$T/nomac.csv"
expect_fail 1 "needs the columns name and mac" "header without mac" -- client import "$T/nomac.csv"
expect_fail 1 "cannot read" "missing file" -- client import "$T/nosuch.csv"

{ echo "overlay,ip,name,mac,group,image,server,hot_standby"
  for i in $(seq 200 299); do echo "persistent,192.0.3.$((i-100)),PC$i,52:54:00:00:03:$(printf %02x $((i-200))),vip,lab,srv-b,on"; done
} >"$T/good.csv"
run client import "$T/good.csv" --dry-run
grep -q '100 clients would be imported' "$T/out"; ok $? "import dry run"
run client import "$T/good.csv"
is "$rc" 0 "import of 100 rows, columns in any order"
is "$(sqlite3 "$VDISK_DB" "SELECT count(*) FROM clients WHERE name LIKE 'PC2%' AND overlay='persistent' AND hot_standby=1 AND image='lab'")" 100 "every imported field stored"
run client export --group vip
is "$(head -1 "$T/out")" "name,mac,ip,group,image,server,hot_standby,overlay" "export header"
cp "$T/out" "$T/export.csv"
run client del --group vip --dry-run
grep -q 'clients would be deleted' "$T/out"; ok $? "del dry run"
run client del --group vip
is "$rc" 0 "del a group's clients"
run client import "$T/export.csv"
is "$rc" 0 "an export imports back"
run client export --format json --output "$T/e.json" --range PC200-PC209
is "$(grep -c '"name"' "$T/e.json")" 10 "JSON export of a range to a file"

# CHAP secrets: made for every imported client, shown only when asked, renewed in a batch.
is "$(sqlite3 "$VDISK_DB" "SELECT count(*) FROM clients WHERE length(chap_secret) = 16 AND length(chap_target_secret) = 16 AND chap_secret <> chap_target_secret")" "$(sqlite3 "$VDISK_DB" "SELECT count(*) FROM clients")" "every client has two different 16-character secrets"
s201=$(sqlite3 "$VDISK_DB" "SELECT chap_secret FROM clients WHERE name = 'PC201'")
t201=$(sqlite3 "$VDISK_DB" "SELECT chap_target_secret FROM clients WHERE name = 'PC201'")
run client show PC201
check "show without --secrets prints no secret" -- sh -c "! grep -q -e '$s201' -e '$t201' -e chap '$T/out'"
run client show PC201 --json
check "nor does show --json" -- sh -c "! grep -q -e '$s201' -e '$t201' '$T/out'"
run client list --all --json
check "nor list --json" -- sh -c "! grep -q -e '$s201' -e '$t201' -e chap '$T/out'"
run client export --all
check "nor the CSV export" -- sh -c "! grep -q -e '$s201' -e '$t201' -e secret '$T/out'"
run client show PC201 --secrets
is "$(sed -n 's/^chap-secret: //p' "$T/out")" "$s201" "show --secrets prints the initiator's secret"
is "$(sed -n 's/^chap-target-secret: //p' "$T/out")" "$t201" "and the target's"
run client show PC201 --secrets --json
check "show --secrets --json has both as members" -- grep -q "\"chap_secret\":\"$s201\",\"chap_target_secret\":\"$t201\"}" "$T/out"
run client set --range PC200-PC202 --new-secrets --dry-run
is "$(grep -c 'new CHAP secrets' "$T/out")" 3 "--new-secrets --dry-run lists the three clients"
is "$(sqlite3 "$VDISK_DB" "SELECT chap_secret FROM clients WHERE name = 'PC201'")" "$s201" "and changes nothing"
run client set --range PC200-PC202 --new-secrets
grep -q '^3 clients changed' "$T/out"; ok $? "--new-secrets renews three clients' secrets"
ns=$(sqlite3 "$VDISK_DB" "SELECT chap_secret FROM clients WHERE name = 'PC201'")
nt=$(sqlite3 "$VDISK_DB" "SELECT chap_target_secret FROM clients WHERE name = 'PC201'")
ok $([ "$ns" != "$s201" ] && [ "$nt" != "$t201" ] && [ ${#ns} = 16 ]; echo $?) "both of PC201's secrets are new"
run events --limit 1
check "an event says so, without the secrets" -- sh -c "grep -q 'new CHAP secrets' '$T/out' && ! grep -q -e '$ns' -e '$nt' '$T/out'"
printf 'name,mac,chap_secret\nPC900,52:54:00:00:09:00,abcdefghijklmnop\n' >"$T/secret.csv"
expect_fail 1 "CHAP secrets are not imported" "import refuses a secret column" -- client import "$T/secret.csv"

run setting set auto_register on
run setting get auto_register
is "$(cat "$T/out")" on "settings round trip"
expect_fail 1 "kept by the database" "change_seq is not settable" -- setting set change_seq 5
run events --limit 3 --json
is "$(grep -c '"message"' "$T/out")" 3 "events --limit --json"

# A corrupt database: clear message, exit 1.
head -c 8192 /dev/urandom >"$T/corrupt.db"
VDISK_DB=$T/corrupt.db run client list
is "$rc" 1 "corrupt database: runtime failure"
grep -q 'corrupt or not a database\|not a vdisk database' "$T/err"; ok $? "says the file is corrupt: $(cat "$T/err")"

# A database locked by another writer: clear busy error, nothing changed.
before=$(dump)
# The writer says when it holds the lock and keeps it until told (or 30 s): no race with its
# start, nor with the end of its hold.
rm -f "$T/locked" "$T/release"
sqlite3 "$VDISK_DB" 'BEGIN IMMEDIATE; SELECT 1;' ".shell touch '$T/locked'" \
	".shell for i in \$(seq 600); do [ -e '$T/release' ] && break; sleep 0.05; done" \
	'COMMIT;' >/dev/null &
locker=$!
wait_until 10000 test -e "$T/locked" || diag "the writer never took the lock"
VDISK_DB_TIMEOUT_MS=200 run client set --all --hot-standby off
touch "$T/release"
wait $locker
is "$rc" 1 "locked database: runtime failure"
grep -q 'busy' "$T/err"; ok $? "says the database is busy: $(cat "$T/err")"
is "$(dump)" "$before" "database unchanged"

# backup: a consistent copy, mode 0600, never over an existing file
run backup "$T/copy.db"
is "$rc" 0 "backup: exit 0"
is "$(stat -c %a "$T/copy.db")" 600 "the copy is mode 0600 (it holds the CHAP secrets)"
is "$(VDISK_DB=$T/copy.db "$V" client list --json | md5sum)" "$("$V" client list --json | md5sum)" \
	"the copy lists the same clients"
expect_fail 1 "copy.db: File exists" "backup over an existing file refused" -- backup "$T/copy.db"
VDISK_DB=$T/absent.db run backup "$T/copy2.db"
is "$rc" 1 "backup of a missing database: runtime failure"
[ ! -e "$T/copy2.db" ]; ok $? "and no copy is left behind"
run --version
is "$rc" 0 "--version: exit 0"
grep -q '^vdiskctl (vdisk) [0-9]' "$T/out"; ok $? "--version names the program and the version"

done_testing
