#!/bin/bash
# pxed's command line and configuration file: --help, exit codes, --check-config naming the
# bad line for each kind of mistake, and the shipped example being valid.
source "${SRCDIR:-$(dirname "$0")/../..}/tests/lib/tap.sh"
P=$BUILD/pxed
T=$(mktemp -d /tmp/px-conf.XXXXXX)
trap 'rm -rf "$T"' EXIT

"$P" --help >"$T/out" 2>&1
is $? 0 "--help exits 0"
check "--help names the options" -- grep -q -- '--check-config' "$T/out"
"$P" --bogus >/dev/null 2>&1
is $? 2 "an unknown option exits 2"
"$P" -c "$T/none.conf" extra >/dev/null 2>&1
is $? 2 "a stray argument exits 2"
"$P" -c "$T/none.conf" --check-config >"$T/out" 2>&1
is $? 2 "a missing file exits 2"
check "and says so" -- grep -q 'No such file' "$T/out"
"$P" -c "$SRCDIR/pxe/pxed.conf.example" --check-config >/dev/null 2>&1
is $? 0 "pxed.conf.example is valid"

good='interface = eth1
tftp_root = /nonexistent/pxe-test
pool = 10.0.0.100-10.0.0.200
service_address = 10.0.0.1'
printf '%s\n' "$good" >"$T/good.conf"
"$P" -c "$T/good.conf" --check-config >/dev/null 2>&1
is $? 0 "a minimal dhcp configuration is valid"

# bad LINE-TO-APPEND EXPECTED-MESSAGE-PART DESCRIPTION
bad() {
	printf '%s\n%s\n' "$good" "$1" >"$T/bad.conf"
	"$P" -c "$T/bad.conf" --check-config >"$T/out" 2>&1
	local rc=$?
	tap_n=$((tap_n + 1))
	if [ $rc = 2 ] && grep -q -- "$2" "$T/out"; then echo "ok $tap_n - $3"; else
		echo "not ok $tap_n - $3"; echo "#   rc $rc: $(cat "$T/out")"; tap_failed=$((tap_failed + 1)); fi
}
bad 'colour = blue' "bad.conf:5: unknown key 'colour'" "unknown key named with its line"
bad 'mode = relay' "bad.conf:5: mode: 'relay' is not one of: dhcp proxy" "bad mode"
bad 'lease_time = 10' "bad.conf:5: lease_time: 10 is out of range 120..604800" "lease time out of range"
bad 'lease_time = 1h' "bad.conf:5: lease_time: '1h' is not a whole number" "lease time not a number"
bad 'router = 10.0.0' "bad.conf:5: router: '10.0.0' is not an IPv4 address" "bad router"
bad 'dns = 1.1.1.1, 2.2.2.2, 3.3.3.3, 4.4.4.4, 5.5.5.5' "bad.conf:5: dns: more than 4" "too many DNS servers"
bad 'tftp = maybe' "bad.conf:5: tftp: 'maybe' is not on or off" "bad boolean"
bad 'interface = eth2' "bad.conf:5: interface set twice" "key set twice"
bad 'just words' "bad.conf:5: expected 'key = value'" "line without '='"
bad 'subnet_mask = 255.0.255.0' "subnet_mask is not a netmask" "mask with holes"
bad "node = $(printf 'n%.0s' $(seq 80))" "bad.conf:5: node: value longer than 63 bytes" "over-long value"
printf 'interface = eth1\nmode = dhcp\nservice_address = 10.0.0.1\n' >"$T/bad.conf"
"$P" -c "$T/bad.conf" --check-config >"$T/out" 2>&1
is $? 2 "dhcp mode without a pool exits 2"
check "saying a pool is needed" -- grep -q 'mode dhcp needs a pool' "$T/out"
printf 'interface = eth1\nmode = proxy\nservice_address = 10.0.0.1\n' >"$T/proxy.conf"
"$P" -c "$T/proxy.conf" --check-config >/dev/null 2>&1
is $? 0 "proxy mode needs no pool"
printf 'interface = eth1\nmode = dhcp\npool = 10.0.0.1-10.0.20.1\nservice_address = 10.0.0.1\n' >"$T/bad.conf"
"$P" -c "$T/bad.conf" --check-config >"$T/out" 2>&1
check "a pool over 4096 addresses is refused" -- grep -q 'bad.conf:3: pool: more than 4096' "$T/out"
printf 'interface = eth1\nmode = dhcp\npool = 10.0.0.100-10.0.1.20\nservice_address = 10.0.0.1\n' >"$T/bad.conf"
"$P" -c "$T/bad.conf" --check-config >"$T/out" 2>&1
check "a pool across two /24 networks is refused" -- grep -q 'pool spans more than one' "$T/out"
printf 'interface = eth1\npool = 10.0.0.1-10.0.0.20\nservice_address = 10.0.0.5\n' >"$T/bad.conf"
"$P" -c "$T/bad.conf" --check-config >"$T/out" 2>&1
check "a pool holding the service address is refused" -- grep -q 'service_address lies inside the pool' "$T/out"
"$P" -c "$T/good.conf" --db "$T/no-such-dir/db" --state "$T/state" --ctl "$T/sock" >"$T/out" 2>&1
is $? 1 "a runtime failure (no database) exits 1"
done_testing
