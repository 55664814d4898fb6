#!/bin/bash
# A real diskless client: QEMU (software emulation) with an e1000 NIC and Debian's iPXE ROM
# (ipxe-qemu) on a tap in the test's bridge boots from pxed and runs its per-client script,
# which echoes a marker onto the serial console. Takes 5-30 s (pxed's empty IPv6 router
# advertisement spares iPXE its 13 s autoconfiguration wait).
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
px_conf dhcp
px_start
ok $? "pxed starts"
ip -n "$NS_BR" tuntap add px-tap0 mode tap && ip -n "$NS_BR" link set px-tap0 master px-br0 up
ok $? "tap on the bridge"

start=$(date +%s)
ip netns exec "$NS_BR" qemu-system-x86_64 -nographic -serial "file:$T/serial.log" -monitor none \
	-boot n -m 128 -no-reboot -accel tcg \
	-netdev tap,id=n0,ifname=px-tap0,script=no,downscript=no \
	-device e1000,netdev=n0,mac=52:54:00:00:00:21 </dev/null >"$T/qemu.out" 2>&1 &
PX_PIDS="$PX_PIDS $!"
for i in $(seq 120); do
	grep -q 'vdisk: PC021 booting from 10.77.0.1' "$T/serial.log" 2>/dev/null && break
	sleep 1
done
diag "serial marker after $(( $(date +%s) - start )) s"
check "iPXE got an address from pxed" -- grep -q 'net0: 10.77.0.1[0-9][0-9]/255.255.255.0 gw 10.77.0.1' "$T/serial.log"
check "iPXE was given its per-client script, not iPXE again" -- grep -q 'Filename: clients/52-54-00-00-00-21.ipxe' "$T/serial.log"
check "it fetched the script over TFTP from in.tftpd" -- grep -q 'tftp://10.77.0.1/clients/52-54-00-00-00-21.ipxe... ok' "$T/serial.log"
check "the script ran (its marker is on the serial console)" -- grep -q 'vdisk: PC021 booting from 10.77.0.1' "$T/serial.log"
ok $([ "$(px_status router_adverts)" -ge 1 ]; echo $?) "pxed answered iPXE's IPv6 router solicitation (no 13 s autoconf wait)"
check "and tried to sanboot" -- sh -c "sleep 2; grep -q -e 'SAN device' -e 'could not boot' '$T/serial.log'"
if [ "$tap_failed" -ne 0 ]; then
	diag "serial console:"; tr -d '\r' < "$T/serial.log" | tail -15 | sed 's/^/#   /'
	diag "qemu:"; sed 's/^/#   /' "$T/qemu.out"
fi
done_testing
