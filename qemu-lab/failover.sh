#!/bin/bash
# failover.sh (`make lab`, issue 8): real diskless PCs in QEMU boot from the server pair, run
# as an admin runs it (pair.sh), and the primary loses its power under them. Prints PASS or
# FAIL per check and the timings it measured; exit status 1 if any check failed, 2 if the
# lab could not be set up (not root, no QEMU). Serial and daemon logs are kept in LAB_LOGS.
#
# Environment: LAB_CLIENTS (default 2; the last client has no hot standby, the others have
# it), LAB_LOGS (default $BUILD/qemu-lab/logs), LAB_BOOT_LIMIT (seconds, default 240),
# LAB_KEEPALIVE / LAB_DEADTIME (ha.cf, default 100ms / 500ms), LAB_CLIENT_NICE (the booted
# clients' nice value, default 0), LAB_CAPTURE=1 (the LAN's iSCSI and ARP packets into
# lan.pcap beside the logs).
#
# The story: both servers start, srv-a active. Every client boots and runs the workload.
# Power cut of srv-a: srv-b takes over; hot-standby clients go on with no I/O error and no
# mismatch (the workload re-reads every block it was told was written); the client without
# hot standby is refused by srv-b. The first client reboots and boots from srv-b; the one
# without hot standby reboots and gets no answer. srv-a returns: resync, then auto_failback
# moves the role back to srv-a under the running clients, again with no mismatch.
set -u
SRCDIR=${SRCDIR:-$(cd "$(dirname "$0")/.." && pwd)}
BUILD=${BUILD:-$SRCDIR/build}
LAB_CLIENTS=${LAB_CLIENTS:-2}
LAB_LOGS=${LAB_LOGS:-$BUILD/qemu-lab/logs}
LAB_BOOT_LIMIT=${LAB_BOOT_LIMIT:-240}
RATE=50 BLOCKS=256	# a sweep re-reads every block in BLOCKS / RATE = ~5 s
STALL_TARGET_MS=1000 BOOT_TARGET_S=20

[ "$(id -u)" = 0 ] || { echo "lab: needs root (network namespaces, taps)" >&2; exit 2; }
for p in qemu-system-x86_64 in.tftpd socat; do
	command -v "$p" >/dev/null ||
		{ echo "lab: $p missing (make deps installs qemu-lab/deps.txt)" >&2; exit 2; }
done
perl -MTime::HiRes -e 1 2>/dev/null ||
	{ echo "lab: perl's Time::HiRes missing (package perl; make deps)" >&2; exit 2; }
[ "$LAB_CLIENTS" -ge 2 ] 2>/dev/null ||
	{ echo "lab: LAB_CLIENTS must be 2 or more (one client has no hot standby)" >&2; exit 2; }
for p in vdiskd vdiskctl standbyd pxed qemu-lab/disk.img; do
	[ -e "$BUILD/$p" ] || { echo "lab: $BUILD/$p missing (make all lab-image)" >&2; exit 2; }
done

source "$SRCDIR/qemu-lab/lab.sh"
source "$SRCDIR/qemu-lab/pair.sh"
source "$SRCDIR/qemu-lab/timeline.sh"
lab_init lab-run || exit 2
NOHS=$LAB_CLIENTS	# the client without hot standby
T0=$(date +%s.%N)
fails=0 passes=0
TIMINGS=() PHASES=() STEPS=()

# result NAME RC DETAIL: one check's verdict. Callers keep RC in $rc first when NAME has a
# command substitution: it would reset $? before RC is expanded.
result() {
	if [ "$2" = 0 ]; then
		passes=$((passes + 1)); echo "PASS $1${3:+: $3}"
	else
		fails=$((fails + 1)); echo "FAIL $1${3:+: $3}"
	fi
}

# timing NAME VALUE UNIT [TARGET]: a measured figure, with the issue's target if it has one.
timing() {
	local line="TIME $1: $2${3:+ $3}"
	if [ -n "${4:-}" ]; then
		if awk -v v="$2" -v t="$4" 'BEGIN { exit !(v + 0 < t + 0) }'; then
			line+=" (target under $4 $3: met)"
		else
			line+=" (target under $4 $3: missed)"
		fi
	fi
	TIMINGS+=("$line")
	echo "$line"
}

say() { echo "# [$(lab_since "$T0") s] $*"; }

# watchdog: a daemon of a powered server died: the rest would only wait for limits, so stop.
watchdog() {
	local dead
	dead=$(lab_daemons_dead) || return 0
	result "the servers' daemons stay up" 1 "$(echo $dead) died (see its log in $LAB_LOGS)"
	echo "lab: $passes passed, $fails failed (stopped early)"
	exit 1
}

keep_logs() {
	local n f
	mkdir -p "$LAB_LOGS"
	rm -f "$LAB_LOGS"/*.log "$LAB_LOGS"/*.log.ts "$LAB_LOGS"/*.pcap
	cp "$LAB_TMP"/*.log "$LAB_TMP"/*.log.ts "$LAB_TMP"/*.pcap "$LAB_LOGS/" 2>/dev/null
	for n in a b; do
		for f in "$LAB_TMP/$n"/*.log; do [ -e "$f" ] && cp "$f" "$LAB_LOGS/srv-$n-$(basename "$f")"; done
		"$BUILD/vdiskctl" --db "$LAB_TMP/$n/vdisk.db" events --limit 100 \
			>"$LAB_LOGS/srv-$n-events.log" 2>&1
	done
}
trap 'keep_logs; lab_cleanup' EXIT

# Serial logs: what the workload says, without the console's carriage returns.
serial() { tr -d '\r' <"$1" 2>/dev/null; }
nlines() { serial "$1" | wc -l; }
# after LOG LINE: the log past line LINE
after() { serial "$1" | tail -n +"$(($2 + 1))"; }
# progress LOG [LINE]: the last progress line (past LINE)
progress() { after "$1" "${2:-0}" | grep '^ql-workload: t=' | tail -1; }
# kv LINE KEY: KEY=value out of a workload line
kv() { sed -n "s/.* $2=\([0-9]*\).*/\1/p" <<<"$1"; }
writes_of() { local w; w=$(kv "$(progress "$@")" writes); echo "${w:-0}"; }
# writes_until LOG LINE: the writes counted by the last progress line up to line LINE
writes_until() {
	local w
	w=$(kv "$(serial "$1" | head -n "$2" | grep '^ql-workload: t=' | tail -1)" writes)
	echo "${w:-0}"
}
# bad_lines LOG LINE: errors and mismatches the workload reported past LINE
bad_lines() { after "$1" "$2" | grep -E '^ql-workload: (error|mismatch)'; }
# max_stall LOG LINE: the longest stall reported past LINE, in ms (0: none)
max_stall() {
	after "$1" "$2" | sed -n 's/^ql-workload: stall \([0-9]*\) ms.*/\1/p' | sort -n | tail -1 |
		grep . || echo 0
}

declare -A QEMU_PID=() LOG=() BOOT_START=()

# boot I TAG: QEMU for client I on tap lab-tI, serial log $LAB_TMP/pcNN-TAG.log (and its
# dated lines in .log.ts). It boots at the priority of any program (a PC has a CPU of its own):
# at nice 10 a QEMU gets a tenth of the CPU share of each nice-0 process beside it, and with
# other workers' builds on the machine (load average 4) boots took 33-34 s instead of 15-16.
boot() {
	local i=$1 log
	log=$LAB_TMP/$(lab_client_name "$i")-$2.log
	LOG[$i]=$log
	lab_client "$NS_SW" "lab-t$i" "$(lab_client_mac "$i")" "$log"
	BOOT_START[$i]=$last_start
	QEMU_PID[$i]=$last_pid
}

# background I...: the booted clients' QEMU at nice LAB_CLIENT_NICE, by default 0, the
# priority they boot at. They used to run at nice 10 from there on, so that the servers'
# daemons would keep their timing through the power cuts; but a guest starved that way
# answered ARP, the tickle ACK and the reconnect's SYN-ACK 50-140 ms late (captures of the
# bridge at load average 13-20), and stalled 1.3-3.3 s at a failover, where one at nice 0
# stalled 0.6-0.9 s. The standby declared its peer dead as promptly with the clients at nice
# 0 (452-599 ms after the cut) as at nice 10 (480-875 ms).
background() {
	local i
	# Every thread: renice -p changes one, and QEMU's vCPU runs in a thread of its own.
	for i in "$@"; do
		renice -n "${LAB_CLIENT_NICE:-0}" -p $(ls "/proc/${QEMU_PID[$i]}/task" 2>/dev/null) >/dev/null 2>&1
	done
}

poweroff_client() {
	lab_stop_pids "${QEMU_PID[$1]}"
}

# when TSLOG TEXT: the seconds after QEMU started of the first line of TSLOG holding TEXT.
when() { grep -aF -m1 "$2" "$1" 2>/dev/null | cut -d' ' -f1; }

declare -A BOOT_S=()

# wait_boots I...: for each client, BOOT_S[I] = seconds from QEMU's start to the workload's
# first line ("" if it never came within LAB_BOOT_LIMIT, or the guest failed). Not in a
# command substitution: a signal must not wait for a subshell's loop.
wait_boots() {
	local i pending end=$(($(date +%s) + LAB_BOOT_LIMIT))
	for i in "$@"; do BOOT_S[$i]=""; done
	pending=("$@")
	while [ ${#pending[@]} -gt 0 ] && [ "$(date +%s)" -lt "$end" ]; do
		local left=()
		for i in "${pending[@]}"; do
			BOOT_S[$i]=$(when "${LOG[$i]}.ts" "ql-workload: start")
			[ -n "${BOOT_S[$i]}" ] && continue
			grep -aqE 'Kernel panic|FATAL' "${LOG[$i]}" 2>/dev/null ||
				! lab_alive "${QEMU_PID[$i]}" || left+=("$i")
		done
		pending=("${left[@]}")
		watchdog
		[ ${#pending[@]} -gt 0 ] && sleep 0.25
	done
}

# boot_verdict I WHAT: the boot check of client I, its timing and where the time went.
boot_verdict() {
	local i=$1 name
	name=$(lab_client_name "$i")
	if [ -n "${BOOT_S[$i]}" ]; then
		result "$name $2 to the workload" 0 "${BOOT_S[$i]} s"
		timing "$name $2 to the workload" "${BOOT_S[$i]}" s "$BOOT_TARGET_S"
	else
		result "$name $2 to the workload" 1 "no workload within $LAB_BOOT_LIMIT s"
	fi
	PHASES+=("$name $2: $(lab_boot_phases "${LOG[$i]}.ts")")
	say "$name boot phases (s after QEMU started, +s the phase took): ${PHASES[-1]#*: }"
}

# wait_writes I LINE N SECONDS: 0 once client I has acknowledged N writes past line LINE of
# its log (the first progress line past LINE is the base).
wait_writes() {
	local i=$1 line=$2 n=$3 end=$(($(date +%s) + $4)) w
	while [ "$(date +%s)" -lt "$end" ]; do
		w=$(after "${LOG[$i]}" "$line" | grep '^ql-workload: t=' | sed -n '1p;$p' |
			sed -n 's/.* writes=\([0-9]*\).*/\1/p' | tr '\n' ' ')
		set -- $w
		[ $# -ge 2 ] && [ $(($2 - $1)) -ge "$n" ] && return 0
		watchdog
		sleep 0.5
	done
	return 1
}

# judge I LINE WHAT: client I's workload past line LINE: progress, no error, no mismatch.
judge() {
	local i=$1 line=$2 what=$3 name bad last
	name=$(lab_client_name "$i")
	bad=$(bad_lines "${LOG[$i]}" "$line" | head -3 | tr '\n' ';')
	last=$(progress "${LOG[$i]}")
	[ -z "$bad" ] && [ "$(kv "$last" errors)" = 0 ] && [ "$(kv "$last" mismatches)" = 0 ] &&
		[ "$(kv "$last" check_failures)" = 0 ]
	result "$name $what: no I/O error, no mismatch" $? \
		"${bad:-writes=$(kv "$last" writes) verified=$(kv "$last" verified) errors=$(kv "$last" errors) mismatches=$(kv "$last" mismatches)}"
}

iqn_of() {
	"$BUILD/vdiskctl" --db "$LAB_TMP/admin.db" client show "$1" | sed -n 's/^iqn: *//p'
}

#
# The pair
#
say "building the pair: namespaces lab-$LAB_ID-{sw,a,b}, $LAB_CLIENTS taps"
lab_pair_topology "$LAB_CLIENTS" || { echo "lab: topology failed" >&2; exit 2; }
# LAB_CAPTURE=1: the client LAN's iSCSI and ARP traffic, headers only, into lan.pcap beside
# the logs (tcpdump), to see a failover packet by packet.
if [ "${LAB_CAPTURE:-0}" = 1 ]; then
	lab_bg "$NS_SW" tcpdump -i br0 -U -s 128 -w "$LAB_TMP/lan.pcap" 'arp or tcp port 3260' \
		>"$LAB_TMP/tcpdump.log" 2>&1
fi
lab_image_copy "$LAB_TMP/base.img" "lab.seconds=0 lab.rate=$RATE lab.blocks=$BLOCKS" ||
	{ echo "lab: base image copy failed" >&2; exit 2; }
lab_pair_db "$LAB_TMP/base.img" "$LAB_CLIENTS" "$NOHS" ||
	{ echo "lab: vdiskctl failed:" >&2; cat "$LAB_TMP/vdiskctl.log" >&2; exit 2; }
lab_pair_config a && lab_pair_config b || exit 2
lab_server_up a && lab_server_up b
lab_wait_sb a active 10 && lab_wait_sb b standby 5
result "pair up: srv-a active, srv-b standing by" $? \
	"srv-a $(lab_sb_state a), srv-b $(lab_sb_state b)"

#
# Boot every client
#
say "booting $LAB_CLIENTS clients"
for i in $(seq "$LAB_CLIENTS"); do boot "$i" boot; done
wait_boots $(seq "$LAB_CLIENTS")
background $(seq "$LAB_CLIENTS")
for i in $(seq "$LAB_CLIENTS"); do boot_verdict "$i" "boots from srv-a"; done
# A few seconds of writes before the cut, the mirror in sync first.
for i in $(seq "$LAB_CLIENTS"); do wait_writes "$i" 0 $((RATE * 3)) 30; done
for _ in $(seq 100); do [ "$(lab_field a vdiskd mirror)" = in-sync ] && break; sleep 0.2; done
say "srv-a mirror: $(lab_field a vdiskd mirror)"

#
# Power cut
#
declare -A CUT_LINE=()
for i in $(seq "$LAB_CLIENTS"); do CUT_LINE[$i]=$(nlines "${LOG[$i]}"); done
nohs_writes_at_cut=$(writes_of "${LOG[$NOHS]}")
# The machine is shared: a failover's figures mean little without its load.
read -r load_cut _ </proc/loadavg
say "power cut: srv-a (load average $load_cut)"
lab_power_cut a
cut=$LAB_CUT_AT
lab_wait_sb b active 15
rc=$?
takeover=$(lab_since "$cut")
result "srv-b takes over after the power cut" $rc "srv-b $(lab_sb_state b) after $takeover s"
timing "takeover (cut to srv-b active)" "$takeover" s

for i in $(seq $((LAB_CLIENTS - 1))); do
	# Past one whole sweep: every block acknowledged before the cut has been read again.
	wait_writes "$i" "${CUT_LINE[$i]}" $((BLOCKS + RATE)) 90
	rc=$?
	result "$(lab_client_name "$i") (hot standby) writes again after the failover" $rc \
		"writes=$(writes_of "${LOG[$i]}"), $(writes_until "${LOG[$i]}" "${CUT_LINE[$i]}") at the cut"
	judge "$i" "${CUT_LINE[$i]}" "across the failover"
	# Tickle ACKs end it only if srv-b's list (shipped up to ~1 s before the cut) held it.
	conn=$(lab_conn_at_cut "$i" "$cut" a)
	lab_tickled b "$cut" "$conn"
	rc=$?
	result "srv-b tickled the connection $(lab_client_name "$i") held at the cut" $rc \
		"${conn:-no session of it logged by srv-a}"
	timing "$(lab_client_name "$i") stall at the failover" "$(max_stall "${LOG[$i]}" "${CUT_LINE[$i]}")" ms "$STALL_TARGET_MS"
	STEPS+=("$(lab_failover_timeline "$i" "$cut" b a "${LOG[$i]}.ts" "${BOOT_START[$i]}")")
	say "${STEPS[-1]}"
done
timing "load average at the cut" "$load_cut" ""

# The client without hot standby: its initiator keeps asking srv-b, which must refuse it.
nohs=$(lab_client_name "$NOHS")
nohs_iqn=$(iqn_of "$nohs")
# Its initiator notices the dead connection only when a retransmission draws srv-b's RST.
end=$(($(date +%s) + 20))
while :; do
	refused=$(grep -c "login refused for $nohs_iqn" "$LAB_TMP/b/vdiskd.log")
	served=$(grep -c "normal session for $nohs_iqn" "$LAB_TMP/b/vdiskd.log")
	[ "$refused" -gt 0 ] || [ "$served" -gt 0 ] || [ "$(date +%s)" -ge "$end" ] && break
	sleep 0.5
done
nohs_writes=$(writes_of "${LOG[$NOHS]}")
# Up to two seconds of writes past the count taken at the cut are the dead server's: that
# count is the client's last progress line (once a second, read through its serial console,
# so up to a second old), and the writes of the second before the cut were acknowledged.
# Served by srv-b, the client would write RATE a second on and on.
[ "$refused" -gt 0 ] && [ "$served" = 0 ] && [ "$nohs_writes" -le $((nohs_writes_at_cut + 2 * RATE)) ]
result "$nohs (no hot standby) is refused by srv-b" $? \
	"$refused logins refused, $served served; writes $nohs_writes_at_cut at the cut, $nohs_writes now"

#
# Reboots after the failure
#
say "rebooting $(lab_client_name 1) and $nohs"
poweroff_client 1
poweroff_client "$NOHS"
boot 1 reboot
boot "$NOHS" reboot
wait_boots 1
background 1 "$NOHS"
boot_verdict 1 "rebooted boots from srv-b"
# By now the other reboot has had as long to get an answer.
! grep -aq 'ql-workload: start' "${LOG[$NOHS]}" &&
	"$BUILD/vdiskctl" --db "$LAB_TMP/b/vdisk.db" events --limit 50 2>/dev/null |
	grep -q "$nohs belongs to srv-a and has no hot standby"
result "$nohs rebooted gets no boot answer from srv-b" $? \
	"$(grep -ac 'ql-workload: start' "${LOG[$NOHS]}") workload starts; srv-b event: $("$BUILD/vdiskctl" --db "$LAB_TMP/b/vdisk.db" events --limit 50 2>/dev/null | grep -m1 -o "$nohs belongs.*")"
poweroff_client "$NOHS"
wait_writes 1 0 $((RATE * 3)) 30

#
# The primary returns: resync, then auto_failback under the running clients
#
declare -A BACK_LINE=()
for i in $(seq $((LAB_CLIENTS - 1))); do BACK_LINE[$i]=$(nlines "${LOG[$i]}"); done
say "srv-a powers on again"
mirror_down=$(lab_field b vdiskd mirror)
[ "$mirror_down" = degraded ]
result "srv-b reports its mirror degraded while srv-a is down" $? "mirror ${mirror_down:-?}"
back=$(date +%s.%N)
lab_power_on a
lab_wait_sb a standby 15
result "srv-a returns as the standby" $? "srv-a $(lab_sb_state a)"
end=$(($(date +%s) + 60)) m="" resync_s=""
while [ "$(date +%s)" -lt "$end" ]; do
	m=$(lab_field b vdiskd mirror)
	[ "$m" = in-sync ] && { resync_s=$(lab_since "$back"); break; }
	sleep 0.2
done
[ "$m" = in-sync ]
result "srv-b resyncs srv-a" $? "mirror $mirror_down, then ${m:-?}"
[ "$m" = in-sync ] && timing "resync (power on to srv-b in-sync)" "$resync_s" s
lab_wait_sb a active 60
failback=$?
failback_s=$(lab_since "$back")
result "auto_failback: srv-a active again" $failback "srv-a $(lab_sb_state a), srv-b $(lab_sb_state b)"
[ $failback = 0 ] && timing "failback (power on to srv-a active)" "$failback_s" s
for i in $(seq $((LAB_CLIENTS - 1))); do
	if [ $failback != 0 ]; then
		result "$(lab_client_name "$i") across the failback" 1 "no failback happened"
		continue
	fi
	wait_writes "$i" "${BACK_LINE[$i]}" $((BLOCKS + RATE)) 90
	rc=$?
	result "$(lab_client_name "$i") writes on after the failback" $rc
	judge "$i" "${BACK_LINE[$i]}" "across the failback"
	timing "$(lab_client_name "$i") stall at the failback" "$(max_stall "${LOG[$i]}" "${BACK_LINE[$i]}")" ms "$STALL_TARGET_MS"
done

dead=$(lab_daemons_dead)
[ -z "$dead" ]
result "the servers' daemons stay up" $? "${dead:+$(echo $dead) died}"
# Shut down as an admin would: the daemons exit 0, and a sanitized build's leak check runs.
for n in a b; do
	lab_server_stop $n
	result "srv-$n's daemons exit cleanly on SIGTERM" $? "$LAB_STOPPED"
done
san=$(cat "$LAB_TMP"/[ab]/*.log | grep -c 'ERROR: AddressSanitizer\|ERROR: LeakSanitizer\|runtime error')
[ "$san" = 0 ]
result "no sanitizer report in the daemons' logs" $? "$san"
# what it said, here: the logs are kept, but the next run overwrites them
[ "$san" = 0 ] || grep -h -A14 'ERROR: AddressSanitizer\|ERROR: LeakSanitizer\|runtime error' \
	"$LAB_TMP"/[ab]/*.log | head -60 | sed 's/^/#   /'

echo "# timings:"
printf '#   %s\n' "${TIMINGS[@]}"
echo "# failover steps:"
printf '#   %s\n' "${STEPS[@]}"
echo "# boot phases (s after QEMU started, +s the phase took):"
printf '#   %s\n' "${PHASES[@]}"
echo "# logs kept in $LAB_LOGS; wall time $(lab_since "$T0") s"
echo "lab: $passes passed, $fails failed"
[ "$fails" = 0 ]
