#!/bin/bash
# A hostile PC on the LAN against the iSCSI target's resource limits, while a well-behaved PC
# uses its disk: sockets held in the login phase (dropped after --login-timeout), more
# connections than one address may hold (refused, counted, logged once a second), and WRITEs
# sent past MaxCmdSN with immediate data (answered TASK SET FULL beyond the write buffers'
# budget; vdiskd's memory stays put). Namespaces: srv 10.79.0.1, the LAN side with the
# attacker 10.79.0.2 and the good PC 10.79.0.3.
source "$(dirname "$0")/../lib/tap.sh"
need_root
RAW=$BUILD/tests/helpers/vdiskd_rawpdu
[ -x "$RAW" ] || skip_all "vdiskd_rawpdu not built"
ID=$(( $$ % 100000 ))
NS_S=ab-$ID-s NS_L=ab-$ID-l
tmp=$(mktemp -d /tmp/abuse.XXXXXX)
IQN=iqn.2026-12.test:abuse
cleanup() {
	[ -n "${VPID:-}" ] && kill "$VPID" 2>/dev/null
	ip netns del "$NS_S" 2>/dev/null
	ip netns del "$NS_L" 2>/dev/null
	rm -rf "$tmp"
}
trap cleanup EXIT

ip netns add "$NS_S" && ip netns add "$NS_L" &&
	ip -n "$NS_S" link add lan0 type veth peer name lan0 netns "$NS_L" &&
	ip -n "$NS_S" addr add 10.79.0.1/24 dev lan0 &&
	ip -n "$NS_L" addr add 10.79.0.2/24 dev lan0 &&
	ip -n "$NS_L" addr add 10.79.0.3/24 dev lan0 &&
	ip -n "$NS_S" link set lan0 up && ip -n "$NS_L" link set lan0 up &&
	ip -n "$NS_S" link set lo up && ip -n "$NS_L" link set lo up
ok $? "namespaces"
truncate -s 64M "$tmp/disk.img"
ip netns exec "$NS_S" "$BUILD/vdiskd" --listen 10.79.0.1:3260 --lun "$IQN=$tmp/disk.img" \
	--ctl "$tmp/vdiskd.sock" --login-timeout 2 --max-conns-per-addr 8 2>"$tmp/vdiskd.log" &
VPID=$!
ctl_up() { "$BUILD/tests/helpers/ctl_ask" "$tmp/vdiskd.sock" status >/dev/null 2>&1; }
check "vdiskd up" -- wait_until 5000 ctl_up
field() { "$BUILD/tests/helpers/ctl_ask" "$tmp/vdiskd.sock" status 2>/dev/null |
	awk -v k="$1:" '$1 == k { print $2 }'; }
attacker() { ip netns exec "$NS_L" env RAWPDU_ADDR=10.79.0.1 RAWPDU_SRC=10.79.0.2 "$RAW" 3260 "$IQN" "$@"; }
good_pc() { ip netns exec "$NS_L" env RAWPDU_ADDR=10.79.0.1 RAWPDU_SRC=10.79.0.3 "$RAW" 3260 "$IQN" "$@"; }

# 40 sockets that never log in, held 8 s: 8 fit, 32 are refused at once, the 8 are dropped
# after the 2 s login timeout; the good PC works all along
attacker idle 40 8 >"$tmp/idle.out" 2>&1 &
IDLE=$!
refused_32() { [ "$(field connections_refused)" -ge 32 ] 2>/dev/null; }
check "the attacker's 9th to 40th connections are refused" -- wait_until 5000 refused_32
check "the good PC logs in, pings, logs out meanwhile" -- good_pc login
wait "$IDLE"
is "$(cat "$tmp/idle.out")" "refused 32 dropped 8 open 0" \
	"of 40 idle sockets: 32 refused at once, 8 dropped by the login timeout"
n=$(grep -c "refused:" "$tmp/vdiskd.log")
ok "$([ "$n" -le 3 ]; echo $?)" "32 refusals made $n log lines (at most one a second)"
check "the login timeout is logged" -- grep -q "login not complete within 2000 ms" "$tmp/vdiskd.log"

# 2000 WRITEs of 8 MiB with 256 KiB of immediate data each, CmdSN past any window
rss0=$(awk '/VmRSS/ { print $2 }' "/proc/$VPID/status")
good_pc hold 6 &
HOLD=$!
out=$(attacker flood 2000 2>&1)
ok $? "flood: the attacker's connection still answers a ping ($out)"
rss1=$(awk '/VmRSS/ { print $2 }' "/proc/$VPID/status")
diag "vdiskd RSS ${rss0} kB before the flood, ${rss1} kB after"
ok "$([ $((rss1 - rss0)) -lt 65536 ]; echo $?)" "vdiskd grew less than 64 MiB ($((rss1 - rss0)) kB)"
full=$(echo "$out" | awk '{ print $6 }')
ok "$([ "${full:-0}" -gt 1000 ]; echo $?)" "writes past the budget answered TASK SET FULL ($full)"
ok "$([ "$(field task_set_full)" -ge "${full:-1}" ]; echo $?)" "and counted in status"
wait "$HOLD"
ok $? "the good PC's pings were all answered during the flood"
check "vdiskd still running" -- kill -0 "$VPID"
done_testing
