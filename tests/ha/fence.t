#!/bin/bash
# Fencing of a degraded primary (docs/mirror.md, "Fencing"): no acknowledged write is lost
# through a single fault, nor through the compound fault "the HA link fails, then the primary
# loses power". A pair with standbyd and vdiskd in namespaces (heartbeats on the LAN and on
# the HA link), PC001 writing through the service address with a patient initiator; every
# acknowledged write is read back right after each reconnect. Each trial is one of:
#   hacut     the HA cable pulled: the active's writes go on once the standby's copy is
#             marked outdated over the LAN; the standby does not take over; the stall is
#             measured (under 2 s, short of the mirror's 3 s timeout; one heartbeat round
#             trip unloaded); the cable back: resync, the mark cleared.
#   compound  the HA cable pulled, then the active's power cut: the standby refuses to take
#             over with its outdated copy (a loud event); the power back: the old active
#             serves every acknowledged write, and the standby's copy counts as current only
#             once the old active's resync is done (its state file keeps the peer outdated).
#   mirror    only the standby's vdiskd dies (kill -9), its standbyd alive: fenced through
#             the heartbeats; then the active's power cut: the standby refuses.
#   restart   the HA cable pulled, then the active's vdiskd killed and started again: the
#             standby's copy stays outdated (the new vdiskd says in-sync before it has
#             reopened anything).
#   stop      the HA cable pulled, then the active's standbyd stopped and started again: it
#             takes the role back, and the standby's copy counts as current only after
#             the resync (writes apart acknowledged keep it outdated across the stop).
#   standby   the standby's power cut: the active holds writes until it is dead (deadtime),
#             then goes on.
#   isolated  the active's LAN and HA links down while it runs (its processes stopped across
#             the cut, so the peer's last heartbeats are handled after it): it never counts
#             its writes apart as done, not once its LAN is back before the HA link; the
#             standby takes over; the links back, it gives way and is resynced without a
#             split brain.
#   active    the active's power cut: the standby takes over with every acknowledged write.
# FENCE_TRIALS rounds of the eight (default 1; FENCE_SCENARIOS names fewer), deadtime
# SB_DEADTIME (default 1s); make soak runs it round after round with 1s and 30s in turn
# (tests/ha/fence-soak.sh). With FENCE_USER (tests/ha/fence_unpriv.t: nobody) standbyd's
# loops run as that user, as the packages run them as vdisk-ha (mr_unpriv), and each trial
# checks that the loops which fenced are that user's with no capability; at the end, vdiskd's
# socket closed to that user is named in the loop's log.
source "$(dirname "$0")/../lib/tap.sh"
SB_DEADTIME=${SB_DEADTIME:-1s}
SB_KEEPALIVE=${SB_KEEPALIVE:-200ms}
SB_WARNTIME=${SB_WARNTIME:-600ms}
SB_INITDEAD=${SB_INITDEAD:-$(( ${SB_DEADTIME%s} * 2 ))s}
MR_MIRROR_TIMEOUT_MS=${MR_MIRROR_TIMEOUT_MS:-3000}	# the product's default
MR_FENCE=standbyd
source "$SRCDIR/tests/mirror/mirror-lib.sh"
mr_require
TRIALS=${FENCE_TRIALS:-1}
DEAD_MS=$(( ${SB_DEADTIME%s} * 1000 ))
T_START=$(date +%s)

check "topology" -- sb_topology
check "database, secret, haresources" -- mr_setup
[ -n "${FENCE_USER:-}" ] && check "standbyd's loops to run as $FENCE_USER" -- mr_unpriv "$FENCE_USER"
check "a's vdiskd" -- mr_vdiskd_start a secondary
check "b's vdiskd" -- mr_vdiskd_start b secondary
SB_DB=$SB_DIR/a/vdisk.db sb_start a
SB_DB=$SB_DIR/b/vdisk.db sb_start b
check "a active" -- sb_wait_state a active 10000
check "b standby" -- sb_wait_state b standby 5000
# a PC stays logged in, so the mirror stays open between trials (reopen.t covers reopening)
mr_seqio_bg "$SB_DIR/hold.out" "$SB_DIR/hold.err" hold "$SB_VIP:3260" "$MR_INI_HS" /dev/null \
	--replacement-ms 600000
HOLD=$MR_BG
check "a's mirror in sync with b" -- mr_wait_mirror a in-sync 20000

act=a stb=b
LOG=$SB_DIR/writes.seq
lost_total=0 stalls=""

data_is() { [ "$(sb_field "$1" data | cut -d' ' -f1)" = "$2" ]; }
# fence_is NODE "STATE [peer WORD]": the member fence of NODE's vdiskd status, an object
# ctl_ask prints on one line: "fence: state done peer outdated fences N"
fence_is() { mr_vstatus "$1" | grep -q "^fence: state $2"; }
# refusals NODE: how many times NODE's standbyd refused a takeover for its outdated copy
refusals() { grep -c "takeover refused: this node's copy of the hot-standby disks is outdated" \
	"$SB_DIR/$1.log"; }
refused_more() { [ "$(refusals "$1")" -gt "$2" ]; }

# loops_unpriv TAG: with FENCE_USER, both standbyd loops, which have just fenced, are that
# user's with no capability (a root loop cannot pass for one)
loops_unpriv() {
	[ -n "${FENCE_USER:-}" ] || return 0
	mr_loop_unpriv "$act" "$FENCE_USER" && mr_loop_unpriv "$stb" "$FENCE_USER"
	ok $? "$1: $act's and $stb's standbyd loops run as $FENCE_USER, no capability"
}

# writer_start TAG [IO_TIMEOUT_MS]: PC001 writes through the service address until
# writer_stop; an initiator that waits out an outage (Windows' iSCSI defaults hold I/O for
# 60 s and more), 120 s unless told
writer_start() {
	mr_seqio_bg "$SB_DIR/$1.out" "$SB_DIR/$1.err" write "$SB_VIP:3260" "$MR_INI_HS" "$LOG" \
		--blocks 4096 --qd 8 --replacement-ms 600000 --io-timeout-ms "${2:-120000}"
	W=$MR_BG
	mr_wait_records "$LOG" "$(mr_log_records "$LOG")" 10000
}
# writer_more N MS: N more writes acknowledged within MS
writer_more() { mr_wait_records "$LOG" $(( $(mr_log_records "$LOG") + $1 )) "$2"; }
writer_stop() {
	kill -TERM "$W"
	wait "$W"
	W_OUT=$(cat "$SB_DIR/$1.out")
}
# verify TAG: every acknowledged write reads back through the service address
verify() {
	local out n
	out=$(mr_seqio verify "$SB_VIP:3260" "$MR_INI_HS" "$LOG" --replacement-ms 30000 \
		2>"$SB_DIR/$1.verify.err")
	n=$(mr_field "$out" lost)
	is "${n:-x}" 0 "$1: every acknowledged write reads back ($out)"
	[ "${n:-x}" = 0 ] || { lost_total=$((lost_total + 1)); head -5 "$SB_DIR/$1.verify.err" |
		sed 's/^/#   /'; }
}
# random_ms LO SPAN: sleeps LO + a random part of SPAN ms (writes go on meanwhile)
random_ms() { local d=$(( $1 + RANDOM % $2 )); sleep "$((d / 1000)).$(printf %03d $((d % 1000)))"; }
# back_in_sync: both standbyds up, the active's mirror in sync, the standby's copy current
back_in_sync() {
	mr_wait_mirror "$act" in-sync 60000 && wait_until 10000 data_is "$stb" current
}
# power_back NODE: NODE powered on: its vdiskd and standbyd start, it stands by (or takes the
# role, when the other's copy is outdated)
power_back() {
	sb_power_on "$1"
	mr_vdiskd_start "$1" secondary
	SB_DB=$SB_DIR/$1/vdisk.db sb_start "$1"
}

trial_hacut() {
	local tag=hacut$1 t0
	writer_start "$tag"
	random_ms 200 800
	t0=$(date +%s%3N)
	ip -n "$(ns_of "$act")" link set ha0 down
	check "$tag: $stb's copy marked outdated over the LAN" -- wait_until 5000 data_is "$stb" outdated
	check "$tag: $act's vdiskd fenced it and goes on" -- wait_until 5000 fence_is "$act" "done peer outdated"
	check "$tag: writes go on" -- writer_more 200 10000
	diag "$tag: fenced $(( $(date +%s%3N) - t0 )) ms after the cable was pulled"
	loops_unpriv "$tag"
	is "$(sb_state "$stb")" standby "$tag: $stb stays standby (heartbeats on the LAN)"
	ip -n "$(ns_of "$act")" link set ha0 up
	check "$tag: cable back: resync, in sync, $stb's copy current" -- back_in_sync
	writer_stop "$tag"
	stalls="$stalls $(mr_field "$W_OUT" stall_ms)"
	# one heartbeat round trip (docs/mirror.md: 64-175 ms; 50-60 ms here unloaded): a bound
	# well short of the mirror's 3 s timeout, which writes released any other way would wait
	# out, and loose enough for a loaded machine (1.4 s seen with two runs and a disk hog)
	ok "$([ "$(mr_field "$W_OUT" stall_ms | cut -d. -f1)" -lt 2000 ]; echo $?)" \
		"$tag: the PC's longest stall is under 2 s ($(mr_field "$W_OUT" stall_ms) ms)"
	verify "$tag"
}

# cut_refused TAG [vdiskd]: the active's power cut with the standby's copy outdated: the
# standby refuses, says why; the power back (and with "vdiskd" the standby's vdiskd, which the
# trial killed), the old active serves again
cut_refused() {
	local tag=$1 n0 from
	n0=$(refusals "$stb")
	from=$(log_lines "$act-vdiskd")
	sb_power_cut "$act"
	check "$tag: $stb refuses to take over with its outdated copy" -- \
		wait_until $((DEAD_MS + 5000)) refused_more "$stb" "$n0"
	is "$(sb_state "$stb")" standby "$tag: $stb stays standby"
	check "$tag: the refusal is an event in $stb's DB" -- bash -c \
		"'$BUILD/vdiskctl' --db '$SB_DIR/$stb/vdisk.db' events | grep -q 'copy of the hot-standby disks is outdated'"
	[ "${2:-}" = vdiskd ] && mr_vdiskd_start "$stb" secondary
	power_back "$act"
	check "$tag: $act back: it takes the role again ($stb's copy is outdated)" -- \
		sb_wait_state "$act" active $((DEAD_MS * 3 + 10000))
	check "$tag: the PC writes again" -- writer_more 100 30000
	writer_stop "$tag"
	verify "$tag"
	check "$tag: resync, in sync, $stb's copy current" -- back_in_sync
	current_after_resync "$tag" "$from"
}

# log_lines NAME: how many lines $SB_DIR/NAME.log holds now
log_lines() { wc -l <"$SB_DIR/$1.log"; }
# current_after_resync TAG FROM: the standby's copy was counted current again only once the
# active's vdiskd had resynced it (its first "in sync" after line FROM of its log): the
# active's standbyd, started again, still outdates the peer (its state file) though its
# vdiskd, just started or secondary till then, says in sync with nothing open (log times
# compare as text: "YYYY-MM-DD HH:MM:SS.mmm")
current_after_resync() {
	local synced current
	synced=$(awk -v from="$2" 'NR > from && /mirror: client PC001: in sync with/ &&
		t == "" { t = substr($0, 1, 23) } END { print t }' "$SB_DIR/$act-vdiskd.log")
	current=$(grep "this node's copy is current again" "$SB_DIR/$stb.log" | tail -1 | cut -c1-23)
	[ -n "$synced" ] && [ -n "$current" ] && ! [[ "$current" < "$synced" ]]
	ok $? "$1: $stb's copy counted current ($current) only after $act's resync ($synced)"
}

trial_compound() {
	local tag=compound$1
	writer_start "$tag"
	ip -n "$(ns_of "$act")" link set ha0 down
	check "$tag: $stb's copy marked outdated" -- wait_until 5000 data_is "$stb" outdated
	check "$tag: writes go on, apart from $stb" -- writer_more 100 10000
	loops_unpriv "$tag"
	random_ms 300 2500
	cut_refused "$tag"
}

trial_mirror() {
	local tag=mirror$1 pid
	writer_start "$tag"
	random_ms 200 800
	eval "pid=\${MR_VPID_$stb}"
	kill -9 "$pid"
	check "$tag: $stb's vdiskd gone: its copy marked outdated" -- wait_until 5000 data_is "$stb" outdated
	check "$tag: writes go on" -- writer_more 100 10000
	loops_unpriv "$tag"
	random_ms 100 1500
	cut_refused "$tag" vdiskd
}

# trial_stop: writes apart acknowledged (the HA cable pulled), then the active's standbyd
# stopped (it gives the role up) and started again: it takes the role back (the standby's
# copy is outdated), and the standby's copy counts as current only once the resync is done
trial_stop() {
	local tag=stop$1 pid from
	writer_start "$tag"
	ip -n "$(ns_of "$act")" link set ha0 down
	check "$tag: $stb's copy marked outdated" -- wait_until 5000 data_is "$stb" outdated
	check "$tag: writes go on, apart from $stb" -- writer_more 100 10000
	from=$(log_lines "$act-vdiskd")
	eval "pid=\${SB_PID_$act}"
	kill -TERM "$pid"
	check "$tag: $act's standbyd stopped" -- wait_until 10000 gone "$pid"
	SB_DB=$SB_DIR/$act/vdisk.db sb_start "$act"
	check "$tag: started again, $act takes the role back ($stb's copy is outdated)" -- \
		sb_wait_state "$act" active $((DEAD_MS * 3 + 10000))
	ip -n "$(ns_of "$act")" link set ha0 up
	check "$tag: the PC writes again" -- writer_more 100 30000
	check "$tag: cable back: resync, in sync, $stb's copy current" -- back_in_sync
	writer_stop "$tag"
	verify "$tag"
	current_after_resync "$tag" "$from"
}

# stays_outdated NODE MS: NODE never says its copy is current for MS (a negative check; a
# status that does not come back in time under load says nothing either way)
stays_outdated() {
	local end=$(( $(date +%s%3N) + $2 ))
	while [ "$(date +%s%3N)" -lt "$end" ]; do
		data_is "$1" current && return 1
		sleep 0.1
	done
	return 0
}

trial_restart() {
	local tag=restart$1 pid
	writer_start "$tag"
	ip -n "$(ns_of "$act")" link set ha0 down
	check "$tag: $stb's copy marked outdated" -- wait_until 5000 data_is "$stb" outdated
	check "$tag: writes go on, apart from $stb" -- writer_more 100 10000
	eval "pid=\${MR_VPID_$act}"
	kill -9 "$pid"
	mr_vdiskd_start "$act" secondary
	# a vdiskd that starts again says in-sync while it stands by with nothing open
	check "$tag: $act's vdiskd killed and started again: $stb's copy stays outdated" -- \
		stays_outdated "$stb" 3000
	check "$tag: $act's standbyd makes it primary again and the PC writes" -- \
		writer_more 100 20000
	ip -n "$(ns_of "$act")" link set ha0 up
	check "$tag: cable back: resync, in sync, $stb's copy current" -- back_in_sync
	writer_stop "$tag"
	verify "$tag"
}

trial_standby() {
	local tag=standby$1 t0
	writer_start "$tag"
	random_ms 200 800
	t0=$(date +%s%3N)
	sb_power_cut "$stb"
	check "$tag: $act holds writes until $stb is dead, then goes on" -- \
		wait_until $((DEAD_MS + 10000)) fence_is "$act" "done peer peer-dead"
	check "$tag: writes go on" -- writer_more 200 10000
	diag "$tag: $act went on $(( $(date +%s%3N) - t0 )) ms after $stb's power cut"
	power_back "$stb"
	check "$tag: $stb back standing by" -- sb_wait_state "$stb" standby $((DEAD_MS * 3 + 10000))
	check "$tag: resync, in sync, $stb's copy current" -- back_in_sync
	writer_stop "$tag"
	verify "$tag"
}

# isolate NODE: NODE's HA link and LAN down at once. Its processes are stopped meanwhile,
# until one of the peer's heartbeats waits unread in its sockets, to be handled after the
# carrier loss (a heartbeat on its way up while the cables go); and its fence cannot reach
# the peer between the two links going down (two steps: a loaded machine once let it through
# the LAN still up, which outdates the peer rightly: trial compound's case)
hb_queued() {	# a UDP socket of NODE with bytes unread (/proc/net/udp's rx_queue)
	ip netns exec "$(ns_of "$1")" awk 'NR > 1 { split($5, q, ":"); if (q[2] != "00000000")
		f = 1 } END { exit !f }' /proc/net/udp
}
isolate() {
	local pids
	pids=$(ip netns pids "$(ns_of "$1")")
	kill -STOP $pids
	check "$1 stopped, a heartbeat of the peer waits unread" -- wait_until 3000 hb_queued "$1"
	printf 'link set ha0 down\nlink set lan0 down\n' | ip -n "$(ns_of "$1")" -batch -
	kill -CONT $pids
}

# the active cut off from both LANs while it runs: it never counts what it did apart as the
# newer copy (its LAN is down: the PCs cannot reach it); the standby takes over; the links
# back, the old active gives way and is resynced from the new one, without a split brain
trial_isolated() {
	local tag=isolated$1 t
	# a connection the survivor does not know of (listed after the last shipped list) is
	# not tickled: this PC gives up on the cut-off server by itself after 3 s
	writer_start "$tag" 3000
	random_ms 200 800
	# both at once, writes in flight: they are done there, and apart from the peer
	isolate "$act"
	check "$tag: $stb takes over" -- sb_wait_state "$stb" active $((DEAD_MS + 10000))
	check "$tag: the PC writes on $stb" -- writer_more 200 20000
	! fence_is "$act" "done"
	ok $? "$tag: cut off, $act never took its writes apart as done"
	# its LAN back first: until the peer is heard on it, the carrier loss must still count,
	# though the peer's last heartbeats were handled after it (isolate); writes apart
	# acknowledged then are a split brain below
	ip -n "$(ns_of "$act")" link set lan0 up
	ip -n "$(ns_of "$act")" link set ha0 up
	check "$tag: the links back, $act stands by" -- sb_wait_state "$act" standby $((DEAD_MS * 3 + 10000))
	t=$act; act=$stb; stb=$t
	check "$tag: $act resyncs $stb, in sync, $stb's copy current" -- back_in_sync
	! grep -q "SPLIT BRAIN" "$SB_DIR/$act-vdiskd.log"
	ok $? "$tag: no split brain"
	writer_stop "$tag"
	verify "$tag"
}

# listed_since NODE SCANS: NODE scanned its connections after its scan number SCANS and its
# peer holds what it found (a connection opened since the last list shipped is not tickled:
# its client, with nothing left to retransmit, waits out its own timeout; docs/standby.md)
tickle_stat() { sb_member "$1" tickle_acks "$2"; }
listed_since() { [ "$(tickle_stat "$1" scans)" -gt "$2" ] && [ "$(tickle_stat "$1" peer_current)" = true ]; }

trial_active() {
	local tag=active$1
	writer_start "$tag"
	check "$tag: $stb holds a connection list with the PC's session" -- \
		wait_until 10000 listed_since "$act" "$(tickle_stat "$act" scans)"
	random_ms 200 1500
	sb_power_cut "$act"
	check "$tag: $stb takes over" -- sb_wait_state "$stb" active $((DEAD_MS + 10000))
	check "$tag: the PC writes on $stb" -- writer_more 200 20000
	writer_stop "$tag"
	diag "$tag: the PC's longest stall $(mr_field "$W_OUT" stall_ms) ms"
	verify "$tag"
	power_back "$act"
	check "$tag: $act back standing by" -- sb_wait_state "$act" standby $((DEAD_MS * 3 + 10000))
	local t=$act; act=$stb; stb=$t
	check "$tag: resync to $stb, in sync" -- back_in_sync
}

# socket_barred: with FENCE_USER, vdiskd's control socket closed to the loop's group (a setup
# fault): the loop's log names the socket and the fault, not only "replication: unknown" in
# its status; the socket open again, it reads vdiskd's state again
repl_is() { [ "$(sb_field "$1" replication)" = "$2" ]; }
socket_barred() {
	local sock=$SB_DIR/$act/vdiskd.sock
	[ -n "${FENCE_USER:-}" ] || return 0
	chmod 600 "$sock"
	check "vdiskd's socket closed to $FENCE_USER: $act's standbyd logs why" -- wait_until 10000 \
		grep -q "vdiskd's status on $sock: Permission denied: .*socket's group" "$SB_DIR/$act.log"
	check "$act's replication state unknown meanwhile" -- wait_until 5000 repl_is "$act" unknown
	chmod 660 "$sock"
	check "the socket open again: $act reads vdiskd's state (in_sync)" -- \
		wait_until 10000 repl_is "$act" in_sync
}

for i in $(seq "$TRIALS"); do
	for s in ${FENCE_SCENARIOS:-hacut compound mirror restart stop standby isolated active}; do
		"trial_$s" "$i"
	done
done
socket_barred
kill -TERM "$HOLD" 2>/dev/null
wait "$HOLD" 2>/dev/null
diag "deadtime $SB_DEADTIME, $TRIALS rounds: PC stalls at a pulled HA cable (ms):$stalls"
diag "trials with a lost write: $lost_total; wall time $(( $(date +%s) - T_START )) s"
[ "$tap_failed" = 0 ] || mr_show_logs
check "no sanitizer report from the daemons" -- sb_logs_clean
done_testing
