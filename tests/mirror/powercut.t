#!/bin/bash
# A hot-standby client loses nothing it was told was written when the active server's power
# is cut. A libiscsi client (mirror_seqio) writes sequence-numbered 4 KiB blocks at queue
# depth 16 through the service address; at a random moment every process of the active's
# namespace is killed with -9 and its links go down; standbyd on the other server takes over
# (deadtime 500ms) and the client reconnects to the same address. Then every acknowledged
# write must read back with its seq or a later one. The cut server comes back as secondary and
# is resynced, and the next cut hits the other side: MIRROR_CUTS (default 20) cuts, each
# checked over everything written since the start.
#
# A control run first, without --mirror-peer: the same cut must lose writes, which shows the
# check can fail. MIRROR_SEED makes the cut moments repeatable.
source "$(dirname "$0")/../lib/tap.sh"
need_root
[ -x "$BUILD/tests/helpers/mirror_seqio" ] || skip_all "test helpers not built (make tests)"
command -v sqlite3 >/dev/null || skip_all "sqlite3 missing"
source "$SRCDIR/tests/mirror/mirror-lib.sh"

CUTS=${MIRROR_CUTS:-20}
[ -n "${SANITIZED:-}" ] && CUTS=${MIRROR_CUTS:-6}
SEED=${MIRROR_SEED:-$(( $(date +%s) % 32768 ))}
RANDOM=$SEED
T_START=$(date +%s)
diag "seed $SEED (MIRROR_SEED=$SEED repeats the cut moments), $CUTS cuts"

check "topology" -- sb_topology
check "database, pair secret, haresources" -- mr_setup

# one_cut ACTIVE LOG TAG: writes through the service address, cuts ACTIVE at a random
# moment, waits for the other node to serve, stops the writer, verifies LOG through the
# service address. Sets CUT_LOST, CUT_STALL, CUT_TAKEOVER, CUT_LUNCHG.
one_cut() {
	local act=$1 log=$2 tag=$3 stby w n0 t0 t1 out vout delay
	stby=$(mr_other "$act")
	CUT_LOST=x CUT_STALL=x CUT_TAKEOVER=x CUT_LUNCHG=x
	mr_seqio_bg "$SB_DIR/$tag.out" "$SB_DIR/$tag.err" write "$SB_VIP:3260" "$MR_INI_HS" \
		"$log" --blocks 4096 --qd 16
	w=$MR_BG
	if ! mr_wait_records "$log" "$(mr_log_records "$log")" 5000; then
		kill -TERM $w; wait $w
		diag "$tag: the writer never got a write acknowledged: $(tail -2 "$SB_DIR/$tag.err")"
		return 1
	fi
	delay=$(( 200 + RANDOM % 1000 ))
	sleep "$(printf '0.%03d' $((delay % 1000)))"
	[ $delay -ge 1000 ] && sleep 1
	t0=$(date +%s%3N)
	mr_power_cut "$act"
	n0=$(mr_log_records "$log")
	sb_wait_state "$stby" active 5000
	t1=$(date +%s%3N)
	CUT_TAKEOVER=$((t1 - t0))
	# The writer must get writes through the new active before it is stopped.
	mr_wait_records "$log" $((n0 + 300)) 10000
	kill -TERM $w
	wait $w
	out=$(cat "$SB_DIR/$tag.out")
	CUT_STALL=$(mr_field "$out" stall_ms)
	CUT_LUNCHG=$(mr_field "$out" lun_changed)
	vout=$(mr_seqio verify "$SB_VIP:3260" "$MR_INI_HS" "$log" 2>"$SB_DIR/$tag.verify.err")
	CUT_LOST=$(mr_field "$vout" lost)
	diag "$tag: cut $act after ${delay} ms of writes: takeover ${CUT_TAKEOVER} ms," \
		"client stall ${CUT_STALL} ms; $vout; writer: $out"
	[ -n "$CUT_LOST" ] && [ "$CUT_LOST" != 0 ] && sed 's/^/#   /' "$SB_DIR/$tag.verify.err" | head -5
	return 0
}

# every_process_gone: both servers emptied (the next series starts from nothing)
everything_off() {
	mr_power_cut a
	mr_power_cut b
	sb_power_on a
	sb_power_on b
	rm -rf "$SB_DIR/a/ov" "$SB_DIR/b/ov"
	mkdir -p "$SB_DIR/a/ov" "$SB_DIR/b/ov"
}

# ---- control: no mirror, one cut: writes acknowledged by a alone are lost
mr_vdiskd_start a primary nomirror
mr_vdiskd_start b secondary nomirror
sb_pair_up
one_cut a "$SB_DIR/control.log" control
ok "$([ "$CUT_LOST" != x ] && [ "$CUT_LOST" -gt 0 ]; echo $?)" \
	"control (no mirror): the check finds lost writes after a cut ($CUT_LOST lost)"
ok "$([ "$CUT_LUNCHG" = 0 ]; echo $?)" "control: the client saw the same LUN after the takeover"
everything_off

# ---- the mirrored pair
if ! mr_have_mirror; then
	skip "$CUTS cuts of a mirrored pair: 0 lost" "this vdiskd has no --mirror-peer yet"
	diag "wall time $(( $(date +%s) - T_START )) s"
	check "no sanitizer report from the daemons" -- sb_logs_clean
	done_testing
fi

mr_vdiskd_start a primary
mr_vdiskd_start b secondary
sb_pair_up
check "a's mirror in sync with b" -- mr_wait_mirror a in-sync 10000
act=a lost_total=0 bad=0 max_stall=0 stalls=""
for i in $(seq "$CUTS"); do
	if ! one_cut "$act" "$SB_DIR/mirrored.log" "cut$i"; then
		ok 1 "cut $i of $act: the writer ran"
		bad=1
		break
	fi
	stby=$(mr_other "$act")
	ok "$([ "$CUT_TAKEOVER" -lt 5000 ]; echo $?)" "cut $i of $act: $stby took over"
	is "$CUT_LOST" 0 "cut $i of $act: no acknowledged write lost"
	is "$CUT_LUNCHG" 0 "cut $i of $act: the client saw the same LUN after the takeover"
	[ "$CUT_LOST" = 0 ] || { lost_total=$((lost_total + 1)); bad=1; }
	stalls="$stalls ${CUT_STALL%.*}"
	[ "${CUT_STALL%.*}" -gt "$max_stall" ] 2>/dev/null && max_stall=${CUT_STALL%.*}
	[ "$i" = "$CUTS" ] && break
	# The cut node comes back as secondary and is resynced from the new active.
	sb_power_on "$act"
	mr_vdiskd_start "$act" secondary
	sb_start "$act"
	if ! sb_wait_state "$act" standby 5000 || ! mr_wait_mirror "$stby" in-sync 20000; then
		ok 1 "cut $i: $act back as standby, $stby's mirror in sync again"
		diag "$act: $(sb_state "$act"), $stby's mirror: $(mr_mirror_state "$stby")"
		bad=1
		break
	fi
	act=$stby
done
[ "$bad" = 0 ] || mr_show_logs
diag "client stall per cut (ms):$stalls; longest $max_stall ms (deadtime $SB_DEADTIME)"
diag "wall time $(( $(date +%s) - T_START )) s"
check "no sanitizer report from the daemons" -- sb_logs_clean
done_testing
