#!/usr/bin/env bash
# A rolling upgrade of a running pair from the previous release to this tree's packages,
# with a PC writing all along, as docs/install.md ("Upgrades, one server at a time") tells
# the admin: the previous release's packages on two fresh Debian 12 machines (the roots and
# machines of tests/deploy/deploy-lib.sh), the first day, a hot-standby PC writing
# sequence-numbered blocks through the service address with its CHAP secret; then the
# standby (srv-b) upgraded, the role handed to it, srv-a upgraded, and the role back on
# srv-a by auto_failback. Every write the PC was told was done must be on the disk at the
# end, the PC must never see an error, and both servers must run the new version (vdiskd
# as the user vdisk: the upgrade from 0.18.0 hands vdiskd's files over).
#
# The previous release is built from this repository's history (OLD_COMMIT) once, into
# $DEPLOY_CACHE; a clone without that commit skips the test and says so.
source "$(dirname "$0")/../lib/tap.sh"
source "$(dirname "$0")/deploy-lib.sh"
OLD_VERSION=0.18.0
OLD_COMMIT=615d0e04f529b17ba394aa33a2b6f351c780ec82
NEW_DEBS=("$DEB/vdisk-server_${VERSION}_amd64.deb" "$DEB/vdiskctl_${VERSION}_amd64.deb")
[ -f "${NEW_DEBS[0]}" ] && [ -f "${NEW_DEBS[1]}" ] ||
	skip_all "no packages in $DEB (tests/deploy/package.t builds them: make deb)"
[ "$VERSION" != "$OLD_VERSION" ] || skip_all "this tree is still $OLD_VERSION"
SEQIO=$BUILD/tests/helpers/mirror_seqio
[ -x "$SEQIO" ] || skip_all "no $SEQIO (make tests)"

# ---- the previous release's packages ----
OLD_DIR=$CACHE/debs-$OLD_VERSION-${OLD_COMMIT:0:12}
OLD_DEBS=("$OLD_DIR/vdisk-server_${OLD_VERSION}_amd64.deb" "$OLD_DIR/vdiskctl_${OLD_VERSION}_amd64.deb")
if [ -s "${OLD_DEBS[0]}" ] && [ -s "${OLD_DEBS[1]}" ]; then
	ok 0 "the cached $OLD_VERSION packages in $OLD_DIR"
else
	git -C "$SRCDIR" cat-file -e "$OLD_COMMIT^{commit}" 2>/dev/null ||
		skip_all "$OLD_VERSION's commit ${OLD_COMMIT:0:12} is not in this clone's history (a shallow clone?)"
	t0=$(date +%s)
	mkdir -p "$W/old" "$CACHE" &&
		git -C "$SRCDIR" archive "$OLD_COMMIT" | tar -C "$W/old" -x &&
		make -C "$W/old" --no-print-directory BUILD="$W/old/build" deb >"$W/old-deb.log" 2>&1 &&
		rm -rf "$OLD_DIR.tmp" && mkdir "$OLD_DIR.tmp" &&
		cp "$W/old/build/deb/vdisk-server_${OLD_VERSION}_amd64.deb" \
			"$W/old/build/deb/vdiskctl_${OLD_VERSION}_amd64.deb" "$OLD_DIR.tmp/" &&
		rm -rf "$OLD_DIR" && mv "$OLD_DIR.tmp" "$OLD_DIR"
	r=$?
	ok $r "the $OLD_VERSION packages built from ${OLD_COMMIT:0:12} ($(( $(date +%s) - t0 )) s, cached in $OLD_DIR)"
	[ $r = 0 ] || { tail -20 "$W/old-deb.log" | sed 's/^/# /'; done_testing; }
	rm -rf "$W/old"
fi

# ---- the pair on the previous release ----
dp_base
for n in a b; do
	dp_root $n "${OLD_DEBS[@]}"
	ok $? "srv-$n: dpkg -i vdisk-server vdiskctl $OLD_VERSION on a fresh root"
done
dp_lan
boot a; ok $? "srv-a boots"
boot b; ok $? "srv-b boots"
dp_setup
for n in a b; do on $n systemctl restart vdiskd.service standbyd.service; done
wait_until 30000 state_is a active; ok $? "srv-a active on $OLD_VERSION (state: $(state a))"
wait_until 30000 state_is b standby; ok $? "srv-b standing by on $OLD_VERSION (state: $(state b))"

# ---- the PC writes through the service address, all along ----
lease=$(pc_lease)
grep -q "obtained from $LAN_A" <<<"$lease"; ok $? "the PC's lease from srv-a: $lease"
SECRET=$(pc_secret)
ip netns exec $NS_PC env LIBISCSI_CHAP_USERNAME=$PC_IQN LIBISCSI_CHAP_PASSWORD="$SECRET" \
	"$SEQIO" write --blocks 4096 --qd 4 --replacement-ms 60000 "$VIP:3260" "$DISK_IQN" \
	"$PC_IQN" "$W/seq.log" >"$W/writer.out" 2>"$W/writer.err" &
WRITER=$!
records() { echo $(( $(stat -c %s "$W/seq.log" 2>/dev/null || echo 0) / 16 )); }
more_than() { [ "$(records)" -gt "$1" ]; }
# writing STEP: the PC's writes go on (200 more acknowledged within 30 s)
writing() {
	local n
	n=$(records)
	WAIT_STEP=0.1 wait_until 30000 more_than $(( n + 200 ))
	ok $? "$1: the PC writes ($(records) writes acknowledged)"
}
writing "on $OLD_VERSION"
wait_until 30000 client_mirror_is a in-sync
ok $? "PC001's mirror on srv-a in sync with srv-b (state: $(client_mirror a))"

# new_version a|b: the packages of this tree installed on the running machine; 0 when dpkg
# succeeded and both units run
new_version() {
	mkdir -p "$W/$1/root/new" && cp "${NEW_DEBS[@]}" "$W/$1/root/new/" &&
		on "$1" env DEBIAN_FRONTEND=noninteractive dpkg -i /root/new/vdisk-server_${VERSION}_amd64.deb \
			/root/new/vdiskctl_${VERSION}_amd64.deb >"$W/upgrade-$1.log" 2>&1 || {
		tail -20 "$W/upgrade-$1.log" | sed 's/^/# /'; return 1; }
	wait_until 20000 eval "on $1 systemctl is-active --quiet vdiskd.service standbyd.service"
}
vdiskd_user() { on "$1" sh -c 'stat -c %U /proc/$(systemctl show -p MainPID --value vdiskd.service)'; }

# ---- 1: the standby upgraded ----
t0=$(date +%s%3N)
new_version b; ok $? "srv-b upgraded to $VERSION under dpkg ($(( $(date +%s%3N) - t0 )) ms)"
is "$(on b dpkg-query -W -f '${Version}' vdisk-server)" "$VERSION" "srv-b runs vdisk-server $VERSION"
is "$(vdiskd_user b)" vdisk "srv-b's vdiskd runs as the user vdisk"
wait_until 30000 state_is b standby; ok $? "srv-b stands by again (state: $(state b))"
is "$(state a)" active "srv-a kept the role"
wait_until 60000 client_mirror_is a in-sync
ok $? "PC001's mirror resynced to the upgraded srv-b (state: $(client_mirror a))"
writing "srv-b upgraded"

# ---- 2: the role to the upgraded server ----
t0=$(date +%s%3N)
# standbyd refuses while srv-b's copy is still marked outdated: the fence is lifted at the
# next check after the resync (monitor_interval); the admin asks again, as here
takeover() { on b vdiskctl standby takeover srv-b >"$W/takeover.log" 2>&1; }
WAIT_STEP=0.5 wait_until 20000 takeover
ok $? "takeover on srv-b accepted: $(tr '\n' ' ' <"$W/takeover.log")"
wait_until 30000 state_is b active
ok $? "srv-b ($VERSION) active ($(( $(date +%s%3N) - t0 )) ms), srv-a ($OLD_VERSION) $(state a)"
writing "srv-b ($VERSION) serving"

# ---- 3: the other server upgraded; auto_failback brings the role back ----
t0=$(date +%s%3N)
new_version a; ok $? "srv-a upgraded to $VERSION under dpkg ($(( $(date +%s%3N) - t0 )) ms)"
is "$(vdiskd_user a)" vdisk "srv-a's vdiskd runs as the user vdisk"
wait_until 90000 state_is a active
ok $? "the role back on srv-a by auto_failback ($(( $(date +%s%3N) - t0 )) ms after its upgrade began)"
writing "srv-a ($VERSION) serving"

# ---- nothing lost, nothing noticed ----
kill -TERM $WRITER; wait $WRITER
ok $? "the writer ends cleanly"
out=$(tail -1 "$W/writer.out")
diag "writer: $out"
# field NAME LINE: the value after NAME in a "name value name value" line
field() { awk -v f="$1" '{ for (i = 1; i < NF; i++) if ($i == f) { print $(i + 1); exit } }' <<<"$2"; }
is "$(field errors "$out")" 0 "the PC saw no I/O error across the rolling upgrade"
is "$(field lun_changed "$out")" 0 "nor another disk"
stall=$(field stall_ms "$out")
[ -n "$stall" ] && [ "${stall%.*}" -lt 10000 ]
ok $? "its longest wait for a write, ${stall} ms, is far inside Windows' 60 s hold (docs/install.md)"
v=$(ip netns exec $NS_PC env LIBISCSI_CHAP_USERNAME=$PC_IQN LIBISCSI_CHAP_PASSWORD="$SECRET" \
	"$SEQIO" verify --replacement-ms 10000 "$VIP:3260" "$DISK_IQN" "$PC_IQN" "$W/seq.log" 2>&1 | tail -1)
is "$(field lost "$v")" 0 "every acknowledged write is on the disk: $v"
# pxed after the upgrade, still root (0.18.0's vdisk-setup wrote no `user`), in a state_dir
# that is now vdisk-pxe's: it answers and saves the lease
lease=$(pc_lease)
grep -q "obtained from $LAN_A" <<<"$lease"; ok $? "after the upgrade the PC's DHCP answer comes from srv-a: $lease"
! on a journalctl -q -t pxed -o cat | grep -q 'leases: cannot write'
ok $? "and pxed saved its leases"
for n in a b; do
	on $n vdiskctl doctor >"$W/doctor.$n" 2>&1
	ok $? "vdiskctl doctor on srv-$n after the upgrade: $(tail -1 "$W/doctor.$n")"
done
[ "$tap_failed" = 0 ] || for n in a b; do
	on $n journalctl -q -o short-precise -t standbyd -t vdiskd -n 60 | sed "s/^/# srv-$n: /"
done
done_testing
