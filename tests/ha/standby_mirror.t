#!/bin/bash
# Replication state from vdiskd's status (its member "mirror") in the heartbeats, and what it
# decides: b, active after a's power cut, hands the role back (auto_failback) only once its
# mirror says in-sync: not while degraded, not across a split brain (a loud event then).
# A takeover after the active said degraded warns that replicas may be outdated.
# The vdiskds are stand-ins (ctl_fake) answering a role change with ok and the status with the
# contents of a file.
source "$(dirname "$0")/../lib/tap.sh"
need_root
SB_FAILBACK=on
source "$SRCDIR/tests/ha/standby-lib.sh"
CTL=$BUILD/vdiskctl
FAKE=$BUILD/tests/helpers/ctl_fake

# answers NODE STATUS-MEMBERS: NODE's stand-in answers status {"ok":true,"state":"x",MEMBERS};
# replaced whole (a rename), so that the stand-in never reads half a file
answers() {
	printf '{"status": {"ok": true, "state": "x"%s}, "role": {"ok": true}}\n' "$2" \
		>"$SB_DIR/$1/answers.new" && mv "$SB_DIR/$1/answers.new" "$SB_DIR/$1/answers"
}
mirror() { answers "$1" ", \"mirror\": \"$2\""; }

check "topology" -- sb_topology
fakes=
trap 'kill $fakes 2>/dev/null; sb_cleanup' EXIT
for n in a b; do
	echo "a IPaddr::$SB_VIP/24/lan0 vdiskd::$SB_DIR/$n/vdiskd.sock svc" >"$SB_DIR/$n/haresources"
	mirror "$n" in-sync
	"$FAKE" "$SB_DIR/$n/vdiskd.sock" "$SB_DIR/$n/vdiskd.log" "$SB_DIR/$n/answers" \
		>/dev/null 2>&1 &
	fakes+=" $!"
	"$CTL" --db "$SB_DIR/$n.db" init >/dev/null
done
SB_DB=$SB_DIR/a.db sb_start a
SB_DB=$SB_DIR/b.db sb_start b
check "a active" -- sb_wait_state a active 3000
check "b standby" -- sb_wait_state b standby 1000

# wait_field NODE FIELD VALUE MS
field_is() { [ "$(sb_field "$1" "$2")" = "$3" ]; }
wait_field() { wait_until "$4" field_is "$1" "$2" "$3"; }
check "a's vdiskd says in-sync: a's heartbeats say in_sync" -- wait_field b peer_replication in_sync 2000
mirror a degraded
check "a's vdiskd says degraded: b sees it within a monitor interval" -- \
	wait_field b peer_replication degraded 2000
is "$("$SB_CLI" status --ctl "$SB_DIR/b.sock" | grep -c '^replication: in_sync$\|^peer_replication: degraded$')" 2 \
	"vdiskctl standby status shows both nodes' replication"

sb_power_cut a
check "b takes over" -- sb_wait_state b active 3000
check "b warned that replicas may be outdated" -- \
	grep -q "replicas may be outdated: a's last heartbeat said its mirror was degraded" "$SB_DIR/b.log"
check "and recorded it as an event" -- bash -c \
	"'$CTL' --db '$SB_DIR/b.db' events | grep -q 'replicas may be outdated'"
check "before promoting (logged ahead of the move to active)" -- bash -c \
	"[ \$(grep -n 'replicas may be outdated' '$SB_DIR/b.log' | cut -d: -f1) -lt \
	   \$(grep -n 'state taking_over -> active' '$SB_DIR/b.log' | cut -d: -f1) ]"

# b now mirrors to a, which is away: degraded. a comes back.
mirror b degraded
mirror a in-sync
sb_power_on a
SB_DB=$SB_DIR/a.db sb_start a
check "a back, standby first" -- sb_wait_state a standby 3000
check "b logged that auto_failback waits" -- sb_wait_log b "auto_failback waits for both replicas" 5000
sleep 3	# a negative check: past the failback delay (4 x deadtime), nothing moved
is "$(sb_state b)" active "no failback while b's mirror is degraded"

mirror b split-brain
check "b's heartbeats carry split_brain" -- wait_field a peer_replication split_brain 2000
b_event() { "$CTL" --db "$SB_DIR/b.db" events | grep -q "$1"; }
check "loud event on b: split brain between the replicas" -- \
	wait_until 5000 b_event 'split brain between the replicas'
check "auto_failback refusal logged as an error" -- \
	sb_wait_log b "error: split brain between the replicas: auto_failback refused" 5000
sleep 1	# a negative check: a failback would show within this time
is "$(sb_state b)" active "no failback across a split brain"

mirror b syncing
sleep 1	# a negative check: a failback would show within this time
is "$(sb_state b)" active "no failback while syncing"
t0=$(date +%s%3N)
mirror b in-sync
check "in-sync: a takes its role back" -- sb_wait_state a active 5000
diag "failback $(( $(date +%s%3N) - t0 )) ms after b's vdiskd said in-sync (monitor_interval $SB_MONITOR)"
check "b stands by" -- sb_wait_state b standby 2000

# An older vdiskd: no member mirror at all.
answers a ""
check "no mirror member: unknown" -- wait_field a replication unknown 2000
check "no sanitizer report from the daemons" -- sb_logs_clean
done_testing
