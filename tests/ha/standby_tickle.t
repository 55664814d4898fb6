#!/bin/bash
# Tickle ACKs: a client holds a TCP connection to the service address on the active node,
# which is power-cut. With tickle_acks on (the default) the new active node tickles the
# connection the old one shipped to it, and the client's socket fails within the takeover
# time plus 500 ms, whether it was writing (data in flight, as an initiator doing I/O) or
# only waiting to read. With tickle_acks off the writing client waits for its retransmission
# back-off to reach the new node, and the idle one does not find out at all. Both figures
# are printed. Before that, lists made by hand: a signed one is kept, foreign, unsorted and
# unauthentic ones are refused. TK_RUNS (default 2) sets the writing runs per setting.
source "$(dirname "$0")/../lib/tap.sh"
need_root
SB_PREFIX=tk
source "$SRCDIR/tests/ha/standby-lib.sh"
HOLD=$BUILD/tests/helpers/standby_tcphold
PORT=47400
RUNS=${TK_RUNS:-2}
ACTIVE=a

other() { if [ "$1" = a ]; then echo b; else echo a; fi; }

listening() { ip netns exec "$(ns_of "$1")" ss -Hltn "sport = :$PORT" | grep -q .; }
held() { [ "$(sb_member "$1" tickle_acks held)" = "$2" ]; }
client_line() { grep -q "^$1" "$SB_DIR/client"; }

# round MODE TICKLE: a client connection in MODE (write|idle) to the service on $ACTIVE,
# then a power cut of $ACTIVE; the other node takes over, $ACTIVE comes back standing by.
# Sets STALL (power cut to the client's error, ms; "" when it saw none within 4 s) and
# TAKEOVER (power cut to the address answering at the new MAC, ms).
round() {
	local mode=$1 tickle=$2 act=$ACTIVE sby cpid watch t0 t1 mac word t2
	sby=$(other "$act")
	STALL= TAKEOVER=
	ip netns exec "$(ns_of "$act")" "$HOLD" serve $PORT </dev/null >/dev/null 2>&1 &
	disown	# the power cut kills it
	wait_until 2000 listening "$act" || { ok 1 "listener on $act"; return; }
	ip netns exec "$NS_C" "$HOLD" client $SB_VIP $PORT 4000 "$mode" >"$SB_DIR/client" &
	cpid=$!
	wait_until 2000 client_line connected || { ok 1 "client connected to $act"; return; }
	if [ "$tickle" = on ]; then
		check "$sby holds the list of $act's one connection ($mode)" -- \
			wait_until 3000 held "$sby" 1
	else
		sleep 1.2	# not a wait: as long as a list would take, so both settings start alike
	fi
	sb_arpwatch "$(sb_mac "$act")" 3000 "$SB_DIR/watch"
	watch=$SB_WATCH
	t0=$(date +%s%3N)
	sb_power_cut "$act"
	wait $watch
	read -r t1 mac <"$SB_DIR/watch"
	wait $cpid
	read -r word t2 _ < <(tail -n 1 "$SB_DIR/client")
	[ -n "$t1" ] && TAKEOVER=$((t1 - t0))
	[ "$word" = error ] && STALL=$((t2 - t0))
	check "$sby active after the cut" -- sb_wait_state "$sby" active 3000
	sb_power_on "$act"
	sb_start "$act"
	check "$act back, standing by" -- sb_wait_state "$act" standby 3000
	ACTIVE=$sby
}

check "topology" -- sb_topology
sb_pair_up
is "$(sb_member a tickle_acks state)" on "tickle_acks on by default"

# Lists made by hand, from a's HA-link address (the only one b takes transfers from): a
# signed one is kept; one naming an address that is not a service address, an unsorted one
# and one signed with another key are refused, and b keeps what it held.
counter() { sb_member "$1" tickle_acks "$2"; }
received() { [ "$(counter b lists_received)" -ge "$1" ]; }
forge() { sb_ns_exec a "$BUILD/tests/helpers/standby_listforge" 10.78.0.2 694 sbtest a "$@"; }
KEY=$SB_SHIPKEY
check "b received a's first list" -- wait_until 3000 received 1
is "$(forge $KEY $SB_VIP:$PORT-10.77.0.10:1000 $SB_VIP:$PORT-10.77.0.11:1000)" applied \
	"a signed list of two is taken"
check "b holds it" -- held b 2
is "$(forge $KEY 10.77.0.1:$PORT-10.77.0.10:1000)" "refused -74" \
	"a list naming a local address that is not a service address is refused"
is "$(forge $KEY $SB_VIP:$PORT-10.77.0.11:1000 $SB_VIP:$PORT-10.77.0.10:1000)" "refused -74" \
	"an unsorted list is refused"
is "$(forge 2:not-the-key $SB_VIP:$PORT-10.77.0.10:1)" closed \
	"a list signed with another key is refused"
check "b still holds the signed list of two" -- held b 2

with=
for i in $(seq "$RUNS"); do
	from=$ACTIVE
	round write on
	ok "$([ -n "$STALL" ] && [ -n "$TAKEOVER" ] && [ "$STALL" -le $((TAKEOVER + 500)) ]
	      echo $?)" "tickle on, writing client: error ${STALL:-never} ms after the cut, takeover ${TAKEOVER:-?} ms"
	with+=" $STALL/$TAKEOVER"
	check "$(other "$from") logged the tickle" -- \
		grep -q "tickle ACKs: 1 connection tickled" "$SB_DIR/$(other "$from").log"
done
round idle on
ok "$([ -n "$STALL" ] && [ -n "$TAKEOVER" ] && [ "$STALL" -le $((TAKEOVER + 500)) ]; echo $?)" \
	"tickle on, idle client: error ${STALL:-never} ms after the cut, takeover ${TAKEOVER:-?} ms"
with_idle="$STALL/$TAKEOVER"

# The same without tickle ACKs: both daemons restarted on the changed ha.cf.
for n in a b; do kill "$(eval echo "\$SB_PID_$n")"; done
gone() { ! kill -0 "$SB_PID_a" 2>/dev/null && ! kill -0 "$SB_PID_b" 2>/dev/null; }
wait_until 5000 gone
for n in a b; do SB_TICKLE=off sb_config "$n"; done
ACTIVE=a
sb_pair_up
is "$(sb_member a tickle_acks state)" off "tickle_acks off in ha.cf shows in status"
without=
for i in $(seq "$RUNS"); do
	round write off
	ok "$([ -n "$TAKEOVER" ]; echo $?)" "tickle off, writing client: error ${STALL:-never} ms after the cut, takeover ${TAKEOVER:-?} ms"
	without+=" ${STALL:-none}/$TAKEOVER"
done
round idle off
is "${STALL:-none}" none "tickle off, idle client: no error within 4 s of the cut"

diag "client error / takeover after the power cut, ms (write):  with tickle$with;  without$without"
diag "idle client: with tickle $with_idle; without: no error within 4 s"
check "no sanitizer report from the daemons" -- sb_logs_clean
done_testing
