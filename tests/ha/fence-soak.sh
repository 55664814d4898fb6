#!/bin/bash
# make soak SECONDS=N: tests/ha/fence.t round after round until N seconds have passed, its
# deadtime alternating between 1 s and 30 s (ha.cf's default), so that the fencing scenarios
# meet both a fast and a slow failure detection. Each round's verdict and figures go to the
# terminal and to $BUILD/soak-fence.log; the end prints the total.
# Usage: fence-soak.sh SECONDS   (BUILD and SRCDIR from the environment, as for tests/run)
set -u
total=${1:-}
[[ "$total" =~ ^[0-9]+$ ]] && [ "$total" -gt 0 ] || {
	echo "usage: fence-soak.sh SECONDS (make soak SECONDS=N)" >&2
	exit 2
}
: "${BUILD:?BUILD is not set (use make soak)}"
SRCDIR=${SRCDIR:-$(cd "$(dirname "$0")/../.." && pwd)}
log=$BUILD/soak-fence.log
start=$(date +%s)
rounds=0 failed=0 checks=0

say() { echo "$*"; echo "$(date '+%F %T') $*" >>"$log"; }

say "soak: $total s of tests/ha/fence.t, deadtime 1 s and 30 s in turn"
while [ $(( $(date +%s) - start )) -lt "$total" ]; do
	dead=$([ $((rounds % 2)) = 0 ] && echo 1s || echo 30s)
	t0=$(date +%s)
	out=$(SB_DEADTIME=$dead BUILD=$BUILD SRCDIR=$SRCDIR bash "$SRCDIR/tests/ha/fence.t" 2>&1)
	rc=$?
	rounds=$((rounds + 1))
	n=$(grep -c '^ok' <<<"$out")
	checks=$((checks + n))
	if [ "$rc" = 0 ] && ! grep -q '^not ok' <<<"$out"; then
		say "round $rounds (deadtime $dead): ok, $n checks in $(( $(date +%s) - t0 )) s;" \
			"$(grep -m1 -o 'PC stalls at a pulled HA cable.*' <<<"$out")"
	else
		failed=$((failed + 1))
		say "round $rounds (deadtime $dead): FAILED: $(grep -m1 '^not ok' <<<"$out")"
		grep '^#' <<<"$out" | tail -30 | sed 's/^/  /'
	fi
done
say "soak: $rounds rounds, $failed failed, $checks checks passed in $(( $(date +%s) - start )) s"
[ "$failed" = 0 ]
