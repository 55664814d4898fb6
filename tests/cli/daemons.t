#!/usr/bin/env bash
# vdiskctl talking to daemons over their control sockets (a stand-in daemon here): status of
# running and absent daemons, overlay reset of a selection, errors passed on; and the control
# socket's own rules (mode 0660, a live socket is not stolen, over-long requests dropped).
source "$(dirname "$0")/../lib/tap.sh"
V=$BUILD/vdiskctl
FAKE=$BUILD/tests/helpers/ctl_fake
T=$(mktemp -d)
pids=()
trap 'kill "${pids[@]}" 2>/dev/null; wait; rm -rf "$T"' EXIT
export VDISK_DB=$T/vdisk.db VDISK_RUN_DIR=$T/run
mkdir -p "$VDISK_RUN_DIR"
"$V" init >/dev/null
printf 'name,mac\nPC001,52:54:00:00:00:01\nPC002,52:54:00:00:00:02\nBUSY,52:54:00:00:00:03\n' |
	"$V" client import - >/dev/null

"$V" status >"$T/out" 2>"$T/err"
is "$?" 0 "status with no daemon running succeeds"
is "$(grep -c 'not running' "$T/out")" 3 "and says each of the three is not running"

# vdiskd's status as vdiskd gives it: one JSON object, lists and records included
cat >"$T/vdiskd.st" <<'ST'
{"status":{"ok":true,"node":"srv-a","role":"primary","clients":2,"mirror":"in-sync",
 "client":[{"name":"PC001","image":"base","sessions":1,"reads":10,"writes":20,
            "bytes_read":4096,"bytes_written":8192,"reset_pending":false},
           {"name":"PC002","image":"base","sessions":0,"reads":0,"writes":0,
            "bytes_read":0,"bytes_written":0,"reset_pending":true}],
 "mirror_client":[{"name":"PC001","state":"in-sync","dirty":0,"gen":"0000000000000012",
                   "peer_gen":"00000000000000ab","held":0}]},
 "overlay-reset BUSY":{"ok":false,"error":"BUSY has a session open"},
 "overlay-reset":{"ok":true}}
ST
printf '{"status":{"ok":true,"state":"active","peer":"srv-b","peer_status":"alive","sessions":3}}\n' >"$T/standbyd.st"
"$FAKE" "$VDISK_RUN_DIR/vdiskd.sock" "$T/vdiskd.log" "$T/vdiskd.st" & pids+=($!)
"$FAKE" "$VDISK_RUN_DIR/standbyd.sock" "$T/standbyd.log" "$T/standbyd.st" & pids+=($!)
wait_until 5000 eval '[ -S "$VDISK_RUN_DIR/standbyd.sock" ] && [ -S "$VDISK_RUN_DIR/vdiskd.sock" ]'
is "$(stat -c %a "$VDISK_RUN_DIR/vdiskd.sock")" 660 "control socket is created mode 0660 (its group: the pair's daemons)"

"$V" status >"$T/out"
grep -q '^standbyd: running' "$T/out" && grep -q '^  state: active' "$T/out"; ok $? "status shows a running daemon's members as lines"
grep -q '^  client: PC002 image base sessions 0 reads 0 writes 0 bytes_read 0 bytes_written 0 reset_pending true$' "$T/out"
ok $? "a record of a list on one line, its name first"
grep -q '^pxed: not running' "$T/out"; ok $? "and an absent one"
"$V" status --json >"$T/out"
grep -q '"standbyd":{"state":"active","peer":"srv-b","peer_status":"alive","sessions":3}' "$T/out" &&
	grep -q '"pxed":null' "$T/out"; ok $? "status --json: standbyd's answer as it gave it, less ok; pxed null"
# jq-free reading of the document: python3's json module
py() { python3 -c "import json,sys; d=json.load(open('$T/out')); print($1)" 2>&1; }
if command -v python3 >/dev/null; then
	is "$(py 'd["vdiskd"]["clients"] + 1')" 3 "vdiskd's part is there, its numbers numbers"
	is "$(py 'len(d["vdiskd"]["client"])')" 2 "a list (client) is an array of both"
	is "$(py 'd["vdiskd"]["client"][0]["bytes_written"]')" 8192 "a client is a record, its figures numbers"
	is "$(py 'd["vdiskd"]["client"][1]["reset_pending"]')" True "a flag is true"
	is "$(py 'd["vdiskd"]["mirror_client"][0]["gen"]')" 0000000000000012 "a hex generation stays text"
	is "$(py 'd["vdiskd"]["mirror"]')" in-sync "a word stays text"
	is "$(py '"ok" in d["vdiskd"]')" False "the answer's ok is not repeated"
else
	skip "the JSON document read back" "no python3"
fi

# A daemon that answers what is not an answer: said, not shown as a status.
printf '{"status":{"ok":"yes"}}\n' >"$T/standbyd.st"
"$V" standby status >"$T/out" 2>"$T/err"
is "$?" 1 "an answer that is not one fails"
grep -q "standbyd .*: the answer is not a control-socket answer" "$T/err"; ok $? "and says so: $(cat "$T/err")"
printf '{"status":{"ok":true,"state":"active","peer":"srv-b","peer_status":"alive","sessions":3}}\n' >"$T/standbyd.st"

"$V" client reset --range PC001-PC002 >"$T/out" 2>"$T/err"
is "$?" 0 "reset of a range"
is "$(grep -c '^overlay-reset PC00[12]$' "$T/vdiskd.log")" 2 "vdiskd was asked once per client"
"$V" client reset --name BUSY >"$T/out" 2>"$T/err"
is "$?" 1 "a refused reset is a runtime failure"
grep -q "vdiskd: BUSY has a session open" "$T/err"; ok $? "with vdiskd's reason: $(cat "$T/err")"
"$V" client reset --all --dry-run >"$T/out"
is "$(grep -c '^would reset' "$T/out")" 3 "dry run lists, sends nothing"
is "$(grep -c ^overlay-reset "$T/vdiskd.log")" 3 "no request from the dry run"
"$V" client reset >"$T/out" 2>"$T/err"
is "$?" 2 "reset without a selection is a usage error"

# The socket's own rules.
"$FAKE" "$VDISK_RUN_DIR/vdiskd.sock" "$T/second.log" "$T/vdiskd.st" 2>"$T/err2"
is "$?" 1 "a second daemon does not steal a live socket"
head -c 5000 /dev/zero | tr '\0' x | timeout 3 socat - "UNIX-CONNECT:$VDISK_RUN_DIR/vdiskd.sock" >"$T/long" 2>/dev/null
is "$(wc -c <"$T/long")" 0 "an over-long request gets no answer (dropped)"
"$V" status >"$T/out"
grep -q '^vdiskd: running' "$T/out"; ok $? "the daemon still serves after it"
kill "${pids[0]}"; wait "${pids[0]}" 2>/dev/null
[ ! -e "$VDISK_RUN_DIR/vdiskd.sock" ]; ok $? "socket removed on exit"
"$V" client reset --name PC001 >"$T/out" 2>"$T/err"
grep -q "vdiskd is not running" "$T/err"; ok $? "reset with vdiskd gone says so"
done_testing
