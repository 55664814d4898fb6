#!/usr/bin/env bash
# Runs every libFuzzer target for FUZZ_SECONDS (10 by default) over its stored seed corpus
# (tests/fuzz/corpus/<target>/, replayed first) plus what it finds; new inputs go to a
# scratch folder, never into the source tree. A crash, leak or sanitizer report fails.
source "$(dirname "$0")/../lib/tap.sh"
FUZZ_BUILD=${FUZZ_BUILD:-$SRCDIR/build-fuzz}
secs=${FUZZ_SECONDS:-10}
shopt -s nullglob
targets=()
for f in "$FUZZ_BUILD"/fuzz/fuzz_*; do
	case $f in *.d) ;; *) [ -x "$f" ] && targets+=("$f") ;; esac
done
[ ${#targets[@]} -gt 0 ] || skip_all "no fuzz targets built (run 'make fuzz')"
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT
for f in "${targets[@]}"; do
	name=$(basename "$f")
	mkdir -p "$T/$name"
	seeds=$SRCDIR/tests/fuzz/corpus/$name
	[ -d "$seeds" ] || seeds=
	"$f" -max_total_time="$secs" -rss_limit_mb=2048 -timeout=10 -print_final_stats=1 \
		-artifact_prefix="$T/$name/" "$T/$name" $seeds >"$T/$name.log" 2>&1
	rc=$?
	runs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$T/$name.log")
	ok $rc "$name: ${runs:-0} runs in ${secs}s, no crash"
	[ $rc = 0 ] || { tail -30 "$T/$name.log" | sed 's/^/# /'; }
	[ -n "$seeds" ]; ok $? "$name has a stored seed corpus"
done
done_testing
