# Shared by tests/mirror/*.t and vdisk-server/bench-mirror.sh: the standby pair of
# tests/ha/standby-lib.sh (namespaces sb-<id>-a, -b, client -c) with a vdiskd on each server
# serving the clients of one database, mirroring hot-standby clients over the HA link.
# Source it after tap.sh; then mr_setup, mr_vdiskd_start, ...
#
#   a: lan0 10.77.0.1, ha0 10.78.0.1   b: lan0 10.77.0.2, ha0 10.78.0.2   client 10.77.0.10
#   iSCSI on port 3260 of every address of a server (the service address 10.77.0.100 too),
#   replica listener on ha0 port 3261.
#   PC001 (iqn ...:pc001) has hot_standby on, PC002 (...:pc002) off; image 64 MiB, sparse.

source "$SRCDIR/tests/ha/standby-lib.sh"

MR_TGT=iqn.2026-11.lan.vdisk:disk
MR_INI_HS=iqn.2026-11.lan.vdisk:pc001
MR_INI_NOHS=iqn.2026-11.lan.vdisk:pc002
MR_REPL_PORT=3261
MR_IMAGE_MB=${MR_IMAGE_MB:-64}
MR_MIRROR_TIMEOUT_MS=${MR_MIRROR_TIMEOUT_MS:-300}
MR_SEQIO=$BUILD/tests/helpers/mirror_seqio
MR_CTL=$BUILD/tests/helpers/ctl_ask

# MR_KEEP=DIR keeps a copy of the run's files (logs, writer output) for a post-mortem.
mr_cleanup() {
	[ -n "${MR_KEEP:-}" ] && rm -rf "$MR_KEEP" && mkdir -p "$(dirname "$MR_KEEP")" && cp -a "$SB_DIR" "$MR_KEEP"
	sb_cleanup
}
trap mr_cleanup EXIT

mr_ha_addr() { case $1 in a) echo 10.78.0.1 ;; b) echo 10.78.0.2 ;; esac; }
mr_other() { case $1 in a) echo b ;; b) echo a ;; esac; }

# mr_require: for tests, skips them all unless root, the test helpers and sqlite3 are here
mr_require() {
	need_root
	[ -x "$MR_SEQIO" ] || skip_all "test helpers not built (make tests)"
	command -v sqlite3 >/dev/null || skip_all "sqlite3 missing"
}

# mr_make_db DB IMAGE: the pair's database at DB, its one image "base" at IMAGE.
mr_make_db() {
	local V=("$BUILD/vdiskctl" --db "$1")
	"${V[@]}" init >/dev/null || return 1
	# the PCs here are test initiators without CHAP (tests/vdiskd/clientauth.t tests it)
	"${V[@]}" setting set client_auth none >/dev/null || return 1
	# and their overlays stay between sessions (tests/vdiskd/clientauth.t: restore_discard_s)
	"${V[@]}" setting set restore_discard_s 0 >/dev/null || return 1
	"${V[@]}" image add base --path "$2" >/dev/null || return 1
	# the servers by the names vdiskd's --node gives: a non-hot-standby client is then
	# served by the primary only
	"${V[@]}" server add a --role primary --service-addr "$SB_VIP" --ha-addr 10.78.0.1 \
		>/dev/null || return 1
	"${V[@]}" server add b --role secondary --service-addr "$SB_VIP" --ha-addr 10.78.0.2 \
		>/dev/null || return 1
	"${V[@]}" client add --name PC001 --mac 52:54:00:00:00:01 --image base \
		--hot-standby on >/dev/null || return 1
	"${V[@]}" client add --name PC002 --mac 52:54:00:00:00:02 --image base \
		--hot-standby off >/dev/null
}

# mr_setup: the database (copied to each server: DB shipping is not what these tests test),
# the pair secret, and haresources that hand standbyd the vdiskd role before the address.
mr_setup() {
	local n db=$SB_DIR/vdisk.db
	truncate -s "${MR_IMAGE_MB}M" "$SB_DIR/base.img" || return 1
	mr_make_db "$db" "$SB_DIR/base.img" || return 1
	printf 'mirror-test-pair-secret-0123456789\n' >"$SB_DIR/mirror.secret"
	chmod 600 "$SB_DIR/mirror.secret"
	for n in a b; do
		mkdir -p "$SB_DIR/$n/ov"
		# .backup: a plain copy could miss what still sits in the -wal file
		sqlite3 "$db" ".backup '$SB_DIR/$n/vdisk.db'" || return 1
		echo "a vdiskd::$SB_DIR/$n/vdiskd.sock IPaddr::$SB_VIP/24/lan0" \
			>"$SB_DIR/$n/haresources"
	done
}

# mr_unpriv USER: after mr_setup, before any daemon starts: standbyd's loops will run as USER
# (SB_ARGS --user, as the packages run them as vdisk-ha) and reach what they reach in the
# packages: the state directory and the node's DB (USER's), and vdiskd's control socket
# through USER's group (vdiskd, root here, is put in that group: MR_VDISKD_GROUP).
mr_unpriv() {
	local n
	MR_VDISKD_GROUP=$(id -g "$1") || return 1
	chmod 711 "$SB_DIR" || return 1
	for n in a b; do
		chown "$1" "$SB_DIR/$n" "$SB_DIR/$n/vdisk.db" || return 1
	done
	SB_ARGS="${SB_ARGS:+$SB_ARGS }--user $1"
}

# mr_loop_unpriv NODE USER: NODE's standbyd loop runs as USER (all four uids), in USER's
# group, with no capability permitted or in effect
mr_loop_unpriv() {
	local pid u g f
	eval "pid=\${SB_PID_$1:-}"
	u=$(id -u "$2") && g=$(id -g "$2") || return 1
	f=$(awk '$1 ~ /^(Uid|Gid|CapPrm|CapEff):$/ { $1 = $1; print }' "/proc/$pid/status" \
		2>/dev/null | paste -sd' ')
	[ "$f" = "Uid: $u $u $u $u Gid: $g $g $g $g CapPrm: $(printf %016x 0) CapEff: $(printf %016x 0)" ] ||
		{ diag "$1's loop (pid ${pid:-none}): ${f:-gone}"; return 1; }
}

# mr_ctl NODE REQUEST...: vdiskd's answer as ctl_ask prints it ("key: value" lines; a list
# element "key: NAME k v k v ..."); fails on an error answer
mr_ctl() { local n=$1; shift; "$MR_CTL" "$SB_DIR/$n/vdiskd.sock" "$@" 2>/dev/null; }
# mr_answer NODE REQUEST...: "ok" when vdiskd answers ok, else "error: WHY"
mr_answer() {
	local n=$1 err
	shift
	if err=$("$MR_CTL" "$SB_DIR/$n/vdiskd.sock" "$@" 2>&1 >/dev/null); then echo ok
	else echo "error: ${err#ctl_ask: }"; fi
}
mr_vstatus() { mr_ctl "$1" status; }
# mr_mirror_state NODE: the member mirror of vdiskd's status, the pair's state ("" when none)
mr_mirror_state() { mr_vstatus "$1" | sed -n 's/^mirror: \([a-z-]*\).*/\1/p' | head -1; }
# mr_client_field NODE CLIENT FIELD: a member of CLIENT's element of the list mirror_client
mr_client_field() {
	mr_vstatus "$1" | awk -v c="$2" -v f="$3" \
		'$1 == "mirror_client:" && $2 == c { for (i = 3; i < NF; i++) if ($i == f) print $(i + 1) }'
}

# mr_wait_mirror NODE STATE MS: NODE's vdiskd reports "mirror": STATE within MS
mr_mirror_is() { [ "$(mr_mirror_state "$1")" = "$2" ]; }
mr_wait_mirror() { wait_until "$3" mr_mirror_is "$1" "$2"; }

# mr_vdiskd_start NODE primary|secondary [nomirror]: vdiskd in NODE's namespace, log in
# DIR/NODE-vdiskd.log; returns once its control socket answers (within 10 s: a
# loaded machine).
mr_vdiskd_start() {
	local n=$1 role=$2 peer args
	peer=$(mr_other "$n")
	args=(--db "$SB_DIR/$n/vdisk.db" --listen 0.0.0.0:3260 --overlay-dir "$SB_DIR/$n/ov"
		--ctl "$SB_DIR/$n/vdiskd.sock" --role "$role" --node "$n")
	if [ "${3:-}" != nomirror ]; then
		args+=(--replica-listen "$(mr_ha_addr "$n"):$MR_REPL_PORT"
			--mirror-peer "$(mr_ha_addr "$peer"):$MR_REPL_PORT"
			--mirror-secret "$SB_DIR/mirror.secret"
			--mirror-timeout-ms "$MR_MIRROR_TIMEOUT_MS")
		# MR_FENCE=standbyd: fenced through the node's standbyd (sb_start); else none:
		# these tests run the mirror alone, writes apart acknowledged at once
		if [ "${MR_FENCE:-none}" = standbyd ]; then
			args+=(--fence "$SB_DIR/$n.sock")
		else
			args+=(--fence none)
		fi
	fi
	# MR_VDISKD_OPTS: more options for every vdiskd started (--resync-rate, ...)
	args+=(${MR_VDISKD_OPTS:-})
	rm -f "$SB_DIR/$n/vdiskd.sock"
	echo "--- $(date +%T.%3N) vdiskd ${args[*]}" >>"$SB_DIR/$n-vdiskd.log"
	# MR_VDISKD_GROUP (mr_unpriv): root still, but in that group alone, as the packages'
	# vdiskd is in vdisk: its control socket is made of that group, whose callers it lets in
	ip netns exec "$(ns_of "$n")" ${MR_VDISKD_GROUP:+setpriv --regid="$MR_VDISKD_GROUP" \
		--groups="$MR_VDISKD_GROUP" --} "$BUILD/vdiskd" "${args[@]}" >>"$SB_DIR/$n-vdiskd.log" 2>&1 &
	eval "MR_VPID_$n=$!"
	disown
	wait_until 10000 eval "mr_ctl $n status >/dev/null"
}

# mr_vdiskd_stop NODE: SIGTERM to NODE's vdiskd, waits for it to go
mr_vdiskd_stop() {
	local pid
	eval "pid=\${MR_VPID_$1:-}"
	[ -n "$pid" ] || return 0
	kill "$pid" 2>/dev/null
	wait_until 3000 gone "$pid"
	kill -9 "$pid" 2>/dev/null
	eval "MR_VPID_$1="
}

# mr_seqio MODE PORTAL INITIATOR LOG [OPTIONS...]: mirror_seqio in the client namespace.
# In the background ("mr_seqio ... &") $! is a subshell: use mr_seqio_bg to signal it.
mr_seqio() {
	local mode=$1 portal=$2 ini=$3 log=$4
	shift 4
	ip netns exec "$NS_C" "$MR_SEQIO" "$mode" "$@" "$portal" "$MR_TGT" "$ini" "$log"
}

# mr_seqio_bg OUT ERR MODE PORTAL INITIATOR LOG [OPTIONS...]: the same in the background,
# stdout to OUT and stderr to ERR; MR_BG is the writer's own pid (ip netns exec execs it).
mr_seqio_bg() {
	local out=$1 err=$2 mode=$3 portal=$4 ini=$5 log=$6
	shift 6
	ip netns exec "$NS_C" "$MR_SEQIO" "$mode" "$@" "$portal" "$MR_TGT" "$ini" "$log" \
		>"$out" 2>"$err" &
	MR_BG=$!
}

# mr_field LINE NAME: the value after NAME in a "name value name value" line
mr_field() { awk -v f="$2" '{ for (i = 1; i < NF; i++) if ($i == f) { print $(i + 1); exit } }' <<<"$1"; }

# mr_fill LOG FIRST COUNT STRIDE PORTAL [INITIATOR]: blocks FIRST, FIRST + STRIDE, ... each
# written once; 0 when all COUNT were acknowledged (the initiator defaults to PC001's)
mr_fill() {
	local out
	out=$(mr_seqio fill "$5" "${6:-$MR_INI_HS}" "$1" --first "$2" --count "$3" \
		--stride "$4" --quiet --replacement-ms 5000 2>&1)
	[ "$(mr_field "$out" acked)" = "$3" ] || { diag "fill: $out"; return 1; }
}

# mr_verify LOG PORTAL: prints the number of PC001's lost blocks ("x": the check could not run)
mr_verify() {
	local out
	out=$(mr_seqio verify "$2" "$MR_INI_HS" "$1" --replacement-ms 5000 2>/dev/null)
	echo "${out:+$(mr_field "$out" lost)}" | sed 's/^$/x/'
}

# mr_wait_client NODE CLIENT STATE MS: CLIENT's own mirror on NODE is in STATE within MS
# (the pair's member "mirror" says in-sync while no mirror is open)
mr_client_is() { [ "$(mr_client_field "$1" "$2" state)" = "$3" ]; }
mr_wait_client() { wait_until "$4" mr_client_is "$1" "$2" "$3"; }

# mr_log_records LOG: acknowledged writes in a mirror_seqio log
mr_log_records() { echo $(( $(stat -c %s "$1" 2>/dev/null || echo 0) / 16 )); }

# mr_wait_records LOG N MS: LOG holds more than N records within MS
mr_has_records() { [ "$(mr_log_records "$1")" -gt "$2" ]; }
mr_wait_records() { WAIT_STEP=0.02 wait_until "$3" mr_has_records "$1" "$2"; }

# mr_one_cut ACTIVE LOG TAG: writes through the service address, cuts ACTIVE at a random
# moment, waits for the other node to serve, stops the writer, verifies LOG through the
# service address. Sets CUT_LOST, CUT_STALL, CUT_TAKEOVER, CUT_LUNCHG, and CUT_STATUS (the
# mirror_client line of MR_CUT_CLIENT, default PC001, on ACTIVE just before the cut).
# MR_WRITER_OPTS: more mirror_seqio options for the writer (--io-timeout-ms,
# --connect-timeout-ms, --qd).
mr_one_cut() {
	local act=$1 log=$2 tag=$3 stby w n0 t0 t1 out vout delay
	stby=$(mr_other "$act")
	CUT_LOST=x CUT_STALL=x CUT_TAKEOVER=x CUT_LUNCHG=x CUT_STATUS=
	mr_seqio_bg "$SB_DIR/$tag.out" "$SB_DIR/$tag.err" write "$SB_VIP:3260" "$MR_INI_HS" \
		"$log" --blocks 4096 --qd 16 ${MR_WRITER_OPTS:-}
	w=$MR_BG
	if ! mr_wait_records "$log" "$(mr_log_records "$log")" 5000; then
		kill -TERM $w; wait $w
		diag "$tag: the writer never got a write acknowledged: $(tail -2 "$SB_DIR/$tag.err")"
		return 1
	fi
	# from the first acknowledged write on: the first writes after a node came back can
	# meet a mirror still connecting or resyncing
	delay=$(( ${MR_CUT_MIN_MS:-0} + RANDOM % ${MR_CUT_SPAN_MS:-1200} ))
	sleep "$((delay / 1000)).$(printf %03d $((delay % 1000)))"
	# the active's mirror counters just before (batch.t)
	CUT_STATUS=$(mr_vstatus "$act" | grep "^mirror_client: ${MR_CUT_CLIENT:-PC001} ")
	t0=$(date +%s%3N)
	sb_power_cut "$act"
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

# mr_bring_back NODE: the cut NODE powered on, its vdiskd started as secondary and its
# standbyd; 0 once it stands by and the other node's mirror is in sync with it again.
mr_bring_back() {
	local peer
	peer=$(mr_other "$1")
	sb_power_on "$1"
	mr_vdiskd_start "$1" secondary
	sb_start "$1"
	sb_wait_state "$1" standby 5000 && mr_wait_mirror "$peer" in-sync 20000
}

# mr_show_logs: the tail of every daemon log, as TAP comments (after a failure)
mr_show_logs() {
	local f
	for f in "$SB_DIR"/*.log; do
		echo "# ---- $(basename "$f") (last 15 lines)"
		tail -15 "$f" | sed 's/^/#   /'
	done
}
