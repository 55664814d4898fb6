#!/bin/bash
# make bench-mirror: what synchronous mirroring costs, on one pair in one run (network
# namespaces of tests/mirror/mirror-lib.sh: vdiskd + standbyd on two servers, a client):
#   4 KiB random writes at QD 1 and QD 32 through the service address, PC001 (hot standby,
#   mirrored) against PC002 (not mirrored), both overlays filled first so neither pays for
#   first writes; the HA link's round trip (ping) and TCP throughput (iperf3); resync
#   throughput (the secondary's vdiskd away while BENCH_RESYNC_MB are written, then timed
#   from "syncing" to "in-sync"); the client's stall at power cuts with deadtime 500ms; an
#   unmirrored client's QD1 writes alone and beside the mirrored client's FUA writes.
# Prints the figures, then each ratio against its goal from issue 7.
# The HA link is shaped to BENCH_HA_RATE (default 1gbit, a GbE cable; "none": the bare veth,
# far faster than any disk path). The write runs are made twice, on the shaped link and on
# the bare veth: on a GbE link the link itself caps mirrored 4 KiB writes (about 29,000/s)
# below 0.75 of what the local disk path does here, so the QD32 goal can only be judged on
# the bare link; the shaped figures say what a GbE cable does. Resync is timed on the shaped
# link (its goal is a share of the link's throughput). BENCH_SECONDS per write run (3), BENCH_REPEAT runs of each
# (3, the best counts), BENCH_CUTS (3),
# BENCH_MIRROR_TIMEOUT_MS (vdiskd's default, 3000), BENCH_RESYNC_MB (128), BENCH_IMAGE_MB (256).
# Needs root.
set -u
SRCDIR=$(cd "$(dirname "$0")/.." && pwd)
BUILD=${BUILD:-$SRCDIR/build}
[ "$(id -u)" = 0 ] || { echo "bench-mirror: needs root (network namespaces)" >&2; exit 1; }
for t in vdiskd standbyd vdiskctl tests/helpers/mirror_seqio tests/helpers/ctl_ask; do
	[ -x "$BUILD/$t" ] || { echo "bench-mirror: $BUILD/$t not built (make all tests)" >&2; exit 1; }
done
command -v sqlite3 >/dev/null || { echo "bench-mirror: sqlite3 missing" >&2; exit 1; }
command -v ping >/dev/null || { echo "bench-mirror: ping missing (iputils-ping)" >&2; exit 1; }
source "$SRCDIR/tests/lib/tap.sh" >/dev/null
MR_IMAGE_MB=${BENCH_IMAGE_MB:-256}
# vdiskd's own default: a shorter one gives up on a peer that is only slow on a busy machine
MR_MIRROR_TIMEOUT_MS=${BENCH_MIRROR_TIMEOUT_MS:-3000}
MR_FENCE=standbyd	# as a pair runs: writes made apart wait for the fence
source "$SRCDIR/tests/mirror/mirror-lib.sh"

SECS=${BENCH_SECONDS:-3}
REPEAT=${BENCH_REPEAT:-3}
CUTS=${BENCH_CUTS:-3}
RATE=${BENCH_HA_RATE:-1gbit}
RESYNC_MB=${BENCH_RESYNC_MB:-128}
BLOCKS=$((MR_IMAGE_MB * 256))
say() { echo "$*"; }
die() { echo "bench-mirror: $*" >&2; mr_show_logs >&2; exit 1; }

sb_topology >/dev/null || die "topology"
mr_setup || die "database"
# shape on|off: the HA link at RATE, or the bare veth
shape() {
	local ns
	[ "$RATE" != none ] || return 0
	for ns in "$NS_A" "$NS_B"; do
		if [ "$1" = on ]; then
			ip netns exec "$ns" tc qdisc add dev ha0 root tbf rate "$RATE" burst 512kb \
				latency 10ms || die "cannot shape ha0 to $RATE (BENCH_HA_RATE=none runs unshaped)"
		else
			ip netns exec "$ns" tc qdisc del dev ha0 root || die "cannot unshape ha0"
		fi
	done
}
shape on
mr_vdiskd_start a primary
mr_vdiskd_start b secondary
sb_pair_up >/dev/null
[ "$(sb_state a)" = active ] || die "a did not become active"
mr_wait_mirror a in-sync 10000 || die "a's mirror not in sync"
say "machine: $(nproc) cores, shared by the client and both servers"
say "HA link: ${RATE/none/unshaped veth}; image ${MR_IMAGE_MB} MiB; write runs ${SECS} s;" \
	"--mirror-timeout-ms $MR_MIRROR_TIMEOUT_MS"

# ---- the HA link
declare -A RTT
# ping_rtt LINK: the HA link's round trip now, kept as RTT[LINK]
ping_rtt() {
	RTT[$1]=$(ip netns exec "$NS_A" ping -c 50 -i 0.01 -q "$(mr_ha_addr b)" 2>/dev/null |
		sed -n 's|^rtt [^=]*= [0-9.]*/\([0-9.]*\)/.*|\1|p')
	[ -n "${RTT[$1]}" ] || die "ping over the HA link failed"
	say "HA link round trip ($1, ping, 50 x): avg ${RTT[$1]} ms"
}
LINKS="shaped bare"
[ "$RATE" != none ] || LINKS=bare
ping_rtt "${LINKS%% *}"
tcp_mbs=
if command -v iperf3 >/dev/null; then
	ip netns exec "$NS_B" iperf3 -s -1 -B "$(mr_ha_addr b)" -p 5201 >/dev/null 2>&1 &
	srv=$!
	sleep 0.3
	# receiver line: "[ 5] 0.00-3.00 sec  337 MBytes  943 Mbits/sec  receiver"
	mbit=$(ip netns exec "$NS_A" iperf3 -c "$(mr_ha_addr b)" -p 5201 -t 3 -f m 2>/dev/null |
		awk '/receiver/ { for (i = 1; i < NF; i++) if ($(i + 1) == "Mbits/sec") print $i }')
	wait $srv 2>/dev/null
	[ -n "$mbit" ] && tcp_mbs=$(awk -v m="$mbit" 'BEGIN { printf "%.1f", m / 8 }')
	say "HA link TCP throughput (iperf3, 3 s, a -> b): ${mbit:-?} Mbit/s = ${tcp_mbs:-?} MB/s"
else
	say "HA link TCP throughput: iperf3 not installed (apt-get install iperf3)"
fi

# ---- 4 KiB random writes, mirrored against unmirrored
for ini in "$MR_INI_HS" "$MR_INI_NOHS"; do
	out=$(mr_seqio fill "$SB_VIP:3260" "$ini" /dev/null --first 0 --count "$BLOCKS" --qd 32 \
		--quiet 2>&1)
	[ "$(mr_field "$out" acked)" = "$BLOCKS" ] || die "prefill $ini: $out"
done
mr_wait_mirror a in-sync 20000 || die "not in sync after the prefill"
# cpu_ticks NODE: user + system clock ticks NODE's vdiskd has used so far
cpu_ticks() {
	local pid
	eval "pid=\$MR_VPID_$1"
	awk '{ print $14 + $15 }' "/proc/$pid/stat" 2>/dev/null || echo 0
}
hz=$(getconf CLK_TCK)
declare -A IOPS LAT P99
per_write() { awk -v t="$1" -v hz="$hz" -v n="$2" 'BEGIN { printf "%.1f", n ? t / hz * 1e6 / n : 0 }'; }
# write_runs LINK: best of REPEAT runs, mirrored and unmirrored in turn (the machine is
# shared with other work, and the best run is the one it disturbed least), kept as
# IOPS/LAT/P99[LINK who qd]
write_runs() {
local link=$1 qd rep who ini ca cb bl out iops
for qd in 1 32; do
	for rep in $(seq "$REPEAT"); do
		for who in hs nohs; do
			[ $who = hs ] && ini=$MR_INI_HS || ini=$MR_INI_NOHS
			# no failure is expected here: a long I/O timeout, so a slow moment is
			# measured rather than turned into a reconnect
			ca=$(cpu_ticks a) cb=$(cpu_ticks b)
			mr_seqio write "$SB_VIP:3260" "$ini" /dev/null --blocks "$BLOCKS" \
				--qd $qd --seconds "$SECS" --io-timeout-ms 10000 \
				--connect-timeout-ms 5000 --quiet >"$SB_DIR/bench.out" 2>&1 &
			# the mirror's counters near the run's end (an idle disk closes after it)
			sleep "$(awk -v s="$SECS" 'BEGIN { print s - 0.5 }')"
			bl=$(mr_vstatus a | grep "^mirror_client: PC001 ")
			wait $!
			out=$(cat "$SB_DIR/bench.out")
			ca=$(( $(cpu_ticks a) - ca )) cb=$(( $(cpu_ticks b) - cb ))
			iops=$(mr_field "$out" iops)
			[ -n "$iops" ] || die "qd $qd $who: $out"
			[ "$(mr_field "$out" reconnects)" = 0 ] ||
				say "note: qd $qd $who lost its session: $out"
			# CPU per write: both servers share this machine's cores, so a mirrored
			# write pays for two vdiskds here where real servers each have their own
			printf '%-6s 4 KiB randwrite QD%-2s %-10s run %s %7s IOPS  avg %6s us  p99 %6s us  vdiskd CPU/write a %s us, b %s us\n' \
				"$link" $qd "$([ $who = hs ] && echo mirrored || echo unmirrored)" "$rep" "$iops" \
				"$(mr_field "$out" lat_avg_us)" "$(mr_field "$out" p99_us)" \
				"$(per_write "$ca" "$(mr_field "$out" acked)")" \
				"$(per_write "$cb" "$(mr_field "$out" acked)")"
			[ $who = hs ] && [ -n "$bl" ] &&
				say "  writes to the peer so far: $(mr_field "$bl" mirrored)," \
					"$(mr_field "$bl" batched) of them in $(mr_field "$bl" batches)" \
					"WRITE BATCH commands"
			if [ "$iops" -gt "${IOPS[$link$who$qd]:-0}" ]; then
				IOPS[$link$who$qd]=$iops
				LAT[$link$who$qd]=$(mr_field "$out" lat_avg_us)
				P99[$link$who$qd]=$(mr_field "$out" p99_us)
			fi
		done
	done
done
for qd in 1 32; do
	for who in hs nohs; do
		printf '  best, %s link: QD%-2s %-10s %7s IOPS  avg %6s us  p99 %6s us\n' "$link" $qd \
			"$([ $who = hs ] && echo mirrored || echo unmirrored)" "${IOPS[$link$who$qd]}" \
			"${LAT[$link$who$qd]}" "${P99[$link$who$qd]}"
	done
done
}
for link in $LINKS; do
	if [ "$link" = bare ] && [ "$RATE" != none ]; then
		shape off
		ping_rtt bare
	fi
	write_runs "$link"
done
shape on
[ "$(mr_mirror_state a)" = in-sync ] || say "note: a's mirror is $(mr_mirror_state a) after the runs"

# ---- a neighbour's writes while a hot-standby client writes FUA: each FUA write makes the
# mirror's state file durable first; that fdatasync must not hold the other clients' I/O
# neighbour_run TAG: PC002's QD1 writes for SECS, kept as NB_P99/NB_AVG[TAG]
declare -A NB_P99 NB_AVG
neighbour_run() {
	local out
	out=$(mr_seqio write "$SB_VIP:3260" "$MR_INI_NOHS" /dev/null --blocks "$BLOCKS" --qd 1 \
		--seconds "$SECS" --io-timeout-ms 10000 --connect-timeout-ms 5000 --quiet 2>&1)
	[ -n "$(mr_field "$out" iops)" ] || die "neighbour $1: $out"
	NB_P99[$1]=$(mr_field "$out" p99_us)
	NB_AVG[$1]=$(mr_field "$out" lat_avg_us)
	say "unmirrored QD1 writes, $1: $(mr_field "$out" iops) IOPS  avg ${NB_AVG[$1]} us" \
		"p99 ${NB_P99[$1]} us"
}
neighbour_run alone
mr_seqio write "$SB_VIP:3260" "$MR_INI_HS" /dev/null --blocks "$BLOCKS" --qd 32 --fua \
	--seconds "$SECS" --io-timeout-ms 10000 --connect-timeout-ms 5000 --quiet \
	>"$SB_DIR/fua.out" 2>&1 &
fua_pid=$!
neighbour_run "beside FUA"
wait $fua_pid
out=$(cat "$SB_DIR/fua.out")
fua_iops=$(mr_field "$out" iops)
[ -n "$fua_iops" ] || die "FUA writer: $out"
say "mirrored 4 KiB FUA randwrite QD32 meanwhile: $fua_iops IOPS  avg $(mr_field "$out" lat_avg_us) us" \
	"p99 $(mr_field "$out" p99_us) us"

# ---- resync: b's vdiskd away while RESYNC_MB are written, then back
mr_vdiskd_stop b
out=$(mr_seqio fill "$SB_VIP:3260" "$MR_INI_HS" /dev/null --first 0 --count $((RESYNC_MB * 256)) \
	--qd 32 --quiet 2>&1)
[ "$(mr_field "$out" acked)" = $((RESYNC_MB * 256)) ] || die "resync fill: $out"
dirty=$(mr_client_field a PC001 dirty)
t_start=$(date +%s%3N)
mr_vdiskd_start b secondary
t_sync= t_done=
for _ in $(seq 6000); do
	st=$(mr_mirror_state a)
	[ -z "$t_sync" ] && [ "$st" = syncing ] && t_sync=$(date +%s%3N)
	[ "$st" = in-sync ] && { t_done=$(date +%s%3N); break; }
	sleep 0.01
done
[ -n "$t_done" ] || die "no in-sync within 60 s of b's return"
line=$(mr_vstatus a | grep "^mirror_client: PC001 ")
resync_ms=$((t_done - ${t_sync:-$t_start}))
[ "$resync_ms" -gt 0 ] || resync_ms=1
resync_mbs=$(awk -v mb="$RESYNC_MB" -v ms="$resync_ms" 'BEGIN { printf "%.1f", mb * 1.048576 / (ms / 1000) }')
from="syncing began"
[ -n "$t_sync" ] || from="b's vdiskd started (syncing never seen)"
say "resync: $RESYNC_MB MiB written while b was away ($dirty dirty chunks), in sync" \
	"$resync_ms ms after $from ($((t_done - t_start)) ms after b's start): $resync_mbs MB/s"
say "  a: $line"

# ---- stall at power cuts (deadtime SB_DEADTIME)
# PC001 stays logged in (an idle second session), as a PC does: vdiskd then never closes
# and reopens its mirror between cuts (tests/mirror/reopen.t is about that window).
mr_seqio_bg "$SB_DIR/hold.out" "$SB_DIR/hold.err" hold "$SB_VIP:3260" "$MR_INI_HS" /dev/null \
	--replacement-ms 60000
HOLD=$MR_BG
act=a max_stall=0 stalls="" lost_any=0
for i in $(seq "$CUTS"); do
	mr_one_cut "$act" "$SB_DIR/stall.seq" "cut$i" >/dev/null || die "cut $i: the writer did not run"
	stalls="$stalls ${CUT_STALL}"
	[ "$CUT_LOST" = 0 ] || lost_any=1
	max_stall=$(awk -v a="$max_stall" -v b="$CUT_STALL" 'BEGIN { print (b > a) ? b : a }')
	say "power cut $i of $act: takeover $CUT_TAKEOVER ms, client stall $CUT_STALL ms, lost $CUT_LOST"
	[ "$i" = "$CUTS" ] && break
	mr_bring_back "$act" || die "cut $i: $act did not come back in sync"
	act=$(mr_other "$act")
done

kill -TERM $HOLD
wait $HOLD

# ---- ratios against the goals
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2f", (b > 0) ? a / b : 0 }'; }
verdict() { [ "$1" = 1 ] && echo "goal met" || echo "GOAL MISSED"; }
echo
for link in $LINKS; do
	name="HA link $([ "$link" = bare ] && echo "unshaped (bare veth)" || echo "shaped to $RATE")"
	r=$(ratio "${IOPS[${link}hs32]}" "${IOPS[${link}nohs32]}")
	say "mirrored/unmirrored QD32 IOPS, $name: $r (goal >= 0.75):" \
		"$(verdict "$(awk -v r="$r" 'BEGIN { print (r >= 0.75) }')")"
	# every mirrored write crosses the HA link once: its TCP throughput caps mirrored IOPS
	[ "$link" = shaped ] && [ -n "$tcp_mbs" ] &&
		say "  the shaped link carries at most $(awk -v t="$tcp_mbs" 'BEGIN { printf "%.0f", t * 1e6 / 4096 }')" \
			"4 KiB writes/s, a bound of $(ratio "$(awk -v t="$tcp_mbs" 'BEGIN { printf "%.0f", t * 1e6 / 4096 }')" "${IOPS[${link}nohs32]}")" \
			"on this ratio"
	r=$(ratio "${LAT[${link}hs1]}" "${LAT[${link}nohs1]}")
	limit=$(awk -v u="${LAT[${link}nohs1]}" -v rtt="${RTT[$link]}" 'BEGIN { printf "%.0f", 1.3 * u + rtt * 1000 }')
	say "QD1 latency mirrored/unmirrored, $name: $r; mirrored ${LAT[${link}hs1]} us vs 1.3 x" \
		"${LAT[${link}nohs1]} us + RTT ${RTT[$link]} ms = $limit us:" \
		"$(verdict "$(awk -v m="${LAT[${link}hs1]}" -v l="$limit" 'BEGIN { print (m <= l) }')")"
done
say "a neighbour's QD1 write p99 beside a hot-standby client's FUA writes / alone:" \
	"${NB_P99[beside FUA]} / ${NB_P99[alone]} us = $(ratio "${NB_P99[beside FUA]}" "${NB_P99[alone]}")" \
	"(no goal; docs/mirror.md has the figures)"
if [ -n "$tcp_mbs" ]; then
	r=$(ratio "$resync_mbs" "$tcp_mbs")
	say "resync/TCP throughput: $resync_mbs / $tcp_mbs MB/s = $r (goal >= 0.8):" \
		"$(verdict "$(awk -v r="$r" 'BEGIN { print (r >= 0.8) }')")"
else
	say "resync/TCP throughput: not measured (no iperf3)"
fi
say "client stall at a power cut, deadtime $SB_DEADTIME:$stalls ms; longest $max_stall ms" \
	"(goal < 1000): $(verdict "$(awk -v s="$max_stall" 'BEGIN { print (s < 1000) }')")"
[ "$lost_any" = 0 ] || say "WRITES LOST at a power cut (see above)"
sb_logs_clean || say "SANITIZER REPORTS in the daemon logs (above)"
