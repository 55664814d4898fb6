#!/usr/bin/env bash
# `make demo` keeps working: the admin's first day on a database, then the pair in network
# namespaces (root) with a power cut: srv-b takes over and answers only the hot-standby PC.
source "$(dirname "$0")/../lib/tap.sh"
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT
export BUILD
bash "$SRCDIR/demo/run.sh" >"$T/out" 2>&1
ok $? "demo runs to the end"
grep -q '^20 clients changed (20 selected)' "$T/out"; ok $? "batch edit of PC001-PC020"
if [ "$(id -u)" != 0 ]; then skip "the pair" "needs root"; done_testing; fi
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
[ -z "$(ip netns list | grep '^vdemo-')" ]; ok $? "the demo removed its namespaces"
done_testing
