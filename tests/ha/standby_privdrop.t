#!/bin/bash
# Least privilege: with a user to drop to (here nobody, as --user; the packages make
# vdisk-ha), standbyd's loop runs as that user, in its group alone (which the control socket
# lets in for the status), with no capabilities and no new privileges, while its helper
# (standbyd-priv, its child) keeps root and starts the receivers. A power cut of a: b,
# unprivileged, still takes the address over (the helper adds it and sends the ARPs;
# the time is printed) and records events in the DB. b's helper killed: b exits at once
# (status 1, an event), the address stays; restarted (--user nobody again: an unprivileged
# loop, a new helper) it resumes the role. b's standbyd killed: its helper ends too, the
# address stays; restarted with a user that does not exist, a warning, the loop stays root
# and resumes the role.
source "$(dirname "$0")/../lib/tap.sh"
need_root
source "$SRCDIR/tests/ha/standby-lib.sh"

getent passwd nobody >/dev/null || skip_all "no user nobody"
# the unprivileged loops reach their DB, state and sockets' directory as nobody
chmod 711 "$SB_DIR"
mkdir "$SB_DIR/db"
SB_DB=$SB_DIR/db/vdisk.db
SB_ARGS="--user nobody"
check "topology" -- sb_topology
chown nobody "$SB_DIR/a" "$SB_DIR/b"
check "database for events" -- "$BUILD/vdiskctl" --db "$SB_DB" init
chown -R nobody "$SB_DIR/db"
sb_pair_up
check "client reaches a" -- sb_wait_fetch a 2000

proc_field() { sed -n "s/^$2:[[:space:]]*//p" "/proc/$1/status"; }
helper_pid() { sb_field "$1" helper | awk '{print $2}'; }
for n in a b; do
	eval "pid=\$SB_PID_$n"
	uid=$(proc_field "$pid" Uid | awk '{print $1, $2, $3, $4}')
	is "$uid" "65534 65534 65534 65534" "$n: the loop's uids are nobody's"
	is "$(proc_field "$pid" CapEff)" "0000000000000000" "$n: no capability in effect"
	is "$(proc_field "$pid" CapPrm)" "0000000000000000" "$n: none permitted"
	is "$(proc_field "$pid" CapInh)" "0000000000000000" "$n: none inheritable"
	is "$(proc_field "$pid" CapAmb)" "0000000000000000" "$n: none ambient"
	is "$(proc_field "$pid" NoNewPrivs)" "1" "$n: no new privileges"
	is "$(proc_field "$pid" Groups | xargs)" "$(id -g nobody)" \
		"$n: its group, the one the control socket lets in, and no other"
	hp=$(helper_pid "$n")
	ok "$([ -n "$hp" ] && [ "$hp" -gt 0 ]; echo $?)" "$n: status names its helper ($hp)"
	is "$(cat "/proc/$hp/comm")" "standbyd-priv" "$n: the helper is standbyd-priv"
	is "$(proc_field "$hp" PPid)" "$pid" "$n: a child of standbyd"
	is "$(proc_field "$hp" Uid | awk '{print $1}')" "0" "$n: the helper keeps root"
	rx=$(sb_field "$n" receiver | awk '{print $2}')
	is "$(proc_field "$rx" PPid)" "$hp" "$n: the receiver is the helper's child"
done
check "a logs the drop" -- sb_log_has a "running as nobody"
# libpcap's packet socket and eventfd, in the helper, are close-on-exec: no script or pxed
# inherits them
packet_inodes=$(sb_ns_exec a cat /proc/net/packet | awk 'NR > 1 {print $NF}')
hp=$(helper_pid a)
leaky="" seen=0
for f in /proc/"$hp"/fd/*; do
	l=$(readlink "$f") || continue
	ino=${l#socket:[}; ino=${ino%]}
	if [ "$l" = "anon_inode:[eventfd]" ] || echo "$packet_inodes" | grep -Fqx "$ino"; then
		seen=$((seen + 1))
		fl=$(awk '/^flags:/ {print $2}' "/proc/$hp/fdinfo/${f##*/}")
		[ $((0$fl & 02000000)) -ne 0 ] || leaky="$leaky ${f##*/}($l)"
	fi
done
ok "$([ "$seen" -gt 0 ]; echo $?)" "a's helper holds pcap's descriptors ($seen)"
is "$leaky" "" "all of them close-on-exec"
# The raw sockets (the ARP capture, ICMP, the tickles'), which can send any frame or packet,
# are the helper's alone: the loop parses what the helper reads on them.
raw_inodes=$(sb_ns_exec a sh -c 'cat /proc/net/packet; cat /proc/net/raw' |
	awk '$1 ~ /^[0-9a-f]+:?$/ {print ($1 ~ /:$/) ? $10 : $NF}')
raw_held() {
	local f l ino n=0

	for f in /proc/"$1"/fd/*; do
		l=$(readlink "$f") || continue
		ino=${l#socket:[}; ino=${ino%]}
		[ "$ino" != "$l" ] && echo "$raw_inodes" | grep -Fqx "$ino" && n=$((n + 1))
	done
	echo "$n"
}
is "$(raw_held "$SB_PID_a")" "0" "a's loop holds no packet or raw socket"
ok "$([ "$(raw_held "$hp")" -ge 2 ]; echo $?)" \
	"a's helper holds them ($(raw_held "$hp"): the capture and the tickles' at least)"
# vdiskd and pxed reach the control socket through the loop's group: a caller of that group
# alone (another uid) may ask for the status, not for the role
chgrp "$(id -g nobody)" "$SB_DIR/a.sock"
as_group() { setpriv --reuid=54321 --regid="$(id -g nobody)" --clear-groups "$@"; }
ok "$(as_group "$SB_CLI" status --ctl "$SB_DIR/a.sock" 2>&1 | grep -q '^state: active$'; echo $?)" \
	"a caller of the loop's group gets the status"
ok "$(! as_group "$SB_CLI" release a --ctl "$SB_DIR/a.sock" >/dev/null 2>&1; echo $?)" \
	"and is refused a release"
is "$(sb_state a)" "active" "a still active"

sb_cut_takeover "b, unprivileged, takes over"
check "the address is on b" -- sb_has_vip b
check "TCP service (a script the helper ran) answers from b" -- sb_wait_fetch b 2000
events=$("$BUILD/vdiskctl" --db "$SB_DB" events 2>&1)
ok "$(echo "$events" | grep -q "state standby -> taking_over"; echo $?)" \
	"the takeover recorded in the DB by the unprivileged loop"
is "$(sb_field b helper | awk '{print $4}')" "0" "b's helper refused nothing"

kill -9 "$(helper_pid b)"
gone() { ! kill -0 "$SB_PID_b" 2>/dev/null; }
check "b's standbyd exits when its helper is lost" -- wait_until 2000 gone
check "and says why" -- sb_log_has b "privileged helper is lost"
check "the address stays on b" -- sb_has_vip b
sb_start b
check "restarted (--user nobody), b resumes the role" -- sb_wait_state b active 3000
is "$(proc_field "$SB_PID_b" Uid | awk '{print $1}')" "65534" "the resumed loop is nobody again"
is "$(proc_field "$SB_PID_b" CapEff)" "0000000000000000" "with no capability"
hp=$(helper_pid b)
is "$(proc_field "$hp" Uid | awk '{print $1}')" "0" "under a new root helper ($hp)"
check "service still on b" -- sb_wait_fetch b 1000

# the helper ends with standbyd, even killed: its end of the pair closes
hp=$(helper_pid b)
kill -9 "$SB_PID_b"
# exited: gone, or a zombie its new parent has not reaped yet
helper_gone() {
	! kill -0 "$hp" 2>/dev/null || [ "$(awk '{print $3}' "/proc/$hp/stat" 2>/dev/null)" = Z ]
}
check "b's standbyd killed: its helper ($hp) ends too" -- wait_until 2000 helper_gone
check "and leaves the address" -- sb_has_vip b

# without the user: a warning, the loop stays root (the helper split off all the same)
SB_ARGS="--user no-such-user-here"
sb_start b
check "restarted with a user that does not exist, b resumes the role" -- \
	sb_wait_state b active 3000
check "a missing user is a warning" -- sb_wait_log b "no user no-such-user-here" 1000
is "$(proc_field "$SB_PID_b" Uid | awk '{print $1}')" "0" "and the loop stays root"
check "service still on b" -- sb_wait_fetch b 1000
check "no sanitizer report from the daemons" -- sb_logs_clean
done_testing
