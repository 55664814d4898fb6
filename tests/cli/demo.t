#!/usr/bin/env bash
# `make demo` keeps working: the admin's first day on a database, then the pair in network
# namespaces (root) with a power cut: srv-b takes over and answers only the hot-standby PC.
# The demo checks every step itself: its exit status is asserted, and so is a failing step
# stopping it with exit status 1 and a line naming the step (a vdiskctl that refuses the
# import; as root, a read-back after the power cut that expects another pattern).
source "$(dirname "$0")/../lib/tap.sh"
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT
export BUILD
# its own namespace names: another checkout may run the demo at the same time
export DEMO_NETNS_PREFIX=vdt$$
bash "$SRCDIR/demo/run.sh" >"$T/out" 2>&1
st=$?
is "$st" 0 "demo runs to the end: exit status 0"
[ "$st" = 0 ] || grep -m3 '^demo: FAILED' "$T/out" | sed 's/^/# /'
grep -q '^20 clients changed (20 selected)' "$T/out"; ok $? "batch edit of PC001-PC020"

# A failing step: the real vdiskctl, except that `client import` fails. The demo stops there.
mkdir -p "$T/bad"
cat >"$T/bad/vdiskctl" <<SH
#!/bin/sh
[ "\$1 \$2" = "client import" ] && { echo "client import refused for the test" >&2; exit 1; }
exec "$BUILD/vdiskctl" "\$@"
SH
chmod 755 "$T/bad/vdiskctl"
BUILD=$T/bad bash "$SRCDIR/demo/run.sh" >"$T/bad.out" 2>&1
is "$?" 1 "a failing vdiskctl step: exit status 1"
is "$(tail -1 "$T/bad.out")" \
	'demo: FAILED at step "vdiskctl client import demo/clients.csv": exit status 1' \
	"and the last line names the step"
ok "$(grep -q '^\$ vdiskctl client set' "$T/bad.out"; [ $? = 1 ]; echo $?)" "no step ran after it"

if [ "$(id -u)" != 0 ]; then skip "the pair" "needs root"; done_testing; fi
grep -q '^demo: every step checked out$' "$T/out"; ok $? "the pair's steps all checked out"
grep -q 'state: active' "$T/out"; ok $? "a server became active"
grep -q "PC001's iPXE script, fetched over HTTP" "$T/out"; ok $? "PC001 fetched its iPXE script over HTTP"
grep -q '^    set password \*\{16\}$' "$T/out"; ok $? "with its CHAP credentials (shown masked)"
grep -q "^PC021 asks for PC001's script: HTTP 403" "$T/out"; ok $? "PC021 asking for PC001's script is refused"
before=$(sed -n "s/^PC001's disk through [0-9.]*: Unit Serial Number:\[\(.*\)\]/\1/p" "$T/out")
ok "$([ -n "$before" ]; echo $?)" "PC001 logs in to its disk through the service address ($before)"
grep -q '^srv-b active [0-9]* ms after the cut' "$T/out"; ok $? "srv-b took over after the power cut"
after=$(sed -n "s/^PC001's disk through .*srv-b: Unit Serial Number:\[\(.*\)\]/\1/p" "$T/out")
is "$after" "$before" "after the cut srv-b serves PC001's disk with the same serial"
sed -n '/After the failover/,$p' "$T/out" >"$T/after"
grep -q '^PC001: .*obtained from 192.168.50.3' "$T/after"; ok $? "PC001 (hot standby) answered by srv-b"
grep -q '^PC021: no answer' "$T/after"; ok $? "PC021 (no hot standby) not answered"
grep -q 'PC021 belongs to srv-a and has no hot standby' "$T/after"; ok $? "and an event says why"
grep -q '^ *read 1048576/1048576 bytes at offset 1048576' "$T/after"
ok $? "PC001 read back its 1 MiB from srv-b"
ok "$(grep -q 'Pattern verification failed\|write failed\|read failed' "$T/out"; [ $? = 1 ]; echo $?)" \
	"qemu-io reported no failure"
[ -z "$(ip netns list | grep "^$DEMO_NETNS_PREFIX-")" ]; ok $? "the demo removed its namespaces"

# The central step broken on purpose: the pair (the database part ran above) reads PC001's
# 1 MiB back from srv-b expecting another pattern than the one written.
DEMO_TEST_FAULT=readback bash "$SRCDIR/demo/pair.sh" >"$T/fault.out" 2>&1
is "$?" 1 "a read-back that finds other data: exit status 1"
grep -q '^demo: FAILED at step "PC001 reads back what it wrote before the cut, from srv-b": .*Pattern verification failed' \
	"$T/fault.out"
ok $? "and a line names the step and what qemu-io said"
ok "$(grep -q '^demo: every step checked out' "$T/fault.out"; [ $? = 1 ]; echo $?)" \
	"the demo stopped there"
[ -z "$(ip netns list | grep "^$DEMO_NETNS_PREFIX-")" ]; ok $? "and removed its namespaces all the same"
done_testing
