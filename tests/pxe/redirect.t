#!/bin/bash
# Hot-standby redirection: pxed on server B answers server A's clients only when standbyd
# says B is active and A is dead, and only those with hot_standby set; B's own clients are
# always answered; every refusal leaves an event saying why. standbyd is a fake control
# socket whose answer the test changes.
source "${SRCDIR:-$(dirname "$0")/../..}/tests/lib/tap.sh"
need_root
command -v ip >/dev/null || skip_all "iproute2 not installed"
[ -f /usr/lib/ipxe/undionly.kpxe ] || skip_all "ipxe package not installed"
source "$SRCDIR/tests/pxe/pxe_env.sh"
px_netns || { echo "Bail out! cannot create namespaces"; exit 1; }

db server A primary
db server B secondary
db client PC001 52:54:00:00:00:01 server=A hot_standby=1
db client PC002 52:54:00:00:00:02 server=A hot_standby=0
db client PC003 52:54:00:00:00:03 server=B
db client PC004 52:54:00:00:00:04
# standby STATE PEER_STATUS: the fake standbyd's status answer from now on (peer A, alive or
# dead). Then a wait for a time, not a condition: pxed keeps standbyd's last answer for 1 s
# (STANDBY_REFRESH_MS in pxe_clients.c).
standby() {
	printf '{"status":{"ok":true,"node":"B","state":"%s","peer":"A","peer_status":"%s"}}\n' \
		"$1" "$2" > "$T/standbyd.reply.new" && mv "$T/standbyd.reply.new" "$T/standbyd.reply"
	sleep 1.1
}
events() { "$BUILD/tests/helpers/pxe_dbseed" "$T/db" events; }
answer() { px_client -m "$1" --pxe 0 --timeout 600 | px_field type; }

standby standby alive
"$BUILD/tests/helpers/ctl_fake" "$T/standbyd.sock" "$T/standbyd.log" "$T/standbyd.reply" &
PX_PIDS="$PX_PIDS $!"
px_wait_sock "$T/standbyd.sock"
px_conf dhcp "node = B" "tftp = off"
px_start
ok $? "pxed starts as node B"

is "$(answer 52:54:00:00:00:03)" OFFER "B's own client is answered"
is "$(answer 52:54:00:00:00:04)" OFFER "an unassigned client is answered"
is "$(answer 52:54:00:00:00:01)" "" "A alive, B standby: A's hot-standby client gets silence"
check "event: B is not active" -- sh -c "'$BUILD/tests/helpers/pxe_dbseed' '$T/db' events | grep -q 'PC001 belongs to A: B is standby, not active'"
check "pxed asked standbyd for its status" -- grep -qx status "$T/standbyd.log"

standby active alive
is "$(answer 52:54:00:00:00:01)" "" "B active but A alive: still silence"
check "event: A is alive" -- sh -c "'$BUILD/tests/helpers/pxe_dbseed' '$T/db' events | grep -q 'PC001 belongs to A, which is alive'"

standby active dead
is "$(answer 52:54:00:00:00:01)" OFFER "A dead, B active: A's hot-standby client is answered"
check "event: answered for dead A" -- sh -c "'$BUILD/tests/helpers/pxe_dbseed' '$T/db' events | grep -q 'PC001 answered by B for dead A (hot standby)'"
is "$(answer 52:54:00:00:00:02)" "" "A's client without hot standby gets silence"
check "event: no hot standby" -- sh -c "'$BUILD/tests/helpers/pxe_dbseed' '$T/db' events | grep -q 'PC002 belongs to A and has no hot standby'"
out=$(px_client -m 52:54:00:00:00:01 --ipxe)
is "$(px_field file <<<"$out")" http://10.77.0.1:8069/ipxe/52-54-00-00-00-01.ipxe "the redirected client's iPXE gets its script's URL, on the service address"
is "$(px_status takeover_answers)" 2 "takeover answers counted"

n=$(events | grep -c 'PC002 belongs to A and has no hot standby')
answer 52:54:00:00:00:02 >/dev/null
is "$(events | grep -c 'PC002 belongs to A and has no hot standby')" "$n" "a retry does not add the same event again"

kill $PX_PIDS; wait $PX_PIDS 2>/dev/null; PX_PIDS=
sleep 1.1	# past pxed's 1 s cache of standbyd's answer (above)
is "$(answer 52:54:00:00:00:01)" "" "standbyd gone: A's clients get silence"
check "event: standbyd not reachable" -- sh -c "'$BUILD/tests/helpers/pxe_dbseed' '$T/db' events | grep -q 'standbyd not reachable'"
is "$(answer 52:54:00:00:00:03)" OFFER "B's own client is still answered"
done_testing
