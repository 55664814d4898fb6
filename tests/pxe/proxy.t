#!/bin/bash
# pxed in proxy mode: PXE and iPXE clients get boot information without an address (port 67
# offer, port 4011 ACK), plain DHCP clients and the DHCP conversation itself are left to the
# LAN's own server. The iPXE script is served to the address the 4011 REQUEST came from.
source "${SRCDIR:-$(dirname "$0")/../..}/tests/lib/tap.sh"
need_root
command -v ip >/dev/null || skip_all "iproute2 not installed"
[ -f /usr/lib/ipxe/undionly.kpxe ] || skip_all "ipxe package not installed"
source "$SRCDIR/tests/pxe/pxe_env.sh"
px_netns || { echo "Bail out! cannot create namespaces"; exit 1; }

db client PC001 52:54:00:00:00:01 >/dev/null
db client PC010 52:54:00:00:00:10 >/dev/null	# px-c0's own MAC
px_conf proxy "tftp = off"
px_start
ok $? "pxed starts in proxy mode"

out=$(px_client -m 52:54:00:00:00:01 --pxe 0)
is "$(px_field type <<<"$out")" OFFER "PXE DISCOVER gets a proxy OFFER"
is "$(px_field yiaddr <<<"$out")" 0.0.0.0 "without an address"
is "$(px_field lease <<<"$out")" "" "and without a lease time"
is "$(px_field file <<<"$out")" undionly.kpxe "with the boot file"
is "$(px_field siaddr <<<"$out")" 10.77.0.1 "and the next server"
is "$(px_field vendor <<<"$out")" PXEClient "option 60 PXEClient, as PXE requires"
is "$(px_field pxe_discovery_control <<<"$out")" 8 "discovery control: boot the named file"
out=$(px_client -m 52:54:00:00:00:01 --ipxe)
is "$(px_field type <<<"$out")" OFFER "iPXE gets a proxy OFFER"
is "$(px_field file <<<"$out")" "" "naming no file, so iPXE asks on port 4011 from its address"

out=$(px_client -m 52:54:00:00:00:01 --timeout 500)
is "$out" none "a plain DHCP client is left to the LAN's server"
out=$(px_client -m 52:54:00:00:00:01 --pxe 0 -t request --req-ip 10.77.0.60 --server-id 10.77.0.254 --timeout 500)
is "$out" none "a REQUEST on port 67 is the DHCP server's business"

# Port 4011: the client has its address from the router now.
ip -n "$NS_C" addr add 10.77.0.60/24 dev px-c0
out=$(px_client -m 52:54:00:00:00:01 --ipxe -t request --ciaddr 10.77.0.60 --unicast --to 10.77.0.1:4011 --sport 4011)
is "$(px_field type <<<"$out")" ACK "REQUEST to port 4011 gets an ACK"
is "$(px_field file <<<"$out")" http://10.77.0.1:8069/ipxe/52-54-00-00-00-01.ipxe "carrying the script's URL"
if command -v curl >/dev/null; then
	ip netns exec "$NS_C" curl -s -m 3 -o "$T/pc010.ipxe" -w '%{http_code}' \
		http://10.77.0.1:8069/ipxe/52-54-00-00-00-10.ipxe >"$T/code"
	is "$(cat "$T/code")" 403 "PC010 has asked nothing on 4011 yet: its script is refused"
	px_client -m 52:54:00:00:00:10 --ipxe -t request --ciaddr 10.77.0.60 --unicast --to 10.77.0.1:4011 --sport 4011 >/dev/null
	ip netns exec "$NS_C" curl -s -m 3 -o "$T/pc010.ipxe" -w '%{http_code}' \
		http://10.77.0.1:8069/ipxe/52-54-00-00-00-10.ipxe >"$T/code"
	is "$(cat "$T/code")" 200 "after its 4011 REQUEST from 10.77.0.60 it gets its script there"
	check "with its CHAP secret" -- grep -qx "set password $(db show PC010 | sed -n 's/^chap_secret=//p')" "$T/pc010.ipxe"
else
	skip "proxy mode: the script over HTTP" "curl not installed"
fi
out=$(px_client -m 52:54:00:00:00:01 --pxe 7 -t request --ciaddr 10.77.0.60 --unicast --to 10.77.0.1:4011 --sport 4011)
is "$(px_field file <<<"$out")" snponly.efi "a UEFI ROM asking on 4011 gets the EFI build"
out=$(px_client -m 52:54:00:00:00:77 --pxe 0 --timeout 500)
is "$out" none "unknown client: silence in proxy mode too"
is "$(px_status leases_bound)" 0 "proxy mode leases nothing"
is "$(px_status mode)" proxy "status says proxy"
done_testing
