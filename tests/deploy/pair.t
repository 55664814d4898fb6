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
need_root
for t in mmdebstrap systemd-nspawn nsenter busybox tftp curl iscsi-inq; do
	command -v $t >/dev/null || skip_all "$t missing (make deps installs deploy/deps.txt)"
done
VERSION=$(sed -n '1s/^[^(]*(\([^)]*\)).*/\1/p' "$SRCDIR/debian/changelog")
DEB=$BUILD/deb
[ -f "$DEB/vdisk-server_${VERSION}_amd64.deb" ] && [ -f "$DEB/vdiskctl_${VERSION}_amd64.deb" ] ||
	skip_all "no packages in $DEB (tests/deploy/package.t builds them: make deb)"

CACHE=${DEPLOY_CACHE:-/var/tmp/vdisk-deploy-cache}
# What a server needs beside our packages (their dependencies), and systemd to boot.
PKGS=systemd,systemd-sysv,iproute2,tftpd-hpa,ipxe,libiscsi7,libisal2,libpcap0.8,libsqlite3-0,libssl3,libsystemd0,libmicrohttpd12
KEY=$(echo "bookworm apt $PKGS" | md5sum | cut -c1-12)
BASE=$CACHE/bookworm-$KEY.tar
ID=$$
PFX=dp$ID
NS_LAN=$PFX-lan NS_A=$PFX-a NS_B=$PFX-b NS_PC=$PFX-pc
VIP=192.168.71.10
LAN_A=192.168.71.2 LAN_B=192.168.71.3 HA_A=10.97.0.1 HA_B=10.97.0.2
PC_MAC=52:54:00:71:00:01
W=
declare -A NSPAWN

# machine_pid a|b: the host pid of the machine's init, "" when it is not running
machine_pid() {
	local p=${NSPAWN[$1]:-}
	[ -n "$p" ] && kill -0 "$p" 2>/dev/null || return 1
	pgrep -P "$p" | head -1
}
# on a|b COMMAND...: COMMAND inside the running machine
on() {
	local pid
	pid=$(machine_pid "$1") || return 1
	[ -n "$pid" ] || return 1
	shift
	# A session of its own, so no signal meant for a group inside can reach this test's.
	setsid -w nsenter -t "$pid" -m -u -i -n -p -- "$@"
}
cleanup() {
	local n pid
	for n in a b; do
		pid=$(machine_pid $n) && [ -n "$pid" ] && kill -9 "$pid" 2>/dev/null
		[ -n "${NSPAWN[$n]:-}" ] && { kill -9 "${NSPAWN[$n]}" 2>/dev/null; wait "${NSPAWN[$n]}" 2>/dev/null; }
	done
	for n in $NS_PC $NS_A $NS_B $NS_LAN; do ip netns del "$n" 2>/dev/null; done
	[ -z "$W" ] || rm -rf "$W"
}
trap cleanup EXIT
W=$(mktemp -d /var/tmp/vdisk-pair.XXXXXX)

# ---- the roots ----
mkdir -p "$CACHE"
if [ ! -s "$BASE" ]; then
	t0=$(date +%s)
	mmdebstrap --quiet --variant=apt --include="$PKGS" --format=tar bookworm "$BASE.tmp" \
		>"$W/mmdebstrap.log" 2>&1 && mv "$BASE.tmp" "$BASE"
	ok $? "a Debian 12 root from the package mirror with mmdebstrap ($(( $(date +%s) - t0 )) s, cached as $BASE)"
	[ -s "$BASE" ] || { tail -20 "$W/mmdebstrap.log" | sed 's/^/# /'; done_testing; }
else
	ok 0 "the cached Debian 12 root $BASE"
fi
for n in a b; do
	R=$W/$n
	mkdir -p "$R" && tar -C "$R" -xf "$BASE" || { ok 1 "root $n unpacked"; done_testing; }
	echo "srv-$n" >"$R/etc/hostname"
	mkdir -p "$R/root/debs"
	cp "$DEB/vdisk-server_${VERSION}_amd64.deb" "$DEB/vdiskctl_${VERSION}_amd64.deb" "$R/root/debs/"
	# a disk image for the PCs, on both servers (image sync would copy it; not the point here)
	truncate -s 64M "$R/root/base.img"
	systemd-nspawn -q -D "$R" --register=no --keep-unit -E DEBIAN_FRONTEND=noninteractive \
		sh -c 'dpkg -i /root/debs/*.deb' >"$W/dpkg-$n.log" 2>&1
	ok $? "srv-$n: dpkg -i vdisk-server vdiskctl on the fresh root"
	[ $? = 0 ] || tail -20 "$W/dpkg-$n.log" | sed 's/^/# /'
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
for ns in $NS_LAN $NS_A $NS_B $NS_PC; do ip netns add "$ns" && ip -n "$ns" link set lo up; done
ip -n $NS_LAN link add br0 type bridge && ip -n $NS_LAN link set br0 up
for n in a b pc; do
	ip -n $NS_LAN link add "p-$n" type veth peer name lan0 netns "$PFX-$n"
	ip -n $NS_LAN link set "p-$n" master br0 up
	ip -n "$PFX-$n" link set lan0 up
done
ip -n $NS_PC link set lan0 address $PC_MAC
ip -n $NS_A link add ha0 type veth peer name ha0 netns $NS_B
ip -n $NS_A link set ha0 up && ip -n $NS_B link set ha0 up
ip -n $NS_A addr add $LAN_A/24 dev lan0 && ip -n $NS_A addr add $HA_A/24 dev ha0
ip -n $NS_B addr add $LAN_B/24 dev lan0 && ip -n $NS_B addr add $HA_B/24 dev ha0

# boot a|b: the root as a machine on its namespace; 0 once it has reached its targets
boot() {
	local n=$1
	# A session of its own: the machine's end must not signal this test's process group.
	SYSTEMD_NSPAWN_UNIFIED_HIERARCHY=0 setsid systemd-nspawn -q -D "$W/$n" --boot --register=no \
		--keep-unit --machine=srv-$n --network-namespace-path=/run/netns/$PFX-$n \
		--capability=CAP_NET_ADMIN \
		--console=read-only >>"$W/console-$n.log" 2>&1 &
	NSPAWN[$n]=$!
	wait_until 60000 booted "$n"
}
booted() {
	local s
	s=$(on "$1" systemctl is-system-running 2>/dev/null)
	[ "$s" = running ] || [ "$s" = degraded ]
}
# halt a|b: a clean poweroff, waited for
halt() {
	on "$1" systemctl poweroff >/dev/null 2>&1
	wait_until 30000 eval "! kill -0 ${NSPAWN[$1]} 2>/dev/null"
	wait "${NSPAWN[$1]}" 2>/dev/null
	NSPAWN[$1]=
}

t0=$(date +%s%3N)
boot a; ok $? "srv-a boots to multi-user with the packages installed ($(( $(date +%s%3N) - t0 )) ms)"
t0=$(date +%s%3N)
boot b; ok $? "srv-b boots ($(( $(date +%s%3N) - t0 )) ms)"
is "$(on a systemctl is-active vdiskd.service)" active "before the setup: vdiskd runs (secondary, empty database)"
is "$(on a systemctl is-active standbyd.service)" inactive "before the setup: standbyd waits for /etc/ha.d/ha.cf"
is "$(on a systemctl is-active tftpd-hpa.service)" inactive "tftpd-hpa's own service is not running"

# ---- the first day ----
on a vdisk-setup --new-keys /root/pair.keys >/dev/null
cp "$W/a/root/pair.keys" "$W/b/root/pair.keys"
for n in a b; do
	on $n vdisk-setup --keys /root/pair.keys --node srv-$n --nodes srv-a,srv-b --lan-if lan0 \
		--ha-if ha0 --lan-addrs $LAN_A,$LAN_B --ha-addrs $HA_A,$HA_B \
		--service-addr $VIP/24 --pool 192.168.71.100-192.168.71.150 --keepalive 200ms \
		--deadtime 1s >"$W/setup-$n.log" 2>&1
	ok $? "vdisk-setup on srv-$n"
	[ $? = 0 ] || tail -20 "$W/setup-$n.log" | sed 's/^/# /'
done
is "$(stat -c '%a %u %g' "$W/a/etc/vdisk/mirror.secret")" "640 0 $vg" \
	"vdisk-setup wrote the pair secret 0640 root:vdisk (vdiskd reads it as vdisk)"
# The PCs and their image, in the preferred node's database (shipped to srv-b once the
# pair runs).
on a sh -c "cp /root/base.img /var/lib/vdisk/images/base.img &&
	vdiskctl image add base --path /var/lib/vdisk/images/base.img &&
	vdiskctl client add --name PC001 --mac $PC_MAC --image base --server srv-a \
		--hot-standby on" >"$W/db.log" 2>&1
ok $? "PC001 (hot standby) and its image in srv-a's database"
on b cp /root/base.img /var/lib/vdisk/images/base.img

# ---- reboot: the pair comes up from the units alone ----
halt a; halt b
boot a; ok $? "srv-a boots again"
boot b; ok $? "srv-b boots again"
state() { on "$1" vdiskctl standby status 2>/dev/null | sed -n 's/^ *state: //p' | head -1; }
state_is() { [ "$(state "$1")" = "$2" ]; }
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
is "$(on a systemctl is-active tftpd-hpa.service)" inactive "tftpd-hpa's service still not started after a reboot"
ip -n $NS_A addr show lan0 | grep -q "inet $VIP/"; ok $? "the service address $VIP on srv-a"
tftp_sock() { ip netns exec "$1" ss -Hulpn "sport = :69" 2>/dev/null; }
wait_until 10000 eval "tftp_sock $NS_A | grep -q '$VIP:69.*in.tftpd'"
ok $? "UDP 69: pxed's in.tftpd on $VIP ($(tftp_sock $NS_A | awk '{print $4}' | tr '\n' ' '))"
is "$(tftp_sock $NS_B)" "" "nothing on UDP 69 on the standby"

# ---- a PC boots ----
# dhcp: asks as iPXE does (user class "iPXE"); prints the lease line
dhcp() {
	ip netns exec $NS_PC timeout 8 busybox udhcpc -i lan0 -n -q -f -t 4 -T 1 \
		-x 0x4d:69505845 -s /bin/true 2>&1 | grep -m1 'lease of'
}
lease=$(dhcp)
grep -q "obtained from $LAN_A" <<<"$lease"; ok $? "the PC's DHCP answer comes from srv-a: $lease"
addr=$(sed -n 's/.*lease of \([0-9.]*\) obtained.*/\1/p' <<<"$lease")
[ -n "$addr" ] && ip -n $NS_PC addr add "$addr/24" dev lan0
script=ipxe/${PC_MAC//:/-}.ipxe
rm -f "$W/pc.ipxe"
ip netns exec $NS_PC curl -s -m 5 -o "$W/pc.ipxe" "http://$VIP:8069/$script"
grep -q '^sanboot iscsi:' "$W/pc.ipxe"; ok $? "the PC's iPXE script by HTTP from $VIP (pxed serves it to the PC's lease alone)"
secret=$(on a vdiskctl client show PC001 --secrets | sed -n 's/^chap-secret: *//p')
disk() {
	ip netns exec $NS_PC env LIBISCSI_CHAP_USERNAME=iqn.2026-11.lan.vdisk:pc001 \
		LIBISCSI_CHAP_PASSWORD="$secret" timeout 5 iscsi-inq -i iqn.2026-11.lan.vdisk:pc001 \
		-e 1 -c 128 "iscsi://$VIP/iqn.2026-11.lan.vdisk:disk/0" 2>&1 | grep -m1 -i serial
}
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
ip -n $NS_PC addr flush dev lan0
lease=$(dhcp)
grep -q "obtained from $LAN_B" <<<"$lease"; ok $? "the PC's DHCP answer now from srv-b: $lease"
addr=$(sed -n 's/.*lease of \([0-9.]*\) obtained.*/\1/p' <<<"$lease")
[ -n "$addr" ] && ip -n $NS_PC addr add "$addr/24" dev lan0
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
