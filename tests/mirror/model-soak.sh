#!/bin/bash
# make soak SECONDS=N: tests/mirror/model.t with fresh seeds, one run after another, until N
# seconds have passed. Each run prints its seed and verdict; the end prints the total, the
# seeds and where failed runs left their files. Also appended to $BUILD/soak-model.log.
#   MODEL_SOAK_RUN=S   seconds per run (default 300; the last run takes what is left)
# Usage: model-soak.sh SECONDS   (BUILD and SRCDIR from the environment, as for tests/run)
set -u
total=${1:-}
[[ "$total" =~ ^[0-9]+$ ]] && [ "$total" -gt 0 ] || {
	echo "usage: model-soak.sh SECONDS (make soak SECONDS=N)" >&2
	exit 2
}
: "${BUILD:?BUILD is not set (use make soak)}"
SRCDIR=${SRCDIR:-$(cd "$(dirname "$0")/../.." && pwd)}
per_run=${MODEL_SOAK_RUN:-300}
log=$BUILD/soak-model.log
start=$(date +%s)
runs=0 failed=0 ran_s=0 seeds=() bad=()

say() { echo "$*"; echo "$(date '+%F %T') $*" >>"$log"; }

say "soak: $total s of tests/mirror/model.t, $per_run s per run"
while :; do
	left=$(( total - ($(date +%s) - start) ))
	# a run shorter than 30 s spends most of its time setting up
	[ "$left" -ge 30 ] || break
	secs=$(( left < per_run ? left : per_run ))
	seed=$(od -An -N4 -tu4 /dev/urandom | tr -d ' ')
	t0=$(date +%s)
	out=$(MODEL_SEED=$seed MODEL_SECONDS=$secs BUILD=$BUILD SRCDIR=$SRCDIR \
		bash "$SRCDIR/tests/mirror/model.t" 2>&1)
	took=$(( $(date +%s) - t0 ))
	runs=$((runs + 1))
	ran_s=$((ran_s + secs))
	seeds+=("$seed")
	if grep -q "^ok 5 - seed $seed" <<<"$out" && ! grep -q "^not ok" <<<"$out"; then
		say "seed $seed: ok, $secs s of steps ($took s with setup): $(grep -o 'passed: [0-9]* steps' <<<"$out"), $(grep -o 'longest wait for the mirror in sync .*' <<<"$out")"
	else
		failed=$((failed + 1))
		bad+=("$seed")
		say "seed $seed: FAILED ($took s): $(grep -m1 'FAILED\|^not ok' <<<"$out")"
		grep "kept in" <<<"$out" | sed 's/^# /  /'
	fi
done
say "soak: $runs runs, $failed failed, $ran_s s of steps in $(( $(date +%s) - start )) s;" \
	"seeds: ${seeds[*]:-none}${bad:+; failed: ${bad[*]}}"
[ "$failed" = 0 ]
