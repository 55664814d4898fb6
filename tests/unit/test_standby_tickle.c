/* Tickle ACKs: the connection list (sorting, wire round trip, must-fail payloads), the
 * sock_diag decoder on hand-made netlink buffers (well-formed, truncated, overlong, errors,
 * records to skip), a live collection of loopback connections (IPv4 and IPv4-mapped), and
 * the tickle packet itself: fields, and both checksums verified here independently and
 * against a vector computed outside this code. */
#include <arpa/inet.h>
#include <errno.h>
#include <linux/inet_diag.h>
#include <linux/netlink.h>
#include <linux/sock_diag.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "standby/connlist.h"
#include "standby/tcpack.h"
#include "standby/tcpdiag.h"
#include "tests/lib/tap.h"

#define VIP	0x0a4d0064u	/* 10.77.0.100 */
#define VIP2	0x0a4d0065u
#define CLIENT	0x0a4d000au	/* 10.77.0.10 */

static const uint32_t ours[] = { VIP, VIP2 };
static struct conn_list l, l2;

static struct tcp_conn conn(uint32_t la, uint16_t lp, uint32_t ra, uint16_t rp)
{
	struct tcp_conn c = { .laddr = la, .raddr = ra, .lport = lp, .rport = rp };

	return c;
}

static void test_list(void)
{
	uint8_t buf[CONN_LIST_MAX_BYTES + CONN_WIRE_LEN], t[64];
	struct tcp_conn c;
	size_t n;
	unsigned i;

	memset(&l, 0, sizeof(l));
	c = conn(VIP2, 3260, CLIENT, 1000);
	conn_list_add(&l, &c);
	c = conn(VIP, 3260, CLIENT + 1, 1000);
	conn_list_add(&l, &c);
	c = conn(VIP, 3260, CLIENT, 2000);
	conn_list_add(&l, &c);
	conn_list_add(&l, &c);
	conn_list_finish(&l);
	is_int(l.n, 3, "duplicates removed");
	ok(l.c[0].laddr == VIP && l.c[0].raddr == CLIENT && l.c[1].raddr == CLIENT + 1 &&
	   l.c[2].laddr == VIP2, "sorted by local address, port, remote address, port");
	n = conn_list_encode(&l, buf);
	is_int((int)n, 3 * CONN_WIRE_LEN, "encoded length");
	ok(buf[0] == 10 && buf[1] == 77 && buf[3] == 100 && buf[4] == 0x0c && buf[5] == 0xbc &&
	   buf[9] == 10 && buf[10] == 0x07 && buf[11] == 0xd0, "network byte order");
	is_int(conn_list_decode(&l2, buf, n, ours, 2), 0, "decodes");
	ok(conn_list_equal(&l, &l2), "round trip");
	is_int(conn_list_decode(&l2, buf, 0, ours, 2), 0, "an empty list is a list");
	is_int(l2.n, 0, "of nothing");
	ok(!conn_list_equal(&l, &l2), "and differs from a full one");

	/* must fail: each leaves an empty list */
	is_int(conn_list_decode(&l2, buf, n - 1, ours, 2), -EBADMSG, "not a whole entry");
	is_int(l2.n, 0, "nothing kept from a refused list");
	is_int(conn_list_decode(&l2, buf, 5, ours, 2), -EBADMSG, "shorter than one entry");
	is_int(conn_list_decode(&l2, buf, n, ours, 1), -EBADMSG,
	       "a local address that is not one of ours");
	is_int(conn_list_decode(&l2, buf, n, ours, 0), -EBADMSG, "no addresses of ours at all");
	memcpy(t, buf, n);
	memcpy(t + CONN_WIRE_LEN, buf, CONN_WIRE_LEN);
	is_int(conn_list_decode(&l2, t, n, ours, 2), -EBADMSG, "a duplicate entry");
	memcpy(t, buf + CONN_WIRE_LEN, CONN_WIRE_LEN);
	memcpy(t + CONN_WIRE_LEN, buf, CONN_WIRE_LEN);
	is_int(conn_list_decode(&l2, t, 2 * CONN_WIRE_LEN, ours, 2), -EBADMSG, "out of order");
	for (i = 0; i < 4; i++) {
		static const unsigned off[] = { 0, 4, 6, 10 }, len[] = { 4, 2, 4, 2 };
		static const char *what[] = { "local address", "local port", "remote address",
					      "remote port" };

		memcpy(t, buf, CONN_WIRE_LEN);
		memset(t + off[i], 0, len[i]);
		is_int(conn_list_decode(&l2, t, CONN_WIRE_LEN, ours, 2), -EBADMSG, "zero %s",
		       what[i]);
	}
	/* the cap: CONN_LIST_MAX entries pass, one more does not */
	memset(&l, 0, sizeof(l));
	for (i = 0; i < CONN_LIST_MAX + 5; i++) {
		c = conn(VIP, 3260, CLIENT + (i >> 16), (uint16_t)(1 + (i & 0xffff)));
		conn_list_add(&l, &c);
	}
	is_int(l.n, CONN_LIST_MAX, "a full list holds CONN_LIST_MAX");
	is_int(l.dropped, 5, "and counts what it left out");
	conn_list_finish(&l);
	n = conn_list_encode(&l, buf);
	is_int(conn_list_decode(&l2, buf, n, ours, 2), 0, "a list at the cap decodes");
	memcpy(buf + n, buf + n - CONN_WIRE_LEN, CONN_WIRE_LEN);
	buf[n + 11]++;
	is_int(conn_list_decode(&l2, buf, n + CONN_WIRE_LEN, ours, 2), -EBADMSG,
	       "one entry over the cap refused");
}

/* ---- sock_diag ---- */

static uint8_t nl[4096];
static size_t nl_len;

static void nl_put(uint16_t type, uint32_t seq, const void *body, size_t blen)
{
	struct nlmsghdr h = { .nlmsg_len = (uint32_t)(NLMSG_HDRLEN + blen), .nlmsg_type = type,
			      .nlmsg_seq = seq };

	memcpy(nl + nl_len, &h, sizeof(h));
	memcpy(nl + nl_len + NLMSG_HDRLEN, body, blen);
	nl_len += NLMSG_ALIGN(h.nlmsg_len);
}

static struct inet_diag_msg rec(uint8_t family, uint8_t state, uint32_t la, uint16_t lp,
				uint32_t ra, uint16_t rp)
{
	struct inet_diag_msg m;

	memset(&m, 0, sizeof(m));
	m.idiag_family = family;
	m.idiag_state = state;
	m.id.idiag_sport = htons(lp);
	m.id.idiag_dport = htons(rp);
	if (family == AF_INET) {
		m.id.idiag_src[0] = htonl(la);
		m.id.idiag_dst[0] = htonl(ra);
	} else {
		m.id.idiag_src[2] = m.id.idiag_dst[2] = htonl(0xffff);
		m.id.idiag_src[3] = htonl(la);
		m.id.idiag_dst[3] = htonl(ra);
	}
	return m;
}

static int decode_nl(void)
{
	memset(&l, 0, sizeof(l));
	return tcpdiag_decode(nl, nl_len, 7, ours, 2, &l);
}

static void test_diag(void)
{
	struct inet_diag_msg m;
	struct nlmsghdr h;
	int done = 0, err;

	nl_len = 0;
	m = rec(AF_INET, TCP_ESTABLISHED, VIP, 3260, CLIENT, 40000);
	nl_put(SOCK_DIAG_BY_FAMILY, 7, &m, sizeof(m));
	m = rec(AF_INET, TCP_ESTABLISHED, 0x0a4e0001, 694, 0x0a4e0002, 50000);
	nl_put(SOCK_DIAG_BY_FAMILY, 7, &m, sizeof(m));		/* HA link: not ours */
	m = rec(AF_INET, TCP_CLOSE_WAIT, VIP, 3260, CLIENT, 40001);
	nl_put(SOCK_DIAG_BY_FAMILY, 7, &m, sizeof(m));		/* not established */
	m = rec(AF_INET6, TCP_ESTABLISHED, VIP2, 3260, CLIENT, 40002);
	nl_put(SOCK_DIAG_BY_FAMILY, 7, &m, sizeof(m));		/* IPv4-mapped: ours */
	m = rec(AF_INET6, TCP_ESTABLISHED, VIP, 3260, CLIENT, 40003);
	m.id.idiag_src[2] = 0;
	nl_put(SOCK_DIAG_BY_FAMILY, 7, &m, sizeof(m));		/* true IPv6: skipped */
	m = rec(AF_INET, TCP_ESTABLISHED, VIP, 3260, CLIENT, 40004);
	nl_put(SOCK_DIAG_BY_FAMILY, 6, &m, sizeof(m));		/* another request's */
	nl_put(NLMSG_NOOP, 7, &m, 4);				/* unknown type: skipped */
	is_int(decode_nl(), 0, "a buffer of records: more to come");
	is_int(l.n, 2, "two of the seven taken");
	ok(l.n == 2 && l.c[0].laddr == VIP && l.c[0].lport == 3260 && l.c[0].raddr == CLIENT &&
	   l.c[0].rport == 40000 && l.c[1].laddr == VIP2 && l.c[1].rport == 40002,
	   "the established IPv4 one and the IPv4-mapped one");
	nl_put(NLMSG_DONE, 7, &done, sizeof(done));
	is_int(decode_nl(), 1, "NLMSG_DONE ends the dump");
	is_int(l.n, 2, "with the same two");
	nl_len = 0;
	is_int(decode_nl(), 0, "an empty buffer is no error");

	/* kernel errors */
	nl_len = 0;
	err = -EPERM;
	nl_put(NLMSG_ERROR, 7, &err, sizeof(err));
	is_int(decode_nl(), -EPERM, "NLMSG_ERROR's errno passed up");
	nl_len = 0;
	err = 0;
	nl_put(NLMSG_ERROR, 7, &err, sizeof(err));
	is_int(decode_nl(), -EPROTO, "an acknowledgement where a dump was due");
	nl_len = 0;
	err = 100000;
	nl_put(NLMSG_ERROR, 7, &err, sizeof(err));
	is_int(decode_nl(), -EPROTO, "a positive error number");
	nl_len = 0;
	nl_put(NLMSG_ERROR, 7, &err, 2);
	is_int(decode_nl(), -EBADMSG, "NLMSG_ERROR too short for its errno");

	/* malformed */
	nl_len = 0;
	m = rec(AF_INET, TCP_ESTABLISHED, VIP, 3260, CLIENT, 40000);
	nl_put(SOCK_DIAG_BY_FAMILY, 7, &m, sizeof(m) - 1);
	is_int(decode_nl(), -EBADMSG, "a record one byte short");
	nl_len = 0;
	nl_put(SOCK_DIAG_BY_FAMILY, 7, &m, sizeof(m));
	is_int(tcpdiag_decode(nl, nl_len - 1, 7, ours, 2, &l), -EBADMSG,
	       "a buffer cut inside the record");
	is_int(tcpdiag_decode(nl, 10, 7, ours, 2, &l), -EBADMSG, "a buffer cut inside the header");
	memset(&h, 0, sizeof(h));
	h.nlmsg_len = 8;
	h.nlmsg_seq = 7;
	nl_len = 0;
	memcpy(nl, &h, sizeof(h));
	is_int(tcpdiag_decode(nl, sizeof(h), 7, ours, 2, &l), -EBADMSG,
	       "nlmsg_len shorter than its header");
	h.nlmsg_len = 0;
	memcpy(nl, &h, sizeof(h));
	is_int(tcpdiag_decode(nl, sizeof(h), 7, ours, 2, &l), -EBADMSG, "nlmsg_len 0");
	h.nlmsg_len = 0xffffffffu;
	memcpy(nl, &h, sizeof(h));
	is_int(tcpdiag_decode(nl, sizeof(h), 7, ours, 2, &l), -EBADMSG,
	       "nlmsg_len past the buffer");
	nl_len = 0;
	nl_put(SOCK_DIAG_BY_FAMILY, 7, &m, sizeof(m));
	memset(nl + nl_len, 0xab, 9);
	is_int(tcpdiag_decode(nl, nl_len + 9, 7, ours, 2, &l), -EBADMSG,
	       "trailing bytes shorter than a header");
	/* The last message may lack its alignment padding (the buffer ends exactly). */
	nl_len = 0;
	nl_put(NLMSG_NOOP, 7, &m, 3);
	is_int(tcpdiag_decode(nl, NLMSG_HDRLEN + 3, 7, ours, 2, &l), 0,
	       "an unpadded last message");
}

/* The kernel's own dump of loopback connections: one through AF_INET sockets, one to a
 * listener on [::] (IPv4-mapped on the server side). Both ends of each are local. */
static void test_collect(void)
{
	struct sockaddr_in sa = { .sin_family = AF_INET, .sin_port = htons(47401),
				  .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	struct sockaddr_in6 sa6 = { .sin6_family = AF_INET6, .sin6_port = htons(47402),
				    .sin6_addr = IN6ADDR_ANY_INIT };
	uint32_t lo = INADDR_LOOPBACK, other = VIP;
	int l4, l6, c4, c6, a4, a6, one = 1, zero = 0, rc;
	unsigned i, to4 = 0, to6 = 0;

	l4 = socket(AF_INET, SOCK_STREAM, 0);
	l6 = socket(AF_INET6, SOCK_STREAM, 0);
	setsockopt(l4, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	setsockopt(l6, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	setsockopt(l6, IPPROTO_IPV6, IPV6_V6ONLY, &zero, sizeof(zero));
	if (bind(l4, (struct sockaddr *)&sa, sizeof(sa)) || listen(l4, 1) ||
	    bind(l6, (struct sockaddr *)&sa6, sizeof(sa6)) || listen(l6, 1)) {
		ok(0, "loopback listeners on 47401 and [::]:47402");
		return;
	}
	c4 = socket(AF_INET, SOCK_STREAM, 0);
	c6 = socket(AF_INET, SOCK_STREAM, 0);
	connect(c4, (struct sockaddr *)&sa, sizeof(sa));
	sa.sin_port = htons(47402);
	connect(c6, (struct sockaddr *)&sa, sizeof(sa));
	a4 = accept(l4, NULL, NULL);
	a6 = accept(l6, NULL, NULL);
	memset(&l, 0, sizeof(l));
	rc = tcpdiag_collect(&lo, 1, &l);
	is_int(rc, 0, "collected from the kernel");
	for (i = 0; i < l.n; i++) {
		to4 += l.c[i].lport == 47401 && l.c[i].laddr == lo && l.c[i].raddr == lo;
		to6 += l.c[i].lport == 47402 && l.c[i].laddr == lo && l.c[i].raddr == lo;
	}
	is_int(to4, 1, "the server end of the IPv4 connection");
	is_int(to6, 1, "the server end of the connection to [::] (IPv4-mapped)");
	ok(l.n >= 4, "and the client ends (%u connections)", l.n);
	is_int(tcpdiag_collect(&other, 1, &l), 0, "collected for another address");
	for (i = to4 = 0; i < l.n; i++)
		to4 += l.c[i].lport == 47401 || l.c[i].lport == 47402;
	is_int(to4, 0, "none of them: not that address");
	close(a4);
	close(a6);
	close(c4);
	close(c6);
	close(l4);
	close(l6);
}

/* ---- the packet ---- */

/* The Internet checksum, written out separately from tcpack.c's. */
static unsigned ref_sum(const uint8_t *p, size_t n)
{
	unsigned long s = 0;
	size_t i;

	for (i = 0; i < n; i += 2)
		s += (unsigned long)(p[i] * 256 + (i + 1 < n ? p[i + 1] : 0));
	while (s > 0xffff)
		s = (s & 0xffff) + (s >> 16);
	return (unsigned)s;
}

static void test_packet(void)
{
	struct tcp_conn c = conn(VIP, 3260, CLIENT, 40000);
	uint8_t p[TCPACK_LEN], pseudo[12 + 20];
	static const uint8_t odd[3] = { 0x01, 0x02, 0x03 };

	tcpack_build(p, &c);
	ok(p[0] == 0x45 && p[2] == 0 && p[3] == 40 && p[8] == 64 && p[9] == IPPROTO_TCP,
	   "IPv4, 20-byte header, total 40, TTL 64, TCP");
	ok(memcmp(p + 12, "\x0a\x4d\x00\x64\x0a\x4d\x00\x0a", 8) == 0,
	   "from the service address to the client");
	is_int(ref_sum(p, 20), 0xffff, "IP header checksum verifies");
	is_int(p[10] << 8 | p[11], 0x25c9, "IP checksum as computed outside (python)");
	ok(p[20] == 0x0c && p[21] == 0xbc && p[22] == 0x9c && p[23] == 0x40,
	   "ports 3260 -> 40000");
	ok(memcmp(p + 24, "\0\0\0\0\0\0\0\0", 8) == 0, "sequence and acknowledgement 0");
	is_int(p[32], 0x50, "data offset 5 words");
	is_int(p[33], 0x10, "ACK only");
	memcpy(pseudo, p + 12, 8);
	pseudo[8] = 0;
	pseudo[9] = IPPROTO_TCP;
	pseudo[10] = 0;
	pseudo[11] = 20;
	memcpy(pseudo + 12, p + 20, 20);
	is_int(ref_sum(pseudo, sizeof(pseudo)), 0xffff, "TCP checksum verifies (pseudo-header)");
	is_int(p[36] << 8 | p[37], 0xedd0, "TCP checksum as computed outside (python)");
	/* another tuple: the checksum follows the fields */
	c = conn(VIP2, 65535, 0xfffffffe, 1);
	tcpack_build(p, &c);
	is_int(ref_sum(p, 20), 0xffff, "IP checksum verifies for another tuple");
	memcpy(pseudo, p + 12, 8);
	memcpy(pseudo + 12, p + 20, 20);
	is_int(ref_sum(pseudo, sizeof(pseudo)), 0xffff, "so does the TCP checksum");
	is_int(tcpack_csum(odd, 3, 0), (uint16_t)~0x0402, "odd length padded with a zero byte");
}

int main(void)
{
	test_list();
	test_diag();
	test_collect();
	test_packet();
	return done_testing();
}
