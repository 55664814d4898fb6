# timeline.sh: where a client's failover stall went, from the logs the lab keeps: the
# servers' daemons date their lines (local time, ms), serial-ts.pl dates the client's serial
# lines (seconds after QEMU started). For bash scripts to source after pair.sh.
#
#   lab_failover_timeline I CUT NEW OLD TSLOG START
#
# prints one line: each step of client I's failover in ms after CUT (epoch seconds), NEW the
# server that took over, OLD the one whose power was cut, TSLOG the client's dated serial log,
# START the epoch at which its QEMU started. A step that is not in the logs is left out.

# lab_log_when LOG SINCE TEXT: the epoch (s.ms) of LOG's first line holding TEXT that is
# dated at or after SINCE; nothing when there is none.
lab_log_when() {
	awk -v since="$2" -v text="$3" '
	index($0, text) {
		split($1, d, "-"); split($2, t, ":")
		e = mktime(d[1] " " d[2] " " d[3] " " t[1] " " t[2] " 0") + t[3]
		if (e >= since) { printf "%.3f\n", e; exit }
	}' "$1" 2>/dev/null
}

# lab_log_line LOG SINCE TEXT: that line itself, past its date.
lab_log_line() {
	awk -v since="$2" -v text="$3" '
	index($0, text) {
		split($1, d, "-"); split($2, t, ":")
		e = mktime(d[1] " " d[2] " " d[3] " " t[1] " " t[2] " 0") + t[3]
		if (e >= since) { sub(/^[^ ]* [^ ]* [^ ]* [^ ]* /, ""); print; exit }
	}' "$1" 2>/dev/null
}

# lab_log_last_before LOG UNTIL TEXT: the last line holding TEXT dated before UNTIL.
lab_log_last_before() {
	awk -v until="$2" -v text="$3" '
	index($0, text) {
		split($1, d, "-"); split($2, t, ":")
		e = mktime(d[1] " " d[2] " " d[3] " " t[1] " " t[2] " 0") + t[3]
		if (e < until) last = $0
	}
	END { if (last != "") print last }' "$1" 2>/dev/null
}

# lab_ts_when TSLOG START SINCE TEXT: the epoch of TSLOG's first line holding TEXT dated at
# or after SINCE.
lab_ts_when() {
	awk -v start="$2" -v since="$3" -v text="$4" '
	index($0, text) && $1 + start >= since { printf "%.3f\n", $1 + start; exit }' "$1" 2>/dev/null
}

# lab_ms_after T0 T: T - T0 in whole ms; "?" when T is empty.
lab_ms_after() {
	[ -n "$2" ] || { echo "?"; return; }
	awk -v a="$1" -v b="$2" 'BEGIN { printf "%d", (b - a) * 1000 + (b >= a ? 0.5 : -0.5) }'
}

# lab_longest_stall TSLOG START SINCE: "MS END" of the longest stall line dated at or after
# SINCE (END its epoch: when the I/O completed); nothing when there is none.
lab_longest_stall() {
	awk -v start="$2" -v since="$3" '
	$1 + start >= since && / ql-workload: stall [0-9]+ ms/ {
		ms = $4 + 0
		if (ms > best) { best = ms; end = $1 + start }
	}
	END { if (best) printf "%d %.3f\n", best, end }' "$1" 2>/dev/null
}

# lab_conn_at_cut I CUT OLD: "ADDR:PORT" of client I's iSCSI connection to srv-OLD when its
# power was cut (its vdiskd's last session line for the client's IQN before CUT).
lab_conn_at_cut() {
	local iqn
	iqn=$("$BUILD/vdiskctl" --db "$LAB_TMP/admin.db" client show "$(lab_client_name "$1")" |
		sed -n 's/^iqn: *//p')
	lab_log_last_before "$LAB_TMP/$3/vdiskd.log" "$2" "normal session for $iqn" |
		sed -n 's/.*\] [a-z]*: \([0-9.]*:[0-9]*\): normal session.*/\1/p'
}

# lab_tickled NEW CUT CONN: srv-NEW's standbyd tickled CONN after CUT (its debug line per
# connection).
lab_tickled() {
	[ -n "$3" ] && [ -n "$(lab_log_when "$LAB_TMP/$1/standbyd.log" "$2" "tickle ACKs: to $3 ")" ]
}

lab_failover_timeline() {
	local i=$1 cut=$2 new=$3 old=$4 ts=$5 start=$6
	local nd=$LAB_TMP/$new name iqn conn out t tickle stall
	name=$(lab_client_name "$i")
	iqn=$("$BUILD/vdiskctl" --db "$LAB_TMP/admin.db" client show "$name" | sed -n 's/^iqn: *//p')
	out="$name failover (ms after the cut):"
	step() { out+=" $1 $(lab_ms_after "$cut" "$2"),"; }
	step "peer dead" "$(lab_log_when "$nd/standbyd.log" "$cut" "peer srv-$old dead")"
	step "taking over" "$(lab_log_when "$nd/standbyd.log" "$cut" "-> taking_over")"
	step "vdiskd primary" "$(lab_log_when "$nd/vdiskd.log" "$cut" "role: primary")"
	step "address" "$(lab_log_when "$nd/standbyd.log" "$cut" "resource IPaddr::")"
	t=$(lab_log_when "$nd/standbyd.log" "$cut" "tickle ACKs: ")
	tickle=$(lab_log_line "$nd/standbyd.log" "$cut" "tickle ACKs: ")
	out+=" tickle $(lab_ms_after "$cut" "$t") (${tickle#*tickle ACKs: }"
	# The client's connection to OLD at the cut, and whether the tickled list held it.
	conn=$(lab_conn_at_cut "$i" "$cut" "$old")
	if [ -z "$conn" ]; then
		out+="; its connection unknown),"
	elif lab_tickled "$new" "$cut" "$conn"; then
		out+="; $conn listed),"
	else
		out+="; $conn NOT listed),"
	fi
	step "connection fails" "$(lab_ts_when "$ts" "$start" "$cut" "Kernel reported iSCSI connection")"
	step "login on srv-$new" "$(lab_log_when "$nd/vdiskd.log" "$cut" "normal session for $iqn")"
	step "fence" "$(lab_log_when "$nd/vdiskd.log" "$cut" "fence: the peer is")"
	step "operational" "$(lab_ts_when "$ts" "$start" "$cut" "is operational after recovery")"
	stall=$(lab_longest_stall "$ts" "$start" "$cut")
	if [ -n "$stall" ]; then
		set -- $stall
		out+=" longest stall $1 ms, ending at $(lab_ms_after "$cut" "$2")"
	else
		out+=" no stall"
	fi
	echo "$out"
}
