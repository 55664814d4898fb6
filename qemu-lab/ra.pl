#!/usr/bin/perl
# ra.pl IFACE: answers every IPv6 router solicitation on IFACE with one minimal router
# advertisement (no prefix, no default route, no DHCPv6 flags). Debian 12's iPXE otherwise
# waits about 13 s for IPv6 autoconfiguration before its DHCP result counts; an advertisement
# without the managed or other-config flag tells it there is nothing more to configure.
# A stand-in until pxed does this on the client LAN. Runs until killed.
use strict;
use warnings;
use Socket qw(:all);

my $ifname = shift or die "usage: ra.pl IFACE\n";
my $ifindex = (split ' ', `cat /sys/class/net/$ifname/ifindex 2>/dev/null`)[0]
	or die "ra.pl: no interface $ifname\n";
socket(my $s, AF_INET6, SOCK_RAW, IPPROTO_ICMPV6) or die "ra.pl: raw socket: $!\n";
# RFC 4861: receivers drop neighbour discovery packets whose hop limit is not 255.
setsockopt($s, IPPROTO_IPV6, IPV6_MULTICAST_HOPS, pack('i', 255)) or die "ra.pl: hops: $!\n";
setsockopt($s, IPPROTO_IPV6, IPV6_MULTICAST_IF, pack('i', $ifindex)) or die "ra.pl: if: $!\n";
# Solicitations go to all-routers, a group a host that does not forward has not joined.
setsockopt($s, IPPROTO_IPV6, IPV6_JOIN_GROUP,
	   pack_ipv6_mreq(inet_pton(AF_INET6, 'ff02::2'), $ifindex)) or die "ra.pl: join: $!\n";

# type 134, code 0, checksum (the kernel fills it in for ICMPv6 raw sockets), cur hop limit,
# flags, router lifetime 0, reachable time 0, retransmit timer 0.
my $ra = pack('CCnCCnNN', 134, 0, 0, 64, 0, 0, 0, 0);
my $all_nodes = pack_sockaddr_in6(0, inet_pton(AF_INET6, 'ff02::1'), 0, $ifindex);
$| = 1;
while (1) {
	my $from = recv($s, my $msg, 1500, 0);
	next unless defined $from && length($msg) >= 1;
	next unless unpack('C', $msg) == 133;	# router solicitation
	send($s, $ra, 0, $all_nodes) or warn "ra.pl: send: $!\n";
	print "ra.pl: answered a router solicitation\n";
}
