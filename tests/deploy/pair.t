#!/usr/bin/env bash
# Two fresh Debian 12 servers from the packages alone: roots made with mmdebstrap from the
# package mirror (cached: one tarball per package list, in $DEPLOY_CACHE), the .debs of
# tests/deploy/package.t installed with dpkg, each root booted as a real systemd machine with
# systemd-nspawn on a LAN and an HA link this test builds from network namespaces. The
# first-day setup (vdisk-setup) runs on each; both are rebooted, and the pair must come up
# from the units alone: srv-a active with the service address, srv-b standing by, tftpd-hpa's
# own service not started, port 69 pxed's in.tftpd's on the service address. A PC (a
# namespace) gets its DHCP answer, its iPXE script over TFTP and its disk over iSCSI with
# its CHAP secret; then srv-a's power is cut: srv-b takes the address, answers the PC, and
# serves the same disk. Needs root, mmdebstrap, systemd-nspawn, busybox, tftp, curl and
# iscsi-inq.
source "$(dirname "$0")/../lib/tap.sh"
source "$(dirname "$0")/deploy-lib.sh"
[ -f "$DEB/vdisk-server_${VERSION}_amd64.deb" ] && [ -f "$DEB/vdiskctl_${VERSION}_amd64.deb" ] ||
	skip_all "no packages in $DEB (tests/deploy/package.t builds them: make deb)"

# ---- the roots ----
dp_base
for n in a b; do
	dp_root $n "$DEB/vdisk-server_${VERSION}_amd64.deb" "$DEB/vdiskctl_${VERSION}_amd64.deb"
	ok $? "srv-$n: dpkg -i vdisk-server vdiskctl on the fresh root"
done
# An upgrade migrates the schema: srv-b's database replaced by a version-2 one (as vdisk
# before the CHAP secrets left it), the packages installed again (dpkg runs postinst as an
# upgrade from the installed version).
OLD=$BUILD/tests/helpers/db_oldschema
if [ -x "$OLD" ] && command -v sqlite3 >/dev/null; then
	rm -f "$W/b/var/lib/vdisk/vdisk.db"*
	"$OLD" "$W/b/var/lib/vdisk/vdisk.db" 2
	systemd-nspawn -q -D "$W/b" --register=no --keep-unit -E DEBIAN_FRONTEND=noninteractive \
		sh -c 'dpkg -i /root/debs/*.deb' >"$W/dpkg-b2.log" 2>&1
	ok $? "srv-b: the packages installed over themselves (postinst's upgrade path)"
	# the current version: what postinst created on srv-a's fresh root
	now=$(sqlite3 "$W/a/var/lib/vdisk/vdisk.db" 'PRAGMA user_version')
	is "$(sqlite3 "$W/b/var/lib/vdisk/vdisk.db" 'PRAGMA user_version')" "$now" \
		"the version-2 database was upgraded to the current version ($now)"
	is "$(sqlite3 "$W/b/var/backups/vdisk.db.$VERSION" 'PRAGMA user_version; SELECT name FROM clients' | tr '\n' ' ')" \
		"2 OLD001 " "postinst kept the database as it was in /var/backups/vdisk.db.$VERSION"
	is "$(stat -c %a "$W/b/var/backups/vdisk.db.$VERSION")" 600 "... mode 0600"
	"$BUILD/vdiskctl" --db "$W/b/var/lib/vdisk/vdisk.db" client show OLD001 --secrets |
		grep -Eq '^chap-secret: +[A-Za-z0-9]{16}$'
	ok $? "the old client survived the upgrade and got its CHAP secret"
else
	skip "the upgrade of a version-2 database" "no $OLD (make tests) or no sqlite3"
fi
# ids as the root's own passwd and group files name them (this host's may differ)
vu=$(awk -F: '$1 == "vdisk" { print $3 }' "$W/a/etc/passwd")
vg=$(awk -F: '$1 == "vdisk" { print $3 }' "$W/a/etc/group")
[ -n "$vu" ] && [ -n "$vg" ]; ok $? "postinst made the user and group vdisk ($vu:$vg)"
is "$(stat -c '%a %u %g' "$W/a/var/lib/vdisk")" "2770 0 $vg" "... /var/lib/vdisk 2770 root:vdisk"
is "$(stat -c '%a %u %g' "$W/a/var/lib/vdisk/overlays")" "750 $vu $vg" "... overlays/ vdiskd's"
is "$(stat -c '%a %u %g' "$W/a/var/lib/vdisk/vdisk.db")" "660 0 $vg" "... the database 0660 root:vdisk"
[ -s "$W/a/var/lib/vdisk/vdisk.db" ]; ok $? "postinst created the database"
[ -L "$W/a/etc/systemd/system/multi-user.target.wants/vdiskd.service" ] &&
	[ -L "$W/a/etc/systemd/system/multi-user.target.wants/standbyd.service" ]
ok $? "vdiskd.service and standbyd.service are enabled"

# ---- the LAN, the HA link, the PC ----
dp_lan

t0=$(date +%s%3N)
boot a; ok $? "srv-a boots to multi-user with the packages installed ($(( $(date +%s%3N) - t0 )) ms)"
t0=$(date +%s%3N)
boot b; ok $? "srv-b boots ($(( $(date +%s%3N) - t0 )) ms)"
is "$(on a systemctl is-active vdiskd.service)" active "before the setup: vdiskd runs (secondary, empty database)"
is "$(on a systemctl is-active standbyd.service)" inactive "before the setup: standbyd waits for /etc/ha.d/ha.cf"
is "$(on a systemctl is-active tftpd-hpa.service)" inactive "tftpd-hpa's own service is not running"

# ---- the first day ----
dp_setup
is "$(stat -c '%a %u %g' "$W/a/etc/vdisk/mirror.secret")" "640 0 $vg" \
	"vdisk-setup wrote the pair secret 0640 root:vdisk (vdiskd reads it as vdisk)"

# ---- reboot: the pair comes up from the units alone ----
halt a; halt b
boot a; ok $? "srv-a boots again"
boot b; ok $? "srv-b boots again"
wait_until 20000 state_is a active; ok $? "srv-a active, from the units alone (state: $(state a))"
wait_until 20000 state_is b standby; ok $? "srv-b standing by (state: $(state b))"
for u in vdiskd standbyd; do
	is "$(on a systemctl show -p Type --value $u.service)" notify "$u.service is Type=notify"
done
# The hardening took: the bounding sets of the units, no new privileges.
status_of() {	# status_of a|b UNIT FIELD: FIELD of the unit's main process's /proc status
	on "$1" sh -c "sed -n 's/^$3:[[:space:]]*//p' /proc/\$(systemctl show -p MainPID --value $2)/status"
}
is "$(status_of a vdiskd Uid | awk '{print $2}')" "$(on a id -u vdisk)" "vdiskd runs as the user vdisk"
is "$(status_of a vdiskd CapBnd)" 0000000000000000 "vdiskd's bounding set is empty"
is "$(status_of a standbyd CapBnd)" 00000000000435e0 \
	"standbyd's: NET_ADMIN, NET_RAW, NET_BIND_SERVICE, KILL, SETUID, SETGID, SETPCAP, SYS_CHROOT"
is "$(status_of a vdiskd NoNewPrivs)$(status_of a standbyd NoNewPrivs)" 11 "both with NoNewPrivileges"
# pxed_user a|b: the user pxed runs as (no ps in the machine: its /proc)
pxed_user() {
	on "$1" sh -c 'for p in /proc/[0-9]*; do [ "$(cat $p/comm 2>/dev/null)" = pxed ] && stat -c %U $p; done'
}
wait_until 10000 eval '[ "$(pxed_user a)" = vdisk-pxe ]'
ok $? "pxed, started by standbyd, runs as the user vdisk-pxe ($(pxed_user a))"
# rx_uid a|b: the uid of standbyd's heartbeat receiver (not dumpable: its /proc is root's,
# so the uid comes from its status)
rx_uid() {
	on "$1" sh -c 'for p in /proc/[0-9]*; do [ "$(cat $p/comm 2>/dev/null)" = standbyd-rx ] && sed -n "s/^Uid:[[:space:]]*\([0-9]*\).*/\1/p" $p/status; done'
}
is "$(rx_uid a)" "$(on a id -u vdisk-hb)" "standbyd's heartbeat receiver runs as the user vdisk-hb"
# standbyd's loop (the unit's main process) drops to vdisk-ha once its helper runs; the
# helper (standbyd-priv) keeps root for the addresses, ARP and the resources' scripts
is "$(status_of a standbyd Uid | awk '{print $2}')" "$(on a id -u vdisk-ha)" \
	"standbyd's loop runs as the user vdisk-ha"
is "$(status_of a standbyd CapEff)" 0000000000000000 "with no capability"
priv_uid() {
	on "$1" sh -c 'for p in /proc/[0-9]*; do [ "$(cat $p/comm 2>/dev/null)" = standbyd-priv ] && sed -n "s/^Uid:[[:space:]]*\([0-9]*\).*/\1/p" $p/status; done'
}
is "$(priv_uid a)" 0 "its privileged helper, standbyd-priv, is root"
is "$(on a systemctl is-active tftpd-hpa.service)" inactive "tftpd-hpa's service still not started after a reboot"
ip -n $NS_A addr show lan0 | grep -q "inet $VIP/"; ok $? "the service address $VIP on srv-a"
tftp_sock() { ip netns exec "$1" ss -Hulpn "sport = :69" 2>/dev/null; }
wait_until 10000 eval "tftp_sock $NS_A | grep -q '$VIP:69.*in.tftpd'"
ok $? "UDP 69: pxed's in.tftpd on $VIP ($(tftp_sock $NS_A | awk '{print $4}' | tr '\n' ' '))"
is "$(tftp_sock $NS_B)" "" "nothing on UDP 69 on the standby"

# ---- a PC boots ----
lease=$(pc_lease)
grep -q "obtained from $LAN_A" <<<"$lease"; ok $? "the PC's DHCP answer comes from srv-a: $lease"
script=ipxe/${PC_MAC//:/-}.ipxe
rm -f "$W/pc.ipxe"
ip netns exec $NS_PC curl -s -m 5 -o "$W/pc.ipxe" "http://$VIP:8069/$script"
grep -q '^sanboot iscsi:' "$W/pc.ipxe"; ok $? "the PC's iPXE script by HTTP from $VIP (pxed serves it to the PC's lease alone)"
SECRET=$(pc_secret)
serial=$(disk)
grep -q 'Unit Serial Number:\[.\+\]' <<<"$serial"; ok $? "the PC's disk through $VIP with its CHAP secret: $serial"

# ---- the first-day mistakes: none on a pair set up by vdisk-setup ----
for n in a b; do
	on $n vdiskctl doctor >"$W/doctor.$n" 2>&1
	r=$?
	ok $r "vdiskctl doctor on srv-$n: $(tail -1 "$W/doctor.$n")"
	sed 's/^/# /' "$W/doctor.$n"
done

# ---- logs: one journal entry per event, under each program's name ----
on a journalctl -q -t standbyd -o cat | grep -q 'standbyd started: node srv-a'
ok $? "standbyd's events in the journal under its own name"
on a journalctl -q -t pxed -o cat | grep -q "pxed $VERSION answering on lan0"
ok $? "pxed, run by standbyd, in the journal under its own name"
on a journalctl -q -t vdiskd -o cat >"$W/vdiskd.journal"
grep -q "^vdiskd $VERSION listening on 0.0.0.0:3260" "$W/vdiskd.journal" &&
	! grep -q '^20[0-9][0-9]-' "$W/vdiskd.journal"
ok $? "vdiskd's entries are the messages alone (the journal keeps time and priority)"
! grep -q 'replica listener: cannot bind' "$W/vdiskd.journal"
ok $? "vdiskd, with no capability, bound the replica listener to ha0"
on a vdiskctl events 2>/dev/null | grep -q 'vdiskd.*mirror in sync'
ok $? "vdiskd, as the user vdisk, records its events in the database"

# ---- power cut of srv-a ----
t0=$(date +%s%3N)
ip -n $NS_A link set lan0 down; ip -n $NS_A link set ha0 down
pid=$(machine_pid a) && [ -n "$pid" ] && kill -9 "$pid"
wait "${NSPAWN[a]}" 2>/dev/null; NSPAWN[a]=
wait_until 15000 state_is b active
ok $? "srv-b active after srv-a's power cut ($(( $(date +%s%3N) - t0 )) ms)"
ip -n $NS_B addr show lan0 | grep -q "inet $VIP/"; ok $? "the service address moved to srv-b"
lease=$(pc_lease)
grep -q "obtained from $LAN_B" <<<"$lease"; ok $? "the PC's DHCP answer now from srv-b: $lease"
after=$(disk)
is "$after" "$serial" "srv-b serves the PC's disk, same identity"

# Restart policy: vdiskd killed on the active server comes back by its unit alone, and
# standbyd promotes it again (docs/standby.md, "Resource failure").
pid=$(on b systemctl show -p MainPID --value vdiskd.service)
t0=$(date +%s%3N)
# A pid of 0 (vdiskd not running) must never reach kill: "kill -9 0" would kill the
# process group nsenter shares with this test and whatever ran it.
if [[ $pid =~ ^[0-9]+$ ]] && [ "$pid" -gt 1 ]; then
	on b sh -c 'kill -9 "$1"' sh "$pid"
else
	ok 1 "vdiskd.service runs on srv-b (MainPID '$pid')"
	done_testing
fi
new_pid() { local p; p=$(on b systemctl show -p MainPID --value vdiskd.service); [ -n "$p" ] && [ "$p" != 0 ] && [ "$p" != "$pid" ]; }
wait_until 10000 new_pid; ok $? "vdiskd killed with SIGKILL is restarted by vdiskd.service ($(( $(date +%s%3N) - t0 )) ms)"
disk_is() { [ "$(disk)" = "$serial" ]; }
wait_until 20000 disk_is; r=$?
ok $r "srv-b serves the PC's disk again ($(( $(date +%s%3N) - t0 )) ms after the kill)"
[ $r = 0 ] || { on b vdiskctl status 2>&1 | sed 's/^/# /'
	  on b journalctl -q -o short-precise -t standbyd -t vdiskd -n 40 | sed 's/^/# /'; }
done_testing
