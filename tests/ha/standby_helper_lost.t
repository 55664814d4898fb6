#!/bin/bash
# The helper lost on the active node while the peer is alive (stuck: SIGSTOP, found by the
# monitor's request timing out; then killed): the loss is no resource's failure. a's standbyd exits at once, saying nothing more to b (no failed resource, no
# release, no standby state: the address stays, as when standbyd is killed); b stays standby
# (it hears nothing, as from a killed standbyd, and the deadtime has not passed) until a's
# standbyd, restarted, resumes the role. Then once more without a restart: b takes a for
# dead only after the deadtime (and, the address answering from a, does not take it). The loops run unprivileged (--user nobody), as in production.
source "$(dirname "$0")/../lib/tap.sh"
need_root
SB_DEADTIME=3s
SB_WARNTIME=1s
SB_INITDEAD=6s
source "$SRCDIR/tests/ha/standby-lib.sh"

getent passwd nobody >/dev/null || skip_all "no user nobody"
chmod 711 "$SB_DIR"
SB_ARGS="--user nobody"
check "topology" -- sb_topology
chown nobody "$SB_DIR/a" "$SB_DIR/b"
sb_pair_up
check "client reaches a" -- sb_wait_fetch a 2000
# a few monitor rounds, so that a status check through the helper is likely under way
sleep 1

helper_pid() { sb_field "$1" helper | awk '{print $2}'; }
# b's state, sampled until told to stop: it must read standby throughout
watch_b() { while [ ! -e "$SB_DIR/stop" ]; do sb_state b >>"$SB_DIR/b.states"; sleep 0.05; done; }
watch_b &
watcher=$!
hp=$(helper_pid a)
lost_at=$(wc -l <"$SB_DIR/a.log")
t0=$(date +%s%3N)
# stuck rather than dead: the loss is found by a request (the monitor's status check) that
# gets no answer, the path where its -EPIPE could pass for the resource's failure
kill -STOP "$hp"
gone() { ! kill -0 "$SB_PID_a" 2>/dev/null; }
check "a's standbyd exits when its helper is stuck" -- wait_until 2000 gone
diag "helper stopped to standbyd gone: $(( $(date +%s%3N) - t0 )) ms"
check "and says why" -- sb_log_has a "privileged helper is lost"
check "found by a request's time" -- sb_log_has a "lost: no answer within its time"
kill -9 "$hp"	# what the service manager does with what is left of the unit
after=$(tail -n +"$((lost_at + 1))" "$SB_DIR/a.log")
ok "$(! echo "$after" | grep -qE "state [a-z_]+ -> |failed to start|not running|failed again"; echo $?)" \
	"a logged no state change and no resource failure after the loss"
check "the address stays on a" -- sb_has_vip a
sb_start a
check "restarted, a resumes the role" -- sb_wait_state a active 2000
check "service still on a" -- sb_wait_fetch a 1000
sleep 0.5
touch "$SB_DIR/stop"
wait "$watcher"
is "$(grep -v '^standby$' "$SB_DIR/b.states" | sort -u | xargs)" "" \
	"b stood by throughout ($(wc -l <"$SB_DIR/b.states") samples)"
ok "$(! sb_log_has b "taking over|-> taking_over|peer a dead"; echo $?)" \
	"b neither took over nor saw a dead"
is "$(sb_field a helper | awk '{print $4}')" "0" "a's new helper refused nothing"

# no restart this time: b takes a for dead after the deadtime, not before; the address
# still answers from a, so b does not take it (as for a killed standbyd: standby_killed.t)
kill -9 "$(helper_pid a)"
t0=$(date +%s%3N)
check "a's standbyd exits again" -- wait_until 2000 gone
check "b takes a for dead once a is silent for the deadtime" -- sb_wait_log b "peer a dead" 6000
t1=$(date +%s%3N)
diag "helper killed to b seeing a dead: $((t1 - t0)) ms (deadtime $SB_DEADTIME)"
ok "$([ $((t1 - t0)) -ge 2800 ]; echo $?)" "not before the deadtime"
check "b's takeover is refused: the address answers from a" -- \
	sb_wait_log b "takeover refused: the service address answers ARP" 5000
is "$(sb_state b)" "standby" "b stands by"
check "b never held the address" -- sb_lacks_vip b
check "no sanitizer report from the daemons" -- sb_logs_clean
done_testing
