#!/usr/bin/env bash
# The demo: what a café admin does on day one, on a scratch database in build/demo/.
# It grows with the product: each part adds its step here.
# Every step checks its result: one that fails stops the demo with one line,
#   demo: FAILED at step "STEP": WHAT
# and exit status 1; then demo/pair.sh (root) runs the pair, checked the same way.
set -Eeuo pipefail
cd "$(dirname "$0")/.."
BUILD=${BUILD:-$PWD/build}
DEMO=$BUILD/demo
fail() {	# fail STEP WHAT
	printf 'demo: FAILED at step "%s": %s\n' "$1" "$2" >&2
	exit 1
}
trap 'fail "$BASH_COMMAND" "exit status $?"' ERR
# V [--expect REGEX] ARGS...: one vdiskctl command as the admin types it and what it says; a
# step that fails, or whose output lacks REGEX, stops the demo
V() {
	local want= out rc=0
	if [ "$1" = --expect ]; then want=$2; shift 2; fi
	echo "\$ vdiskctl $*"
	out=$("$BUILD/vdiskctl" "$@" 2>&1) || rc=$?
	printf '%s\n\n' "$out"
	[ $rc = 0 ] || fail "vdiskctl $*" "exit status $rc"
	[ -z "$want" ] || grep -qE "$want" <<<"$out" || fail "vdiskctl $*" "no line says '$want'"
}

rm -rf "$DEMO" && mkdir -p "$DEMO"
export VDISK_DB=$DEMO/vdisk.db
# Base images: sparse files stand in for the Windows images a café would serve.
truncate -s 32G "$DEMO/win10.img"
truncate -s 32G "$DEMO/win10-vip.img"

V init
V server add srv-a --role primary --service-addr 192.168.50.10 --ha-addr 10.99.0.1
V server add srv-b --role secondary --service-addr 192.168.50.10 --ha-addr 10.99.0.2
V image add win10 --path "$DEMO/win10.img"
V image add win10-vip --path "$DEMO/win10-vip.img"
V group add hall --image win10
V group add vip --image win10-vip
V --expect '^40 clients imported$' client import demo/clients.csv
V --expect '^20 of 20 selected clients would change' \
	client set --range PC001-PC020 --hot-standby on --dry-run
V --expect '^20 clients changed \(20 selected\)$' client set --range PC001-PC020 --hot-standby on
V --expect '^8 clients changed \(8 selected\)$' \
	client set --group vip --overlay persistent --hot-standby on
V --expect '^PC035 ' client list --range PC018-PC035
V --expect '^hot-standby: +on$' client show PC033
V --expect 'mark maintenance$' server mark srv-b maintenance
V --expect 'mark active$' server mark srv-b active
V --expect '^srv-b +secondary +active ' server list
V events --limit 8
echo "The database is $VDISK_DB: try 'VDISK_DB=$VDISK_DB $BUILD/vdiskctl client list'."
exec bash demo/pair.sh
