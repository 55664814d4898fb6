#!/usr/bin/env bash
# Two vdiskctl processes writing at once: each command either succeeds or says the database
# is busy, and nothing that succeeded is lost.
source "$(dirname "$0")/../lib/tap.sh"
V=$BUILD/vdiskctl
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT
export VDISK_DB=$T/vdisk.db
"$V" init >/dev/null
for i in $(seq -w 1 50); do echo "PC0$i,52:54:00:00:00:$i"; done | sed '1i name,mac' >"$T/c.csv"
"$V" client import "$T/c.csv" >/dev/null
ok $? "50 clients to edit"

N=${SANITIZED:+10}; N=${N:-30}
writer_a() {	# toggles hot-standby on the whole batch
	local i ok=0 busy=0 other=0
	for i in $(seq 1 "$N"); do
		if [ $((i % 2)) = 1 ]; then v=on; else v=off; fi
		if "$V" client set --all --hot-standby $v >/dev/null 2>"$T/a.err"; then
			ok=$((ok + 1)); echo $v >"$T/a.last"
		elif grep -q busy "$T/a.err"; then busy=$((busy + 1)); else other=$((other + 1)); fi
	done
	echo "$ok $busy $other" >"$T/a.res"
}
writer_b() {	# adds clients one by one
	local i ok=0 busy=0 other=0
	for i in $(seq 1 "$N"); do
		if "$V" client add --name NEW$i --mac 52:54:00:aa:00:$(printf %02x "$i") \
			>/dev/null 2>"$T/b.err"; then
			ok=$((ok + 1))
		elif grep -q busy "$T/b.err"; then busy=$((busy + 1)); else other=$((other + 1)); fi
	done
	echo "$ok $busy $other" >"$T/b.res"
}
writer_a & writer_b & wait
read -r a_ok a_busy a_other <"$T/a.res"
read -r b_ok b_busy b_other <"$T/b.res"
diag "writer A: $a_ok ok, $a_busy busy; writer B: $b_ok ok, $b_busy busy"
is "$a_other" 0 "writer A: every failure is a clear busy error"
is "$b_other" 0 "writer B: every failure is a clear busy error"
is "$(sqlite3 "$VDISK_DB" "SELECT count(*) FROM clients WHERE name LIKE 'NEW%'")" "$b_ok" \
	"every client B was told it added is there"
want=$([ "$(cat "$T/a.last")" = on ] && echo 1 || echo 0)
is "$(sqlite3 "$VDISK_DB" "SELECT count(*) FROM clients WHERE name LIKE 'PC%' AND hot_standby=$want")" 50 \
	"A's last successful batch holds for all 50"
is "$(sqlite3 "$VDISK_DB" 'PRAGMA integrity_check')" ok "database intact"
done_testing
