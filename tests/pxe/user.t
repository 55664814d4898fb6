#!/bin/bash
# pxed with `user` (pxed.conf(5)): once its sockets are open and in.tftpd started, it is no
# longer root but that user, keeping NET_ADMIN and KILL and handing in.tftpd's four as
# ambient capabilities, and it still does its work: DHCP and PXE answers, the leases in a
# state_dir it made and gave to the user, the boot recorded in the database through the
# group, in.tftpd restarted after a kill, serving. Here the user is nobody (group nogroup),
# which shares the test's directory and database as vdisk-pxe shares /var/lib/vdisk through
# the group vdisk on a packaged server.
source "${SRCDIR:-$(dirname "$0")/../..}/tests/lib/tap.sh"
need_root
for tool in ip tftp jq; do
	command -v $tool >/dev/null || skip_all "$tool not installed"
done
[ -x /usr/sbin/in.tftpd ] || skip_all "in.tftpd (tftpd-hpa) not installed"
[ -f /usr/lib/ipxe/undionly.kpxe ] || skip_all "ipxe package not installed"
getent passwd nobody >/dev/null && getent group nogroup >/dev/null || skip_all "no user nobody"
source "$SRCDIR/tests/pxe/pxe_env.sh"
px_netns || { echo "Bail out! cannot create namespaces"; exit 1; }

db client PC010 52:54:00:00:00:10 overlay=persistent >/dev/null
db set target_iqn iqn.2026-11.lan.vdisk:disk
# the directory and the database the group's, as /var/lib/vdisk (2770 root:vdisk)
chgrp nogroup "$T" "$T"/db* && chmod 2775 "$T" && chmod 0660 "$T"/db*
px_conf dhcp "user = nobody"
rmdir "$T/state"
px_start
ok $? "pxed starts with user = nobody"
st() { sed -n "s/^$1:[[:space:]]*//p" "/proc/$PXED_PID/status"; }
is "$(st Uid | awk '{print $1, $2, $3, $4}')" "65534 65534 65534 65534" "pxed runs as nobody"
is "$(st Gid | awk '{print $1}')" "$(getent group nogroup | cut -d: -f3)" "in its group"
# NET_ADMIN (12), KILL (5); ambient for in.tftpd: NET_BIND_SERVICE (10), SETUID (7),
# SETGID (6), SYS_CHROOT (18)
is "$(st CapEff)" 0000000000001020 "it keeps NET_ADMIN and KILL in effect"
is "$(st CapPrm)" 00000000000414e0 "and permits in.tftpd's four, for in.tftpd alone"
is "$(st CapAmb)" 00000000000404c0 "in.tftpd's four capabilities are ambient"
is "$(st CapBnd)" 00000000000414e0 "the bounding set as for root"
is "$(stat -c %U "$T/state")" nobody "pxed gave the state_dir it made to its user"
grep -q "answering on px-s0 as user nobody" "$T/pxed.log"; ok $? "and says so in its log"

out=$(px_client -m 52:54:00:00:00:10 --pxe 0 --dora --xid 0x2001)
is "$(sed -n 's/^type=//p' <<<"$out" | tr '\n' ' ')" "OFFER ACK " "a PXE ROM's DISCOVER, REQUEST: OFFER, ACK"
check "the boot is recorded in the database (last_boot), through the group" -- \
	sh -c "'$BUILD/tests/helpers/pxe_dbseed' '$T/db' show PC010 | grep -q '^last_boot=[1-9]'"
check "the lease is in the leases file" -- wait_until 3000 grep -q '^52:54:00:00:00:10 ' "$T/state/leases"
is "$(stat -c %U "$T/state/leases")" nobody "written as nobody"
ack_ip=$(sed -n '/^type=ACK/,$p' <<<"$out" | px_field yiaddr)
ip -n "$NS_C" addr add "$ack_ip/24" dev px-c0

# in.tftpd, killed, is started again by pxed, no longer root, and serves.
old=$(px_json '.tftpd.pid // empty')
kill -9 "$old"
restarted() { new=$(px_json '.tftpd.pid // empty'); [ -n "$new" ] && [ "$new" != "$old" ]; }
wait_until 10000 restarted; ok $? "in.tftpd restarted by pxed as nobody (pid $old -> ${new:-none})"
(cd "$T" && ip netns exec "$NS_C" tftp 10.77.0.1 -c get undionly.kpxe got.kpxe)
check "the restarted in.tftpd serves" -- cmp "$T/got.kpxe" /usr/lib/ipxe/undionly.kpxe

px_stop
ok $? "pxed stops cleanly (exit 0)"
check "in.tftpd stopped with it" -- sh -c "! pgrep -f '[i]n.tftpd.*$T/tftp' >/dev/null"

# A user that does not exist: refused before anything starts.
px_conf dhcp "user = no-such-user-here"
out=$("$BUILD/pxed" -c "$T/pxed.conf" --check-config 2>&1)
is "$?" 2 "--check-config refuses a user that does not exist (exit 2)"
grep -q "user no-such-user-here: no such user" <<<"$out"; ok $? "and names it: $out"
done_testing
