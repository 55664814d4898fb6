#!/bin/bash
# A standbyd restarted on a node whose copy of the hot-standby disks is outdated (its state
# file says "outdated EPOCH": the peer acknowledged writes this copy lacks) must stay out of
# the role as the running one would: no takeover when the peer is dead, an admin takeover
# refused, and the mark lifted only when the peer serves in sync. Found by
# tests/deploy/upgrade.t: b, outdated, was restarted by its package upgrade; its state
# machine was not told, so an admin takeover on b was accepted while a still held b for
# outdated and took the role back: both active.
source "$(dirname "$0")/../lib/tap.sh"
need_root
source "$SRCDIR/tests/ha/standby-lib.sh"

check "topology" -- sb_topology
sb_config a
sb_config b
# a state file that is not one: standbyd refuses to start, saying which file and why
for bad in 'outdated 7\noutdated 8\n' 'outdating 70000\n' 'outdating 5' 'outdated 7\nmaybe 1\n' \
	'outdated 4294967301\n' 'outdating +7\n' 'outdated  7\n'; do
	printf "$bad" >"$SB_DIR/b/standbyd.state"
	: >"$SB_DIR/b.log"
	sb_start b
	check "state file '$bad': standbyd exits" -- wait_until 5000 gone "$SB_PID_b"
	check "and names the file and what it must hold" -- \
		sb_log_has b "standbyd.state: not 'outdated EPOCH' and 'outdating EPOCH' lines"
done
: >"$SB_DIR/b.log"
echo "outdated 7" >"$SB_DIR/b/standbyd.state"
sb_start b
check "b reads its state file: outdated" -- sb_wait_log b "is outdated \\(state file" 3000
is "$(sb_field b data)" outdated "b's status says its data is outdated"
check "b gives up on a (never started)" -- sb_wait_log b "peer a not heard from within initdead" 5000
sleep 1.5	# a negative check: a takeover would show within this time
is "$(sb_state b)" standby "b, outdated, does not take over from a dead peer"
check "b never started a takeover" -- eval "! grep -q 'state standby -> taking_over' '$SB_DIR/b.log'"
out=$(sb_cmd b takeover b 2>&1)
r=$?
ok $(( r == 0 )) "an admin takeover on outdated b is refused (exit $r)"
grep -q "outdated" <<<"$out"; ok $? "and says why: $out"

sb_start a
check "a takes the role (b's copy is outdated)" -- sb_wait_state a active 5000
check "b's copy is current again once a serves in sync" -- sb_wait_log b "current again" 5000
check "b stands by" -- sb_wait_state b standby 1000
wait_until 5000 eval 'sb_cmd b takeover b >/dev/null 2>&1'
ok $? "now an admin takeover on b is accepted"
check "b active" -- sb_wait_state b active 5000
check "a stands by" -- sb_wait_state a standby 3000
check "no split brain on either node" -- eval "! grep -q 'split brain' '$SB_DIR/a.log' '$SB_DIR/b.log'"
check "no sanitizer report from the daemons" -- sb_logs_clean
done_testing
