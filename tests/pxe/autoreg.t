#!/bin/bash
# Auto-registration caps (issue 16, item 7: 300 random-MAC DISCOVERs made 300 clients and
# starved DHCP). Floods of PXE DISCOVERs from random MACs: at most auto_register_per_minute
# clients a minute and auto_register_max auto-registered clients in all are made, an event
# says when a cap is hit, and a known PC is answered promptly in the middle of each flood.
source "${SRCDIR:-$(dirname "$0")/../..}/tests/lib/tap.sh"
need_root
for tool in ip; do command -v $tool >/dev/null || skip_all "$tool not installed"; done
source "$SRCDIR/tests/pxe/pxe_env.sh"
px_netns || { echo "Bail out! cannot create namespaces"; exit 1; }

db client PC010 52:54:00:00:00:10
db group lab
db set auto_register on
db set auto_register_group lab
db set auto_register_per_minute 5
db set auto_register_max 8
px_conf dhcp "tftp = off"
px_start
ok $? "pxed starts with auto-registration on (5 a minute, 8 in all)"
autos() { sqlite3 "$T/db" "SELECT count(*) FROM clients WHERE auto_registered = 1"; }
received_at_least() { [ "$(px_status received)" -ge "$1" ]; }

# known_offer: PC010's DISCOVER, in the flood; prints the milliseconds to its OFFER.
known_offer() {
	local t0 out
	t0=$(date +%s%3N)
	out=$(px_client -m 52:54:00:00:00:10 --pxe 0 --timeout 1000)
	[ "$(px_field type <<<"$out")" = OFFER ] || return 1
	echo $(( $(date +%s%3N) - t0 ))
}

# 1: 300 random MACs at once. The per-minute cap holds.
px_client --pxe 0 --flood 300 >"$T/flood1" &
fp=$!
ms=$(known_offer)
ok $? "PC010 gets its OFFER in the middle of the flood (${ms:-no answer} ms)"
wait $fp
is "$(cat "$T/flood1")" sent=300 "300 DISCOVERs from random MACs sent"
wait_until 5000 received_at_least 301
ok $? "pxed read them all ($(px_status received) packets)"
is "$(autos)" 5 "5 clients registered: auto_register_per_minute holds"
is "$(px_status auto_registered)" 5 "status says 5 registered"
ok $([ "$(px_status auto_register_refused_rate)" -ge 290 ]; echo $?) "the rest refused by the per-minute cap ($(px_status auto_register_refused_rate))"
is "$(db events | grep -c 'auto-registration stopped: 5 clients registered within a minute')" 1 "one event says the per-minute cap was hit, not one per MAC"
is "$(sqlite3 "$T/db" "SELECT count(*) FROM clients WHERE auto_registered = 1 AND grp = 'lab' AND length(chap_secret) = 16")" 5 "each in the group, with its secrets"

# 2: the per-minute cap raised; the total cap holds.
db set auto_register_per_minute 1000
px_client --pxe 0 --flood 300 >"$T/flood2" &
fp=$!
ms=$(known_offer)
ok $? "PC010 gets its OFFER in the middle of the second flood (${ms:-no answer} ms)"
wait $fp
wait_until 5000 received_at_least 602
ok $? "pxed read the second flood"
is "$(autos)" 8 "8 auto-registered clients in all: auto_register_max holds"
ok $([ "$(px_status auto_register_refused_total)" -ge 280 ]; echo $?) "the rest refused by the total cap ($(px_status auto_register_refused_total))"
is "$(db events | grep -c 'auto-registration stopped: 8 auto-registered clients in the database')" 1 "one event says the total cap was hit"
out=$(px_client -m 52:54:00:00:00:10 --pxe 0 --dora)
is "$(sed -n '/^type=ACK/,$p' <<<"$out" | px_field type)" ACK "PC010 still gets its ACK after the floods"

# 3: the admin accepts one client (clears its flag): one more may be registered.
name=$(sqlite3 "$T/db" "SELECT name FROM clients WHERE auto_registered = 1 ORDER BY name LIMIT 1")
"$BUILD/vdiskctl" --db "$T/db" client set --name "$name" --auto-registered off >/dev/null
ok $? "vdiskctl client set --auto-registered off accepts $name"
px_client --pxe 0 --flood 20 >/dev/null
wait_until 5000 received_at_least 623
is "$(autos)" 8 "then exactly one more is registered"
is "$(sqlite3 "$T/db" "SELECT count(*) FROM clients")" 10 "10 clients in all: PC010, the accepted one, 8 auto-registered"
done_testing
