#!/bin/bash
# kill -9 of a process writing to an overlay at queue depth 16, at a random instant, three
# times over the same overlay: after each, reopening it must show every acknowledged write
# (tests/helpers/store_crash.c says exactly what is checked).
SRCDIR=${SRCDIR:-$(cd "$(dirname "$0")/../.." && pwd)}
source "$SRCDIR/tests/lib/tap.sh"

helper=$BUILD/tests/helpers/store_crash
[ -x "$helper" ] || skip_all "$helper not built (make tests)"
dir=$(mktemp -d /tmp/vs-crash.XXXXXX)
pid=
cleanup() { [ -n "$pid" ] && kill -9 "$pid" 2>/dev/null; rm -rf "$dir"; }
trap cleanup EXIT

# A 32 MiB base with data in it, so base and overlay sectors differ.
head -c $((32 << 20)) /dev/urandom > "$dir/base.img"
rounds=3
[ -n "$SANITIZED" ] && rounds=2
for round in $(seq 1 $rounds); do
	"$helper" load "$dir/base.img" "$dir/ov" "$dir/log" "$round" > "$dir/load.out" 2>&1 &
	pid=$!
	# Let it get going, then kill it at some instant between 0.3 and 1.0 s in.
	wait_until 5000 grep -q loading "$dir/load.out"
	sleep "0.$((RANDOM % 8 + 3))"
	kill -9 "$pid"
	wait "$pid" 2>/dev/null
	pid=
	out=$("$helper" verify "$dir/base.img" "$dir/ov" "$dir/log" 2>&1)
	ok $? "round $round: every acknowledged write reads back after kill -9"
	diag "$out"
done
acks=$(echo "$out" | sed -n 's/^acknowledged writes \([0-9]*\),.*/\1/p')
[ "${acks:-0}" -gt 100 ]
ok $? "the load made progress (${acks:-0} acknowledged writes)"
done_testing
