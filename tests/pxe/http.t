#!/bin/bash
# Who gets a client's iPXE script (it holds the client's CHAP secrets): pxed serves it over
# HTTP only to the address its ACK gave that client's MAC, held by that MAC. In namespaces:
# the client PC010 (px-c0, 52:54:00:00:00:10) gets its script from its leased address;
# another host (px-x0, its own MAC) asking for it from its own address gets 403 and nothing,
# and so it does after taking PC010's address; no script reaches the TFTP root, the disk
# or the logs.
source "${SRCDIR:-$(dirname "$0")/../..}/tests/lib/tap.sh"
need_root
for tool in ip busybox tftp curl; do
	command -v $tool >/dev/null || skip_all "$tool not installed"
done
[ -x /usr/sbin/in.tftpd ] || skip_all "in.tftpd (tftpd-hpa) not installed"
[ -f /usr/lib/ipxe/undionly.kpxe ] || skip_all "ipxe package not installed"
source "$SRCDIR/tests/pxe/pxe_env.sh"
px_netns || { echo "Bail out! cannot create namespaces"; exit 1; }

# Another host on the LAN: namespace px-x-ID, MAC 52:54:00:00:00:77.
NS_X=px-x-$PX_ID
ip netns add "$NS_X" && ip -n "$NS_X" link add px-x0 type veth peer name px-x0b netns "$NS_BR" &&
	ip -n "$NS_BR" link set px-x0b master px-br0 up &&
	ip -n "$NS_X" link set px-x0 address 52:54:00:00:00:77 &&
	ip -n "$NS_X" link set px-x0 up && ip -n "$NS_X" link set lo up &&
	ip -n "$NS_X" addr add 10.77.0.140/24 dev px-x0
ok $? "a second host on the LAN" || done_testing
trap 'ip netns del "$NS_X" 2>/dev/null; px_cleanup' EXIT

db client PC001 52:54:00:00:00:01
db client PC010 52:54:00:00:00:10
db set target_iqn iqn.2026-11.lan.vdisk:disk
secret=$(db show PC010 | sed -n 's/^chap_secret=//p')
tsecret=$(db show PC010 | sed -n 's/^chap_target_secret=//p')
ok $([ ${#secret} = 16 ] && [ ${#tsecret} = 16 ]; echo $?) "PC010 has its CHAP secrets in the DB"
# What earlier versions left: scripts in the TFTP root's clients/ folder.
mkdir -p "$T/tftp/clients"
echo '#!ipxe' >"$T/tftp/clients/52-54-00-00-00-01.ipxe"
px_conf dhcp
px_start
ok $? "pxed starts"
check "the old scripts folder of the TFTP root is gone" -- test ! -e "$T/tftp/clients"
is "$(px_status http)" listening "pxed's HTTP server listens"

URL=http://10.77.0.1:8069/ipxe
# get NS PATH [CURL-ARGS]: the body in $T/body, the headers in $T/hdr; status 0 on 200.
# (curl: busybox 1.35's wget crashed with -S here.)
get() {
	local ns=$1 path=$2
	shift 2
	rm -f "$T/body" "$T/hdr"
	ip netns exec "$ns" curl -s -m 3 --path-as-is -D "$T/hdr" -o "$T/body" "$@" "$URL/$path" &&
		[ "$(status_of)" = 200 ]
}
status_of() { sed -n 's/^HTTP\/1.[01] \([0-9]*\).*/\1/p' "$T/hdr" | head -1; }

# PC010 boots as iPXE does: DHCP, then its script from the address it was given.
out=$(px_client -m 52:54:00:00:00:10 --ipxe --dora)
ip_c=$(sed -n '/^type=ACK/,$p' <<<"$out" | px_field yiaddr)
is "$(sed -n '/^type=ACK/,$p' <<<"$out" | px_field file)" "$URL/52-54-00-00-00-10.ipxe" "the ACK names the script's URL"
ip -n "$NS_C" addr add "$ip_c/24" dev px-c0
get "$NS_C" 52-54-00-00-00-10.ipxe
ok $? "PC010 gets its script from its leased address $ip_c"
check "with its own CHAP credentials" -- grep -qx "set password $secret" "$T/body"
check "the target's, for mutual CHAP" -- grep -qx "set reverse-password $tsecret" "$T/body"
check "username is its IQN, reverse-username the target's" -- sh -c "grep -qx 'set username iqn.2026-11.lan.vdisk:pc010' '$T/body' && grep -qx 'set reverse-username iqn.2026-11.lan.vdisk:disk' '$T/body'"
check "then it sanboots" -- grep -q '^sanboot iscsi:10.77.0.1::::iqn.2026-11.lan.vdisk:disk' "$T/body"
check "not cached on the way" -- grep -qi 'Cache-Control: no-store' "$T/hdr"
is "$(px_status http_scripts_served)" 1 "counted as served"

# Another host asks for PC010's script from its own address.
get "$NS_X" 52-54-00-00-00-10.ipxe
ok $((!$?)) "another host asking for PC010's script gets nothing"
is "$(status_of)" 403 "403"
check "and no byte of the script" -- sh -c "! grep -q -e '$secret' -e '$tsecret' -e ipxe '$T/body' 2>/dev/null"
is "$(px_status http_refused_address)" 1 "counted: asked from another address"
get "$NS_X" 52-54-00-00-00-01.ipxe
is "$(status_of)" 403 "PC001's script (no address given to it) is refused too"
get "$NS_C" 52-54-00-00-00-01.ipxe
is "$(status_of)" 403 "and PC010 cannot have PC001's"
is "$(px_status http_refused_no_binding)" 2 "both counted"
db events | grep -q 'iPXE script of 52:54:00:00:00:10 refused to 10.77.0.140'
ok $? "an event tells the admin"

# The other host takes PC010's address (PC010 is off): the kernel's neighbour entry for it
# is the other host's MAC, so the script is still refused.
ip -n "$NS_C" addr flush dev px-c0
ip -n "$NS_S" neigh flush dev px-s0
ip -n "$NS_X" addr flush dev px-x0
ip -n "$NS_X" addr add "$ip_c/24" dev px-x0
get "$NS_X" 52-54-00-00-00-10.ipxe
is "$(status_of)" 403 "another host on PC010's address, with its own MAC: refused"
is "$(px_status http_refused_neighbour)" 1 "counted: the address is held by another MAC"
check "no secret in what it got" -- sh -c "! grep -q '$secret' '$T/body' 2>/dev/null"

# Not a script, not GET.
get "$NS_X" ../../etc/passwd
is "$(status_of)" 404 "a path that is not a script: 404"
get "$NS_X" 52-54-00-00-00-10.ipxe --data x
is "$(status_of)" 405 "POST: 405"

# Nowhere else: not over TFTP, not on disk, not in the log.
(cd "$T" && ip netns exec "$NS_X" tftp 10.77.0.1 -c get clients/52-54-00-00-00-10.ipxe tftp.got 2>/dev/null)
check "TFTP has no script" -- sh -c "! grep -q ipxe '$T/tftp.got' 2>/dev/null"
leaks=$(grep -rl -e "$secret" -e "$tsecret" "$T" --exclude='db' --exclude='db-wal' --exclude='db-shm' --exclude=body 2>/dev/null)
is "$leaks" "" "no file but the DB holds PC010's secrets (TFTP root, state, pxed's log)"
is "$(stat -c %a "$T/db")" 640 "and the DB is not world-readable"
[ "$tap_failed" -gt 0 ] && sed 's/^/# /' "$T/pxed.log"
done_testing
