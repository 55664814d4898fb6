#!/bin/bash
# vdiskd against tgt (Debian's tgtd), on loopback, over the same image, in the same run:
#   4 KiB random read QD 32 and 1 MiB sequential read QD 16 (libiscsi's iscsi-perf),
#   4 KiB random write QD 32: vdiskd into a fresh client overlay, tgt into a plain file,
#   boot storm: 100 sessions reading the same 64 KiB regions of the base at once
#   (vdiskd: 100 clients, each with its own overlay on the one base; tgt: 100 sessions on
#   one LUN), aggregate MB/s and p99 latency (tests/helpers/store_iscsiload).
# Prints one line per workload with the ratio vdiskd/tgt (for latency, tgt/vdiskd, so above
# 1 is better for vdiskd too). Needs root (tgtd). Environment: VS_BENCH_SECONDS (10 per
# run), VS_BENCH_MB (image size, 512), VS_BENCH_THREADS (vdiskd disk workers, 8).
SRCDIR=${SRCDIR:-$(cd "$(dirname "$0")/../.." && pwd)}
BUILD=${BUILD:-$SRCDIR/build}
secs=${VS_BENCH_SECONDS:-10}
mb=${VS_BENCH_MB:-512}
threads=${VS_BENCH_THREADS:-8}
tgt_port=32710
vd_port=32711
tgt_ctl=32710	# tgtd's management socket number, not a TCP port
load=$BUILD/tests/helpers/store_iscsiload
iqn=iqn.2026-11.lan.vs

for t in "$BUILD/vdiskd" "$load"; do
	[ -x "$t" ] || { echo "vdiskd_vs_tgt: $t not built (make all tests)" >&2; exit 1; }
done
for t in tgtd tgtadm iscsi-perf; do
	command -v $t >/dev/null || { echo "vdiskd_vs_tgt: $t missing (apt-get install tgt libiscsi-bin)" >&2; exit 1; }
done
[ "$(id -u)" = 0 ] || { echo "vdiskd_vs_tgt: needs root for tgtd" >&2; exit 1; }

dir=$(mktemp -d /tmp/vs-bench.XXXXXX)
tgt_pid= vd_pid=
cleanup() {
	[ -n "$vd_pid" ] && kill "$vd_pid" 2>/dev/null
	# tgtd ignores SIGTERM while it has targets; it holds nothing that needs a clean stop.
	[ -n "$tgt_pid" ] && kill -9 "$tgt_pid" 2>/dev/null
	wait 2>/dev/null
	rm -rf "$dir"
}
trap cleanup EXIT

wait_port() {
	for _ in $(seq 50); do
		ss -ltn "sport = :$1" | grep -q LISTEN && return 0
		sleep 0.1
	done
	echo "vdiskd_vs_tgt: nothing listens on port $1" >&2
	exit 1
}

# One image with data in it: tgt exports a copy as a plain file (it writes into it),
# vdiskd exports the same bytes as the read-only base of its client overlays.
head -c $((mb << 20)) /dev/urandom > "$dir/base.img"
cp "$dir/base.img" "$dir/plain.img"

tgtd -f -C $tgt_ctl --iscsi portal=127.0.0.1:$tgt_port > "$dir/tgtd.log" 2>&1 &
tgt_pid=$!
wait_port $tgt_port
tgtadm -C $tgt_ctl --lld iscsi --op new --mode target --tid 1 -T $iqn:tgt &&
tgtadm -C $tgt_ctl --lld iscsi --op new --mode logicalunit --tid 1 --lun 1 -b "$dir/plain.img" &&
tgtadm -C $tgt_ctl --lld iscsi --op bind --mode target --tid 1 -I ALL ||
	{ echo "vdiskd_vs_tgt: tgtadm failed" >&2; exit 1; }

luns=()
for i in $(seq 0 99); do
	luns+=(--lun "$iqn:c$i=$dir/base.img,overlay=$dir/ov$i")
done
"$BUILD/vdiskd" --listen 127.0.0.1:$vd_port --threads "$threads" "${luns[@]}" \
	> "$dir/vdiskd.log" 2>&1 &
vd_pid=$!
wait_port $vd_port

tgt_url=iscsi://127.0.0.1:$tgt_port/$iqn:tgt/1
vd_url() { echo "iscsi://127.0.0.1:$vd_port/$iqn:c$1/0"; }

perf() {	# perf URL ARGS...: iscsi-perf's final average IOPS and MB/s
	local url=$1; shift
	timeout $((secs + 30)) iscsi-perf -t "$secs" "$@" "$url" 2>&1 | tr '\r' '\n' |
		sed -n 's/^iops average \([0-9]*\) (\([0-9]*\) MB\/s).*/\1 \2/p' | tail -1
}

field() { echo "$1" | awk -v k="$2" '{for (i = 1; i < NF; i++) if ($i == k) print $(i + 1)}'; }

row() {		# row NAME UNIT TGT VDISKD [inverse]
	local r
	if [ "$5" = inverse ]; then
		r=$(awk -v a="$3" -v b="$4" 'BEGIN { printf "%.2f", (b > 0 ? a / b : 0) }')
	else
		r=$(awk -v a="$3" -v b="$4" 'BEGIN { printf "%.2f", (a > 0 ? b / a : 0) }')
	fi
	printf '%-44s %-6s %12s %12s %8sx\n' "$1" "$2" "$3" "$4" "$r"
}

echo "vdiskd vs tgt, loopback, ${mb} MiB image, ${secs} s per run, vdiskd --threads $threads"
printf '%-44s %-6s %12s %12s %9s\n' workload unit tgt vdiskd ratio

t=$(perf "$tgt_url" -r -m 32 -b 8); v=$(perf "$(vd_url 0)" -r -m 32 -b 8)
row "4 KiB random read, QD 32 (iscsi-perf)" IOPS "${t% *}" "${v% *}"

t=$(perf "$tgt_url" -m 16 -b 2048); v=$(perf "$(vd_url 0)" -m 16 -b 2048)
row "1 MiB sequential read, QD 16 (iscsi-perf)" MB/s "${t#* }" "${v#* }"

t=$("$load" --op randwrite --qd 32 --bs 4096 --seconds "$secs" "$tgt_url")
v=$("$load" --op randwrite --qd 32 --bs 4096 --seconds "$secs" "$(vd_url 1)")
row "4 KiB random write, QD 32, fresh overlay" IOPS "$(field "$t" iops)" "$(field "$v" iops)"
t=$("$load" --op randwrite --qd 32 --bs 4096 --seconds "$secs" "$tgt_url")
v=$("$load" --op randwrite --qd 32 --bs 4096 --seconds "$secs" "$(vd_url 1)")
row "4 KiB random write, QD 32, overlay rewritten" IOPS "$(field "$t" iops)" "$(field "$v" iops)"

boot=(--op boot --sessions 100 --qd 1 --bs 65536 --span $(((mb < 256 ? mb : 256) << 20)) --seconds "$secs")
t=$("$load" "${boot[@]}" "$tgt_url")
v=$("$load" "${boot[@]}" "iscsi://127.0.0.1:$vd_port/$iqn:c%d/0")
row "boot storm, 100 sessions, 64 KiB reads" MB/s "$(field "$t" MB/s)" "$(field "$v" MB/s)"
row "boot storm p99 latency (ratio tgt/vdiskd)" us "$(field "$t" p99_us)" "$(field "$v" p99_us)" inverse
