#!/bin/bash
# kill -9 of vdiskd itself while an initiator writes to a client overlay at QD 16 (about one
# write in eight with FUA), at a random instant, twice; after each restart every write the
# initiator got GOOD status for must read back through iSCSI (store_crashlog.h says exactly
# what is checked). Loopback port 32740.
SRCDIR=${SRCDIR:-$(cd "$(dirname "$0")/../.." && pwd)}
source "$SRCDIR/tests/lib/tap.sh"

helper=$BUILD/tests/helpers/store_iscsicrash
[ -x "$helper" ] || skip_all "$helper not built (make tests)"
[ -x "$BUILD/vdiskd" ] || skip_all "vdiskd not built"
port=32740
iqn=iqn.2026-11.lan.vs:crash-target
url=iscsi://127.0.0.1:$port/$iqn/0
dir=$(mktemp -d /tmp/vs-vdcrash.XXXXXX)
vd= ld=
cleanup() {
	[ -n "$ld" ] && kill -9 "$ld" 2>/dev/null
	[ -n "$vd" ] && kill -9 "$vd" 2>/dev/null
	wait 2>/dev/null
	rm -rf "$dir"
}
trap cleanup EXIT

start_vdiskd() {
	"$BUILD/vdiskd" --listen 127.0.0.1:$port --threads 4 \
		--lun "$iqn=$dir/base.img,overlay=$dir/ov" >> "$dir/vdiskd.log" 2>&1 &
	vd=$!
	wait_until 5000 eval "ss -ltn 'sport = :$port' | grep -q LISTEN"
}

head -c $((16 << 20)) /dev/urandom > "$dir/base.img"
rounds=2
for round in $(seq 1 $rounds); do
	start_vdiskd
	ok $? "round $round: vdiskd listens"
	"$helper" load "$url" "$dir/log" "$round" > "$dir/load.out" 2>&1 &
	ld=$!
	wait_until 5000 grep -q loading "$dir/load.out"
	sleep "0.$((RANDOM % 6 + 4))"
	kill -9 "$vd"
	wait "$vd" 2>/dev/null
	vd=
	wait "$ld" 2>/dev/null
	ld=
	diag "load: $(tail -1 "$dir/load.out")"
	start_vdiskd
	out=$("$helper" verify "$url" "$dir/base.img" "$dir/log" 2>&1)
	ok $? "round $round: every write acknowledged before vdiskd was killed reads back"
	diag "$out"
	kill "$vd"
	wait "$vd" 2>/dev/null
	vd=
done
acks=$(echo "$out" | sed -n 's/^acknowledged writes \([0-9]*\),.*/\1/p')
[ "${acks:-0}" -gt 100 ]
ok $? "the load made progress (${acks:-0} acknowledged writes)"
done_testing
