#!/bin/bash
# The randomized, seeded, model-based test of the overlay and the mirror (issue 15, item 2):
# tests/helpers/mirror_model drives a vdiskd pair (roles by control socket, as standbyd
# would set them; no standbyd) with four clients, three hot-standby and one not, random
# commands against a reference model of every disk, and faults: logins and logouts, overlay
# resets, the HA link down and up, kill -9 and restart of either vdiskd, the secondary
# stopped past the mirror's timeout, the peer lost again during its resync, switchovers and
# takeovers after a power cut. After every step every block of every disk is checked on the
# serving server and, for hot-standby clients with the mirror in sync, in the other server's
# replica files. The driver's header says what it models and what it leaves out (no takeover
# from a degraded mirror: fencing of a degraded primary is not built yet).
#
# This script does for the driver what needs the namespaces: the driver writes a request
# line ("kill a", "start b secondary", "stop b", "cont b", "powercut a", "poweron a",
# "halink down|up") and waits for "ok" (a coprocess, so the script keeps its pids and
# namespace names).
#
#   MODEL_SEED=N      repeat a run's operations and faults (not their timing)
#   MODEL_SECONDS=S   how long to run (default 60; 30 under make check-asan)
#   MODEL_KEEP=DIR    where a failed run's files go (default $BUILD/model-logs/seed-N)
# make soak SECONDS=N runs it with fresh seeds until N seconds have passed.
source "$(dirname "$0")/../lib/tap.sh"
source "$SRCDIR/tests/mirror/mirror-lib.sh"
mr_require
MODEL_BIN=$BUILD/tests/helpers/mirror_model
[ -x "$MODEL_BIN" ] || skip_all "mirror_model not built (make tests)"

SEED=${MODEL_SEED:-$(od -An -N4 -tu4 /dev/urandom | tr -d ' ')}
SECS=${MODEL_SECONDS:-60}
[ -n "${SANITIZED:-}" ] && SECS=${MODEL_SECONDS:-30}
IMAGE_MB=${MODEL_IMAGE_MB:-16}
# vdiskd's default: a peer that stalls for less is not lost (this machine is shared)
MR_MIRROR_TIMEOUT_MS=${MODEL_MIRROR_TIMEOUT_MS:-3000}
# resyncs capped so that they last long enough for a fault to hit one (and the cap runs)
MR_VDISKD_OPTS="--verbose --resync-rate 40"
KEEP=${MODEL_KEEP:-$BUILD/model-logs/seed-$SEED}
CLIENTS="PC001:hs PC002:nohs PC003:hs PC004:hs"
T_START=$(date +%s)
diag "seed $SEED (MODEL_SEED=$SEED repeats its operations and faults, not their timing), $SECS s"

# model_setup: the database (servers a primary, b secondary; the clients above, restore
# mode), a base image whose blocks the driver recognizes, the pair secret
model_setup() {
	local V=("$BUILD/vdiskctl" --db "$SB_DIR/vdisk.db") n c i=1
	"$MODEL_BIN" mkbase "$SB_DIR/base.img" "$IMAGE_MB" || return 1
	"${V[@]}" init >/dev/null || return 1
	# logins without CHAP: tests/vdiskd/clientauth.t has it; the model is about the data
	"${V[@]}" setting set client_auth none >/dev/null || return 1
	# a logged-out client keeps its overlay until the driver resets it (the model's rule;
	# the discard after a restore-mode session is tests/vdiskd/clientauth.t's)
	"${V[@]}" setting set restore_discard_s 0 >/dev/null || return 1
	"${V[@]}" image add base --path "$SB_DIR/base.img" >/dev/null || return 1
	"${V[@]}" server add a --role primary --service-addr "$SB_VIP" --ha-addr 10.78.0.1 \
		>/dev/null || return 1
	"${V[@]}" server add b --role secondary --service-addr "$SB_VIP" --ha-addr 10.78.0.2 \
		>/dev/null || return 1
	for c in $CLIENTS; do
		"${V[@]}" client add --name "${c%:*}" --mac "52:54:00:00:00:0$i" --image base \
			--hot-standby "$([ "${c#*:}" = hs ] && echo on || echo off)" \
			--overlay restore >/dev/null || return 1
		i=$((i + 1))
	done
	printf 'mirror-test-pair-secret-0123456789\n' >"$SB_DIR/mirror.secret"
	chmod 600 "$SB_DIR/mirror.secret"
	for n in a b; do
		mkdir -p "$SB_DIR/$n/ov"
		sqlite3 "$SB_DIR/vdisk.db" ".backup '$SB_DIR/$n/vdisk.db'" || return 1
	done
}

# model_args: the driver's command line, a word per line (a is the DB's primary: first)
model_args() {
	local c name
	printf '%s\n' run --seed "$SEED" --seconds "$SECS" --blocks $((IMAGE_MB * 2048)) \
		--base "$SB_DIR/base.img" --target "$MR_TGT" --trace "$SB_DIR/model.trace" \
		--server "a,10.77.0.1:3260,$SB_DIR/a/vdiskd.sock,$SB_DIR/a/ov" \
		--server "b,10.77.0.2:3260,$SB_DIR/b/vdiskd.sock,$SB_DIR/b/ov"
	for c in $CLIENTS; do
		name=${c%:*}
		printf '%s\n' --client "$name,iqn.2026-11.lan.vdisk:${name,,},${c#*:}"
	done
}

# ---- what the driver asks for

# model_kill NODE: SIGKILL to NODE's vdiskd, returns once it is gone
model_kill() {
	local pid
	eval "pid=\${MR_VPID_$1:-}"
	[ -n "$pid" ] || return 1
	kill -9 "$pid" 2>/dev/null
	wait_until 2000 gone "$pid"
	eval "MR_VPID_$1="
	! kill -0 "$pid" 2>/dev/null
}

# model_signal NODE STOP|CONT: NODE's vdiskd stopped or continued
model_signal() {
	local pid
	eval "pid=\${MR_VPID_$1:-}"
	[ -n "$pid" ] && kill -"$2" "$pid"
}

# model_start NODE ROLE: vdiskd started without the pipes to the driver (a daemon holding
# them would keep the driver from seeing this script go away). Closed for this call only,
# in the numeric form: {var}>&- would close them for good.
model_start() {
	eval "mr_vdiskd_start \"\$1\" \"\$2\" $FROM_DRV<&- $TO_DRV>&-"
}

# model_request WORD...: does one request of the driver; 0 when done
model_request() {
	case "$1 ${2:-} ${3:-}" in
	"kill "[ab]" ") model_kill "$2" ;;
	"stop "[ab]" "|"cont "[ab]" ") model_signal "$2" "${1^^}" ;;
	"start "[ab]" primary"|"start "[ab]" secondary") model_start "$2" "$3" ;;
	"powercut "[ab]" ") sb_power_cut "$2"; eval "MR_VPID_$2=" ;;
	"poweron "[ab]" ") sb_power_on "$2" ;;
	"halink down "|"halink up ")
		ip -n "$NS_A" link set ha0 "$2" && ip -n "$NS_B" link set ha0 "$2" ;;
	*) return 1 ;;
	esac
}

check "topology" -- sb_topology
check "database, base image, pair secret" -- model_setup
check "a's vdiskd, primary" -- mr_vdiskd_start a primary
check "b's vdiskd, secondary" -- mr_vdiskd_start b secondary

mapfile -t ARGS < <(model_args)
coproc DRV { ip netns exec "$NS_C" "$MODEL_BIN" "${ARGS[@]}" 2>"$SB_DIR/model.err"; }
DRV_PID_SAVED=$DRV_PID
# Plain copies of the coprocess's pipes: bash marks a coprocess fd closed (-1) as soon as
# any redirection closes it, even for one command.
exec {FROM_DRV}<&"${DRV[0]}" {TO_DRV}>&"${DRV[1]}"
eval "exec ${DRV[0]}<&- ${DRV[1]}>&-"
requests=0
while IFS= read -r req <&"$FROM_DRV"; do
	requests=$((requests + 1))
	# shellcheck disable=SC2086 # the request's words
	if model_request $req >>"$SB_DIR/requests.log" 2>&1; then
		echo ok >&"$TO_DRV"
	else
		echo "error: $req failed (requests.log)" >&"$TO_DRV"
	fi
done
wait "$DRV_PID_SAVED"
rc=$?
sed 's/^/# /' "$SB_DIR/model.err"
ok "$rc" "seed $SEED: $SECS s of random commands and faults, every block as the model allows on both servers ($requests requests to this script)"
if [ "$rc" != 0 ]; then
	echo "# ---- the driver's trace (last 40 lines)"
	tail -40 "$SB_DIR/model.trace" | sed 's/^/#   /'
	mr_show_logs
	MR_KEEP=$KEEP
	diag "logs, trace and the disks' files kept in $KEEP"
fi
diag "wall time $(( $(date +%s) - T_START )) s"
check "no sanitizer report from the daemons" -- sb_logs_clean
done_testing
