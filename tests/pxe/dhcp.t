#!/bin/bash
# pxed in dhcp mode, in network namespaces: a real DHCP client (busybox udhcpc), crafted PXE
# and iPXE requests, static reservations, NAK, release, unknown and disabled clients,
# auto-registration, malformed packets counted, TFTP through tftp-hpa, leases kept across a
# restart, in.tftpd restarted when it dies, overlay reset sent to vdiskd.
source "${SRCDIR:-$(dirname "$0")/../..}/tests/lib/tap.sh"
need_root
for tool in ip busybox tftp jq; do
	command -v $tool >/dev/null || skip_all "$tool not installed"
done
[ -x /usr/sbin/in.tftpd ] || skip_all "in.tftpd (tftpd-hpa) not installed"
[ -f /usr/lib/ipxe/undionly.kpxe ] || skip_all "ipxe package not installed"
source "$SRCDIR/tests/pxe/pxe_env.sh"
px_netns || { echo "Bail out! cannot create namespaces"; exit 1; }

db client PC001 52:54:00:00:00:01 >/dev/null
db client PC002 52:54:00:00:00:02 ip=10.77.0.50 overlay=persistent
db client PC003 52:54:00:00:00:03 enabled=0
db client PC010 52:54:00:00:00:10
db set target_iqn iqn.2026-11.lan.vdisk:disk
px_fake_vdiskd '{"overlay-reset":{"ok":true}}'
px_conf dhcp
px_start
ok $? "pxed starts and opens its control socket"
# Capabilities left once the sockets are open: NET_ADMIN (12), KILL (5), NET_BIND_SERVICE
# (10), SETUID (7), SETGID (6), SYS_CHROOT (18); not SYS_ADMIN (21), NET_RAW (13), DAC (1).
caps=$(sed -n 's/^CapEff:\t*//p' "/proc/$PXED_PID/status")
is "$caps" 00000000000414e0 "pxed keeps only the capabilities it still uses"
is "$(sed -n 's/^CapBnd:\t*//p' "/proc/$PXED_PID/status")" 00000000000414e0 "and its children can get no more"
is "$(px_json .tftpd.state)" running "in.tftpd is running"
out=$("$BUILD/tests/helpers/ctl_ask" --json "$T/pxed.sock" frobnicate 2>/dev/null)
is "$out" '{"ok":false,"error":"unknown request '"'frobnicate'"' (try status, leases)"}' "an unknown request: an error answer"

# A real DHCP client. -V makes it a PXE client, which gets the boot file.
cat > "$T/udhcpc.sh" <<'SH'
#!/bin/sh
[ "$1" = bound ] && env | grep -E '^(ip|router|dns|subnet|lease|boot_file|siaddr|hostname)=' | sort > "$UDHCPC_OUT"
exit 0
SH
chmod +x "$T/udhcpc.sh"
UDHCPC_OUT=$T/udhcpc.env ip netns exec "$NS_C" busybox udhcpc -i px-c0 -f -q -n -t 3 -T 1 \
	-V PXEClient:Arch:00000:UNDI:002001 -s "$T/udhcpc.sh" >/dev/null 2>&1
ok $? "busybox udhcpc gets a lease"
is "$(sed -n 's/^ip=//p' "$T/udhcpc.env")" 10.77.0.100 "udhcpc: address from the pool"
is "$(sed -n 's/^router=//p' "$T/udhcpc.env")" 10.77.0.1 "udhcpc: router"
is "$(sed -n 's/^dns=//p' "$T/udhcpc.env" | tr -d ' ')" 10.77.0.1 "udhcpc: dns"
is "$(sed -n 's/^lease=//p' "$T/udhcpc.env")" 600 "udhcpc: lease time"
is "$(sed -n 's/^boot_file=//p' "$T/udhcpc.env")" undionly.kpxe "udhcpc: boot file"
is "$(sed -n 's/^siaddr=//p' "$T/udhcpc.env")" 10.77.0.1 "udhcpc: next server"
is "$(sed -n 's/^hostname=//p' "$T/udhcpc.env")" PC010 "udhcpc: host name from the DB"

# Crafted PXE requests: the file follows the architecture (option 93).
out=$(px_client -m 52:54:00:00:00:01 --pxe 0)
is "$(px_field type <<<"$out")" OFFER "PXE BIOS DISCOVER gets an OFFER"
is "$(px_field file <<<"$out")" undionly.kpxe "BIOS ROM gets undionly.kpxe"
is "$(px_field siaddr <<<"$out")" 10.77.0.1 "next server is the service address"
is "$(px_field t1 <<<"$out")" 300 "T1 is half the lease"
out=$(px_client -m 52:54:00:00:00:01 --pxe 7)
is "$(px_field file <<<"$out")" snponly.efi "UEFI x64 ROM gets snponly.efi"
out=$(px_client -m 52:54:00:00:00:01 --pxe 9)
is "$(px_field file <<<"$out")" snponly.efi "EFI BC ROM gets snponly.efi"
out=$(px_client -m 52:54:00:00:00:01 --pxe 11)
is "$(px_field file <<<"$out")" "" "ARM64 ROM gets an address but no file"
is "$(px_status no_boot_file)" 1 "and is counted"

# iPXE gets the URL of its own script on pxed's HTTP server (tests/pxe/http.t: who gets it).
out=$(px_client -m 52:54:00:00:00:01 --ipxe)
is "$(px_field file <<<"$out")" http://10.77.0.1:8069/ipxe/52-54-00-00-00-01.ipxe "iPXE gets its script's URL, not iPXE again"
check "no script is written to the TFTP root" -- sh -c "! find '$T/tftp' -name '*.ipxe' | grep -q ."

# The full exchange; the PXE ROM's boot is recorded and its overlay reset.
out=$(px_client -m 52:54:00:00:00:01 --pxe 0 --dora --xid 0x1001)
is "$(sed -n 's/^type=//p' <<<"$out" | tr '\n' ' ')" "OFFER ACK " "DISCOVER, REQUEST: OFFER, ACK"
ack_ip=$(sed -n '/^type=ACK/,$p' <<<"$out" | px_field yiaddr)
is "$ack_ip" 10.77.0.101 "ACK for the second pool address (the first is udhcpc's)"
check "the lease shows in 'leases'" -- sh -c "'$BUILD/tests/helpers/ctl_ask' '$T/pxed.sock' leases | grep -q '^lease: address 10.77.0.101 mac 52:54:00:00:00:01 state bound expires [0-9]'"
check "the boot is recorded in the DB (last_boot)" -- sh -c "db show PC001 | grep -qv '^last_boot=0$'; '$BUILD/tests/helpers/pxe_dbseed' '$T/db' show PC001 | grep -q '^last_boot=[1-9]'"
check "vdiskd was told to reset PC001's overlay (restore mode)" -- grep -qx 'overlay-reset PC001' "$T/vdiskd.log"
is "$(px_status overlay_resets)" "$(grep -c '^overlay-reset ' "$T/vdiskd.log")" "each overlay-reset vdiskd answered {\"ok\":true} is counted (PC010's, PC001's)"
px_client -m 52:54:00:00:00:01 --pxe 0 -t request --server-id 10.77.0.1 --req-ip 10.77.0.101 --xid 0x1001 >/dev/null
is "$(grep -c 'overlay-reset PC001' "$T/vdiskd.log")" 1 "a retransmission of the same boot does not reset again"
out=$(px_client -m 52:54:00:00:00:02 --pxe 0 --dora)
is "$(sed -n '/^type=ACK/,$p' <<<"$out" | px_field yiaddr)" 10.77.0.50 "static reservation from the DB"
check "no overlay reset for a persistent client" -- sh -c "! grep -q PC002 '$T/vdiskd.log'"

# Renewal, wrong address, release. The client now holds its address.
ip -n "$NS_C" addr add "$ack_ip/24" dev px-c0
out=$(px_client -m 52:54:00:00:00:01 -t request --ciaddr "$ack_ip" --unicast --to 10.77.0.1 --timeout 1000)
is "$(px_field type <<<"$out")" ACK "RENEWING request is ACKed"
out=$(px_client -m 52:54:00:00:00:01 -t request --req-ip 10.77.0.50)
is "$(px_field type <<<"$out")" NAK "INIT-REBOOT for another client's reserved address: NAK"
out=$(px_client -m 52:54:00:00:00:01 -t request --req-ip 10.77.0.140 --server-id 10.77.0.9)
is "$out" none "REQUEST naming another server: silence"
out=$(px_client -m 52:54:00:00:00:01 -t inform --ciaddr "$ack_ip" --to 10.77.0.1 --timeout 1000)
is "$(px_field type <<<"$out")" ACK "INFORM is answered"
is "$(px_field lease <<<"$out")" "" "without a lease time"

# Unknown, disabled, auto-registered.
out=$(px_client -m 52:54:00:00:00:99 --pxe 0 --timeout 700)
is "$out" none "unknown MAC: no answer"
is "$(px_status unknown_clients)" 1 "counted as unknown"
out=$(px_client -m 52:54:00:00:00:03 --pxe 0 --timeout 700)
is "$out" none "disabled client: no answer"
check "an event says why" -- sh -c "'$BUILD/tests/helpers/pxe_dbseed' '$T/db' events | grep -q 'PC003.*disabled'"
db group lab
db set auto_register on
db set auto_register_group lab
out=$(px_client -m 52:54:00:00:00:99 --pxe 0)
is "$(px_field type <<<"$out")" OFFER "auto-registration on: the unknown PXE client is answered"
is "$(px_field hostname <<<"$out")" PC011 "with the next free name"
check "an event records the registration" -- sh -c "'$BUILD/tests/helpers/pxe_dbseed' '$T/db' events | grep -q 'auto-registered 52:54:00:00:00:99 as PC011 in group lab'"

# Malformed packets are dropped and counted, each under its reason.
for kind in short optlen overload many magic type; do
	out=$(px_client --bad $kind --timeout 300)
	is "$out" none "malformed ($kind): no answer"
done
is "$(px_status malformed)" 6 "status counts 6 malformed packets"
is "$(px_json '.malformed | type')" number "a counter is a JSON number"
is "$(px_status malformed_bad_overload)" 1 "one with a bad overload"
is "$(px_status malformed_too_many_options)" 1 "one with too many options"
out=$(px_client -m 52:54:00:00:00:01 --pxe 0)
is "$(px_field type <<<"$out")" OFFER "still answering after the garbage"

# TFTP through tftp-hpa's server and client.
(cd "$T" && ip netns exec "$NS_C" tftp 10.77.0.1 -c get undionly.kpxe got.kpxe)
check "tftp fetches undionly.kpxe" -- cmp "$T/got.kpxe" /usr/lib/ipxe/undionly.kpxe

# in.tftpd dies: restarted with backoff.
old=$(px_json '.tftpd.pid // empty')
kill -9 "$old"
restarted() { new=$(px_json '.tftpd.pid // empty'); [ -n "$new" ] && [ "$new" != "$old" ]; }
wait_until 6000 restarted; ok $? "in.tftpd restarted after being killed"
diag "in.tftpd pid $old -> $new"
is "$(px_status tftpd_restarts)" 1 "restart counted"
is "$(px_status tftpd_last_exit)" "killed by signal 9" "status says how it died"
rm -f "$T/got.kpxe"
(cd "$T" && ip netns exec "$NS_C" tftp 10.77.0.1 -c get undionly.kpxe got.kpxe)
check "the restarted in.tftpd serves (started with pxed's reduced capabilities)" -- cmp "$T/got.kpxe" /usr/lib/ipxe/undionly.kpxe

# Release, then a restart keeps the bound leases.
px_client -m 52:54:00:00:00:02 -t release --ciaddr 10.77.0.50 --to 10.77.0.1 --timeout 200 >/dev/null
bound=$(px_status leases_bound)
px_stop
ok $? "pxed stops cleanly (exit 0) on SIGTERM"
check "in.tftpd stopped with it" -- sh -c "! pgrep -f '[i]n.tftpd.*$T/tftp' >/dev/null"
check "the leases file holds the bound lease" -- grep -q '^52:54:00:00:00:01 10.77.0.101 ' "$T/state/leases"
px_start
is "$(px_status leases_bound)" "$bound" "after a restart the same number of leases is bound"
out=$(px_client -m 52:54:00:00:00:01 --pxe 0)
is "$(px_field yiaddr <<<"$out")" 10.77.0.101 "and the client is offered its address again"
done_testing
