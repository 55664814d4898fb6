# Two Debian 12 servers from the packages alone, for the deployment tests (pair.t,
# upgrade.t): roots made with mmdebstrap from the package mirror (cached: one tarball per
# package list, in $DEPLOY_CACHE), each booted as a real systemd machine with systemd-nspawn
# on a LAN and an HA link built from network namespaces, and a PC (a namespace) on the LAN.
# Sourced after tests/lib/tap.sh; needs root, mmdebstrap, systemd-nspawn, busybox, tftp,
# curl and iscsi-inq.
need_root
for t in mmdebstrap systemd-nspawn nsenter busybox tftp curl iscsi-inq; do
	command -v $t >/dev/null || skip_all "$t missing (make deps installs deploy/deps.txt)"
done
VERSION=$(sed -n '1s/^[^(]*(\([^)]*\)).*/\1/p' "$SRCDIR/debian/changelog")
DEB=$BUILD/deb

CACHE=${DEPLOY_CACHE:-/var/tmp/vdisk-deploy-cache}
# What a server needs beside our packages (their dependencies), and systemd to boot.
PKGS=systemd,systemd-sysv,iproute2,tftpd-hpa,ipxe,libiscsi7,libisal2,libpcap0.8,libsqlite3-0,libssl3,libsystemd0,libmicrohttpd12,libjansson4
KEY=$(echo "bookworm apt $PKGS" | md5sum | cut -c1-12)
BASE=$CACHE/bookworm-$KEY.tar
PFX=dp$$
NS_LAN=$PFX-lan NS_A=$PFX-a NS_B=$PFX-b NS_PC=$PFX-pc
VIP=192.168.71.10
LAN_A=192.168.71.2 LAN_B=192.168.71.3 HA_A=10.97.0.1 HA_B=10.97.0.2
PC_MAC=52:54:00:71:00:01
PC_IQN=iqn.2026-11.lan.vdisk:pc001
DISK_IQN=iqn.2026-11.lan.vdisk:disk
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
dp_cleanup() {
	local n pid
	for n in a b; do
		pid=$(machine_pid $n) && [ -n "$pid" ] && kill -9 "$pid" 2>/dev/null
		[ -n "${NSPAWN[$n]:-}" ] && { kill -9 "${NSPAWN[$n]}" 2>/dev/null; wait "${NSPAWN[$n]}" 2>/dev/null; }
	done
	for n in $NS_PC $NS_A $NS_B $NS_LAN; do ip netns del "$n" 2>/dev/null; done
	[ -z "$W" ] || rm -rf "$W"
}
trap dp_cleanup EXIT
W=$(mktemp -d /var/tmp/vdisk-deploy.XXXXXX)

# dp_base: the cached Debian 12 root tarball, made once from the package mirror
dp_base() {
	local t0
	mkdir -p "$CACHE"
	if [ -s "$BASE" ]; then
		ok 0 "the cached Debian 12 root $BASE"
		return
	fi
	t0=$(date +%s)
	mmdebstrap --quiet --variant=apt --include="$PKGS" --format=tar bookworm "$BASE.tmp" \
		>"$W/mmdebstrap.log" 2>&1 && mv "$BASE.tmp" "$BASE"
	ok $? "a Debian 12 root from the package mirror with mmdebstrap ($(( $(date +%s) - t0 )) s, cached as $BASE)"
	[ -s "$BASE" ] || { tail -20 "$W/mmdebstrap.log" | sed 's/^/# /'; done_testing; }
}

# dp_root a|b DEB...: the root of srv-a|b unpacked, a 64 MiB disk image in /root/base.img,
# the .debs copied to /root/debs/ and installed with dpkg; 0 when dpkg succeeded
dp_root() {
	local n=$1 R=$W/$1 r
	shift
	mkdir -p "$R" && tar -C "$R" -xf "$BASE" || return 1
	echo "srv-$n" >"$R/etc/hostname"
	mkdir -p "$R/root/debs"
	cp "$@" "$R/root/debs/"
	# a disk image for the PCs, on both servers (image sync would copy it; not the point here)
	truncate -s 64M "$R/root/base.img"
	systemd-nspawn -q -D "$R" --register=no --keep-unit -E DEBIAN_FRONTEND=noninteractive \
		sh -c 'dpkg -i /root/debs/*.deb' >"$W/dpkg-$n.log" 2>&1
	r=$?
	[ $r = 0 ] || tail -20 "$W/dpkg-$n.log" | sed 's/^/# /'
	return $r
}

# dp_lan: the LAN (a bridge), each server's lan0 on it and an HA link ha0 between them, the
# PC's lan0 with its MAC
dp_lan() {
	local ns n
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
}

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

# dp_setup [ARG...]: the first day on both running machines (vdisk-setup with the pair's
# keys made on srv-a, ARGs added), then PC001 (hot standby) and its image in srv-a's
# database and the image file on both
dp_setup() {
	local n r
	on a vdisk-setup --new-keys /root/pair.keys >/dev/null
	cp "$W/a/root/pair.keys" "$W/b/root/pair.keys"
	for n in a b; do
		on $n vdisk-setup --keys /root/pair.keys --node srv-$n --nodes srv-a,srv-b --lan-if lan0 \
			--ha-if ha0 --lan-addrs $LAN_A,$LAN_B --ha-addrs $HA_A,$HA_B \
			--service-addr $VIP/24 --pool 192.168.71.100-192.168.71.150 --keepalive 200ms \
			--deadtime 1s "$@" >"$W/setup-$n.log" 2>&1
		r=$?
		ok $r "vdisk-setup on srv-$n"
		[ $r = 0 ] || tail -20 "$W/setup-$n.log" | sed 's/^/# /'
	done
	# The PCs and their image, in the preferred node's database (shipped to srv-b once the
	# pair runs).
	on a sh -c "cp /root/base.img /var/lib/vdisk/images/base.img &&
		vdiskctl image add base --path /var/lib/vdisk/images/base.img &&
		vdiskctl client add --name PC001 --mac $PC_MAC --image base --server srv-a \
			--hot-standby on" >"$W/db.log" 2>&1
	ok $? "PC001 (hot standby) and its image in srv-a's database"
	on b cp /root/base.img /var/lib/vdisk/images/base.img
}

# state a|b: standbyd's state on the machine
state() { on "$1" vdiskctl standby status 2>/dev/null | sed -n 's/^ *state: //p' | head -1; }
state_is() { [ "$(state "$1")" = "$2" ]; }
# client_mirror a|b: the state of PC001's own mirror in vdiskd's status on the machine, as
# its vdiskctl shows it: "mirror_client: PC001 state ..." (JSON answers), or, on a server
# still on 0.18.0 during the rolling upgrade (upgrade.t), "mirror-client PC001 state ..."
client_mirror() {
	on "$1" vdiskctl status 2>/dev/null |
		awk '($1 == "mirror_client:" || $1 == "mirror-client") && $2 == "PC001" { for (i = 3; i < NF; i++) if ($i == "state") print $(i + 1) }'
}
client_mirror_is() { [ "$(client_mirror "$1")" = "$2" ]; }

# dhcp: the PC asks as iPXE does (user class "iPXE"); prints the lease line
dhcp() {
	ip netns exec $NS_PC timeout 8 busybox udhcpc -i lan0 -n -q -f -t 4 -T 1 \
		-x 0x4d:69505845 -s /bin/true 2>&1 | grep -m1 'lease of'
}
# pc_lease: the PC's address from a DHCP answer, put on its lan0; prints the lease line
pc_lease() {
	local lease addr
	ip -n $NS_PC addr flush dev lan0
	lease=$(dhcp)
	addr=$(sed -n 's/.*lease of \([0-9.]*\) obtained.*/\1/p' <<<"$lease")
	[ -n "$addr" ] && ip -n $NS_PC addr add "$addr/24" dev lan0
	echo "$lease"
}
# pc_secret: PC001's CHAP secret from srv-a's database
pc_secret() { on a vdiskctl client show PC001 --secrets | sed -n 's/^chap-secret: *//p'; }
# disk: the unit serial number of PC001's disk, asked through the service address with its
# CHAP secret ($SECRET)
disk() {
	ip netns exec $NS_PC env LIBISCSI_CHAP_USERNAME=$PC_IQN \
		LIBISCSI_CHAP_PASSWORD="$SECRET" timeout 5 iscsi-inq -i $PC_IQN \
		-e 1 -c 128 "iscsi://$VIP/$DISK_IQN/0" 2>&1 | grep -m1 -i serial
}
