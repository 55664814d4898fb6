# TAP for shell tests: source it, call ok/fail/skip, end with done_testing.
# Tests find the build tree in $BUILD and the source tree in $SRCDIR.
SRCDIR=${SRCDIR:-$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)}
BUILD=${BUILD:-$SRCDIR/build}
tap_n=0
tap_failed=0

ok() {          # ok CONDITION-EXIT-STATUS DESCRIPTION
	tap_n=$((tap_n + 1))
	if [ "$1" -eq 0 ]; then echo "ok $tap_n - $2"; else
		echo "not ok $tap_n - $2"; tap_failed=$((tap_failed + 1)); fi
}
check() {       # check DESCRIPTION -- COMMAND...: ok when the command succeeds
	local d=$1; shift; [ "$1" = -- ] && shift
	"$@" >/dev/null 2>&1; ok $? "$d"
}
is() {          # is GOT WANT DESCRIPTION
	tap_n=$((tap_n + 1))
	if [ "$1" = "$2" ]; then echo "ok $tap_n - $3"; else
		echo "not ok $tap_n - $3"; echo "#   got '$1', want '$2'"
		tap_failed=$((tap_failed + 1)); fi
}
skip() {        # skip DESCRIPTION REASON
	tap_n=$((tap_n + 1)); echo "ok $tap_n - $1 # SKIP $2"
}
skip_all() { echo "1..0 # SKIP $1"; exit 0; }
need_root() { [ "$(id -u)" = 0 ] || skip_all "needs root (network namespaces)"; }
diag() { echo "# $*"; }
# wait_until MS COMMAND...: 0 once COMMAND succeeds within MS milliseconds, polled every
# WAIT_STEP seconds (0.05)
wait_until() {
	local end=$(( $(date +%s%3N) + $1 ))
	shift
	while [ "$(date +%s%3N)" -lt "$end" ]; do
		"$@" && return 0
		sleep "${WAIT_STEP:-0.05}"
	done
	return 1
}
# gone PID: 0 when no process PID is left (for wait_until after a kill)
gone() { ! kill -0 "$1" 2>/dev/null; }
done_testing() { echo "1..$tap_n"; [ "$tap_failed" -eq 0 ]; exit $?; }
