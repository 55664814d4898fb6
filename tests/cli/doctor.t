#!/usr/bin/env bash
# vdiskctl doctor finds each usual mistake, names it and exits 1; a sound server gives exit 0.
# In a network namespace of its own (the ports it reads are that namespace's), with stand-in
# daemons whose status is a file the test rewrites, a database, and real listeners for the
# port check.
source "$(dirname "$0")/../lib/tap.sh"
need_root
V=$BUILD/vdiskctl
FAKE=$BUILD/tests/helpers/ctl_fake
[ -x "$FAKE" ] || skip_all "test helpers not built (make tests)"
command -v python3 >/dev/null || skip_all "python3 missing (the stand-in listener)"
command -v jq >/dev/null || skip_all "jq missing (it edits the stand-ins' answers)"
T=$(mktemp -d)
NS=doctor-$$
pids=()
cleanup() {
	kill "${pids[@]}" 2>/dev/null
	wait
	ip netns del "$NS" 2>/dev/null
	rm -rf "$T"
}
trap cleanup EXIT
ip netns add "$NS" && ip -n "$NS" link set lo up || bail "cannot make a network namespace"
in_ns() { ip netns exec "$NS" "$@"; }	# not for a background job: its $! is not the pid
export VDISK_DB=$T/vdisk.db VDISK_RUN_DIR=$T/run
mkdir -p "$VDISK_RUN_DIR"
HOST=$(uname -n)
"$V" init >/dev/null
"$V" server add "$HOST" --role primary >/dev/null

# a sound active server: every daemon answers with this host's name, the peer's clock 12 ms
# off, the heartbeat link (lo here) up and heard, the mirror in sync
sound() {
	printf '{"status":{"ok":true,"node":"%s","state":"active","peer":"srv-b","peer_status":"alive","peer_clock_offset_ms":12,"link":[{"name":"lo","rx":100,"tx":100,"tx_errors":0,"last_rx_ms_ago":150}]}}\n' \
		"$HOST" >"$T/standbyd.st"
	printf '{"status":{"ok":true,"node":"%s","role":"primary","clients":3,"mirror":"in-sync"}}\n' \
		"$HOST" >"$T/vdiskd.st"
	printf '{"status":{"ok":true,"node":"%s","mode":"proxy"}}\n' "$HOST" >"$T/pxed.st"
}
# st DAEMON FILTER: changes DAEMON's status answer by the jq FILTER (on .status)
st() { jq -c ".status |= ($2)" "$T/$1.st" >"$T/$1.new" && mv "$T/$1.new" "$T/$1.st"; }
sound
for d in standbyd vdiskd pxed; do
	ip netns exec "$NS" "$FAKE" "$VDISK_RUN_DIR/$d.sock" "$T/$d.log" "$T/$d.st" & pids+=($!)
done
wait_until 5000 eval '[ -S "$VDISK_RUN_DIR/standbyd.sock" ] && [ -S "$VDISK_RUN_DIR/vdiskd.sock" ] &&
	[ -S "$VDISK_RUN_DIR/pxed.sock" ]'

# doctor [ARG...]: runs it in the namespace; OUT its output, RC its exit status
doctor() { OUT=$(in_ns "$V" "$@" doctor 2>&1); RC=$?; }
# finds WHAT PATTERN [ARG...]: doctor exits 1, with PATTERN on a PROBLEM line
finds() {
	doctor "${@:3}"
	is "$RC" 1 "$1: exit 1"
	grep -q "^PROBLEM .*$2" <<<"$OUT"
	ok $? "$1: named ($(grep '^PROBLEM' <<<"$OUT" | head -1))"
	sound
}

doctor
is "$RC" 0 "a sound server: exit 0"
is "$(tail -1 <<<"$OUT")" "no problem found" "and says so last"
grep -q "^ok  *names: '$HOST' in the host name, the daemons and the database" <<<"$OUT"
ok $? "names checked"
grep -q "^ok  *clocks: the peer's is 12 ms from this one's" <<<"$OUT"; ok $? "clock checked"
grep -q "^ok  *heartbeat links: 1, each up and hearing the peer" <<<"$OUT"; ok $? "links checked"
grep -q "^ok  *ports: no other daemon" <<<"$OUT"; ok $? "ports checked"
grep -q "^ok  *mirror: in-sync" <<<"$OUT"; ok $? "mirror checked"

st vdiskd '.node = "srv-x"'
finds "vdiskd's node differs" "vdiskd (vdiskd.conf node) says this server is 'srv-x', the host name is '$HOST'"
st pxed '.node = "srv-y"'
finds "pxed's node differs" "pxed (pxed.conf node) says this server is 'srv-y'"
"$V" --db "$T/other.db" init >/dev/null
"$V" --db "$T/other.db" server add other-name >/dev/null
finds "the host not in the database" "the database has no server named '$HOST'" --db "$T/other.db"
st standbyd '.peer_clock_offset_ms = -4500'
finds "clocks apart" "clocks: the peer's is 4500 ms behind this one's"
st standbyd '.link[0].name = "nosuch0"'
finds "a link's interface missing" "interface nosuch0 (a heartbeat link in ha.cf) does not exist"
st standbyd 'del(.link[0].last_rx_ms_ago)'
finds "a silent link" "no heartbeat from the peer on lo yet"
st vdiskd '.mirror = "unprotected"'
finds "hot standby without a mirror" "clients have hot standby on but vdiskd has no mirror peer"
st vdiskd '.mirror = "degraded"'
finds "a degraded mirror" "mirror: degraded"
# heard but refused: which of the two servers' files differs
st standbyd 'del(.link[0].last_rx_ms_ago)'
st standbyd '.dropped_bad_auth = 37'
finds "authkeys differ" "heartbeats arrive but 37 fail authentication: /etc/ha.d/authkeys differs"
st standbyd 'del(.link[0].last_rx_ms_ago)'
st standbyd '.dropped_wrong_cluster = 4'
finds "another cluster" "heartbeats arrive but 4 name another cluster"
st standbyd '.dropped_bad_auth = 2'
doctor
! grep -q "fail authentication" <<<"$OUT"; ok $? "refused heartbeats while the peer is heard: not blamed (a PC may forge them)"
sound
st vdiskd '.mirror = "degraded"'
st vdiskd '.mirror_down = [{"name": "PC001", "why": "refused the replication login: Failed to log in to target. Status: Authentication failure(513)"}]'
finds "the pair secret differs" "mirror: the peer refuses this server's replication login: /etc/vdisk/mirror.secret differs"
st vdiskd '.mirror = "degraded"'
st vdiskd '.mirror_down = [{"name": "PC001", "why": "stopped answering"}]'
finds "a degraded mirror, with why" "mirror: degraded, the peer lacks writes of hot-standby clients: PC001 stopped answering"

# another daemon on 3260 (tgtd, say): its name and pid
ip netns exec "$NS" python3 -c 'import socket,time,sys
s=socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("0.0.0.0", 3260)); s.listen(1); print("up", flush=True); time.sleep(600)' >"$T/py" &
py=$!
pids+=($py)
wait_until 5000 grep -q up "$T/py"
finds "another daemon on 3260" "port 3260/tcp (iSCSI) is held by python3 (pid $py,"
kill "$py"
wait "$py" 2>/dev/null

# pxed down on the active server (standbyd starts it there), not on the standby
kill "${pids[2]}"
wait "${pids[2]}" 2>/dev/null
finds "pxed not running on the active server" "pxed does not answer though this server is active"
st standbyd '.state = "standby"'
doctor
is "$RC" 0 "pxed not running on a standby: exit 0 ($(grep pxed <<<"$OUT"))"
kill "${pids[1]}"
wait "${pids[1]}" 2>/dev/null
finds "vdiskd not running" "vdiskd does not answer on its control socket"
doctor
is "$(tail -1 <<<"$OUT")" "2 problems found" "the count is the last line (vdiskd and pxed)"
in_ns "$V" doctor extra >/dev/null 2>&1
is "$?" 2 "an operand: usage error"
done_testing
