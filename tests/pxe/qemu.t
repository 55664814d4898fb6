#!/bin/bash
# A real diskless client: QEMU (software emulation) with an e1000 NIC and Debian's iPXE ROM
# (ipxe-qemu) on a tap in the test's bridge boots from pxed and runs its per-client script,
# (over HTTP from pxed, to that PC only), which echoes a marker onto the serial console;
# first with pxed as the DHCP server, then in
# proxy mode beside the café router's DHCP server (busybox udhcpd). About 10 s each (pxed's
# empty IPv6 router advertisement spares iPXE its 13 s autoconfiguration wait).
source "${SRCDIR:-$(dirname "$0")/../..}/tests/lib/tap.sh"
need_root
command -v qemu-system-x86_64 >/dev/null || skip_all "qemu-system-x86 not installed"
[ -e /usr/lib/ipxe/qemu/efi-e1000.rom ] || [ -e /usr/lib/ipxe/qemu/pxe-e1000.rom ] ||
	skip_all "ipxe-qemu not installed"
[ -c /dev/net/tun ] || skip_all "no /dev/net/tun"
[ -f /usr/lib/ipxe/undionly.kpxe ] || skip_all "ipxe package not installed"
source "$SRCDIR/tests/pxe/pxe_env.sh"
px_netns || { echo "Bail out! cannot create namespaces"; exit 1; }

db client PC021 52:54:00:00:00:21 >/dev/null
ip -n "$NS_BR" tuntap add px-tap0 mode tap && ip -n "$NS_BR" link set px-tap0 master px-br0 up
ok $? "tap on the bridge"

# boot_qemu NAME: boots the PC until its script's marker shows (or 120 s), then stops it.
boot_qemu() {
	local start=$(date +%s) i qp
	rm -f "$T/serial.log"
	ip netns exec "$NS_BR" qemu-system-x86_64 -nographic -serial "file:$T/serial.log" \
		-monitor none -boot n -m 128 -no-reboot -accel tcg \
		-netdev tap,id=n0,ifname=px-tap0,script=no,downscript=no \
		-device e1000,netdev=n0,mac=52:54:00:00:00:21 </dev/null >"$T/qemu.out" 2>&1 &
	qp=$!
	WAIT_STEP=1 wait_until 120000 grep -qs 'could not boot\|SAN device' "$T/serial.log"
	kill "$qp"; wait "$qp" 2>/dev/null
	diag "$1: sanboot attempt after $(( $(date +%s) - start )) s"
	tr -d '\r' <"$T/serial.log" >"$T/serial.txt"
}
show() {
	[ "$tap_failed" -eq 0 ] && return
	diag "serial console:"; tail -15 "$T/serial.txt" | sed 's/^/#   /'
	diag "qemu:"; sed 's/^/#   /' "$T/qemu.out"
}

# 1: pxed is the LAN's DHCP server.
px_conf dhcp
px_start
ok $? "pxed starts in dhcp mode"
boot_qemu dhcp
check "iPXE got an address from pxed" -- grep -q 'net0: 10.77.0.1[0-9][0-9]/255.255.255.0 gw 10.77.0.1' "$T/serial.txt"
check "iPXE was given its per-client script's URL, not iPXE again" -- grep -q 'Filename: http://10.77.0.1:8069/ipxe/52-54-00-00-00-21.ipxe' "$T/serial.txt"
check "it fetched the script over HTTP from pxed" -- grep -q 'http://10.77.0.1:8069/ipxe/52-54-00-00-00-21.ipxe... ok' "$T/serial.txt"
is "$(px_status http_scripts_served)" 1 "pxed served it to the address it leased"
check "the script ran (its marker is on the serial console)" -- grep -q 'vdisk: PC021 booting from 10.77.0.1' "$T/serial.txt"
check "and tried to sanboot" -- grep -q -e 'SAN device' -e 'could not boot' "$T/serial.txt"
ok $([ "$(px_status router_adverts)" -ge 1 ]; echo $?) "pxed answered iPXE's IPv6 router solicitation (no 13 s autoconf wait)"
show
px_stop

# 2: the café's router leases addresses; pxed only adds the boot (proxyDHCP).
px_router
ok $? "a router namespace with busybox udhcpd"
px_conf proxy
px_start
ok $? "pxed starts in proxy mode"
boot_qemu proxy
check "proxy: the address and gateway come from the router" -- grep -q 'net0: 10.77.0.1[0-9][0-9]/255.255.255.0 gw 10.77.0.254' "$T/serial.txt"
check "proxy: the next server and script from pxed" -- grep -q 'Filename: http://10.77.0.1:8069/ipxe/52-54-00-00-00-21.ipxe' "$T/serial.txt"
check "proxy: the script ran" -- grep -q 'vdisk: PC021 booting from 10.77.0.1' "$T/serial.txt"
is "$(px_status http_scripts_served)" 1 "proxy: served to the address the router leased (the 4011 REQUEST's)"
is "$(px_status leases_bound)" 0 "proxy: pxed leased nothing"
a=$(px_status tx_ACK); diag "proxy: pxed sent $(px_status tx_OFFER) offers (port 67), ${a:-0} ACKs (port 4011)"
show
done_testing
