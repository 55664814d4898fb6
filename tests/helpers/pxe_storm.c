/* Benchmark helper: a boot storm. COUNT PXE ROM clients (MACs 02:00:00:00:HH:LL, numbered
 * from 1 as pxe_dbseed's bulk command makes them) send DISCOVER at once from one socket on
 * port 68, each sends REQUEST as soon as its OFFER arrives, and the time from the first
 * DISCOVER until the last ACK is printed. A client without an answer for a second
 * retransmits, as a ROM does; retransmissions are counted and printed too.
 *   pxe_storm IFACE COUNT [TIMEOUT_MS]
 * Output: clients=N acked=N ms=T retransmits=R; exit 0 only when every client got its ACK. */
#include <arpa/inet.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "pxe/dhcp_pkt.h"

#define STORM_MAX 4096
#define RETRY_MS  1000

enum { WAIT_OFFER, WAIT_ACK, DONE };

struct client {
	int state;
	uint32_t offered, server;
	double sent_ms;
};

static double now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000.0 + ts.tv_nsec / 1e6;
}

static void put32(uint8_t *p, uint32_t v)
{
	v = htonl(v);
	memcpy(p, &v, 4);
}

static size_t build(int i, int type, const struct client *c, uint8_t *p)
{
	static const char vc[] = "PXEClient:Arch:00000:UNDI:002001";
	size_t n = DHCP_MIN_LEN;

	memset(p, 0, DHCP_REPLY_MIN);
	p[0] = BOOTREQUEST;
	p[1] = 1;
	p[2] = 6;
	put32(p + 4, 0x5700000u + (uint32_t)i);
	p[10] = 0x80;
	memcpy(p + DHCP_OFF_CHADDR, "\x02\x00\x00\x00", 4);
	p[DHCP_OFF_CHADDR + 4] = (uint8_t)(i >> 8);
	p[DHCP_OFF_CHADDR + 5] = (uint8_t)i;
	put32(p + DHCP_FIXED_LEN, DHCP_MAGIC);
	p[n++] = OPT_MSG_TYPE; p[n++] = 1; p[n++] = (uint8_t)type;
	p[n++] = OPT_VENDOR_CLASS; p[n++] = sizeof(vc) - 1;
	memcpy(p + n, vc, sizeof(vc) - 1);
	n += sizeof(vc) - 1;
	p[n++] = OPT_CLIENT_ARCH; p[n++] = 2; p[n++] = 0; p[n++] = 0;
	if (type == DHCPREQUEST) {
		p[n++] = OPT_REQ_IP; p[n++] = 4; put32(p + n, c->offered); n += 4;
		p[n++] = OPT_SERVER_ID; p[n++] = 4; put32(p + n, c->server); n += 4;
	}
	p[n++] = OPT_END;
	return n < DHCP_REPLY_MIN ? DHCP_REPLY_MIN : n;
}

int main(int argc, char **argv)
{
	static struct client cl[STORM_MAX + 1];
	struct sockaddr_in me = { .sin_family = AF_INET, .sin_port = htons(68) };
	struct sockaddr_in to = { .sin_family = AF_INET, .sin_port = htons(67) };
	uint8_t pkt[DHCP_MAX_LEN + 1];
	int fd, on = 1, buf = 4 << 20, n, i, acked = 0, retransmits = 0, timeout_ms;
	double t0, t_last = 0;

	if (argc < 3 || (n = atoi(argv[2])) < 1 || n > STORM_MAX) {
		fprintf(stderr, "usage: pxe_storm IFACE COUNT(1..%d) [TIMEOUT_MS]\n", STORM_MAX);
		return 2;
	}
	timeout_ms = argc > 3 ? atoi(argv[3]) : 10000;
	to.sin_addr.s_addr = htonl(INADDR_BROADCAST);
	fd = socket(AF_INET, SOCK_DGRAM, 0);
	if (fd < 0 || setsockopt(fd, SOL_SOCKET, SO_BROADCAST, &on, sizeof(on)) ||
	    setsockopt(fd, SOL_SOCKET, SO_BINDTODEVICE, argv[1], (socklen_t)strlen(argv[1])) ||
	    bind(fd, (struct sockaddr *)&me, sizeof(me))) {
		perror("pxe_storm: socket");
		return 1;
	}
	if (setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &buf, sizeof(buf)))
		setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &buf, sizeof(buf));

	t0 = now_ms();
	for (i = 1; i <= n; i++) {
		size_t len = build(i, DHCPDISCOVER, &cl[i], pkt);

		cl[i].sent_ms = now_ms();
		if (sendto(fd, pkt, len, 0, (struct sockaddr *)&to, sizeof(to)) < 0)
			perror("pxe_storm: sendto");
	}
	while (acked < n && now_ms() - t0 < timeout_ms) {
		struct pollfd pfd = { .fd = fd, .events = POLLIN };
		struct dhcp_msg m;
		ssize_t len;
		double now;

		if (poll(&pfd, 1, 100) > 0) {
			len = recv(fd, pkt, sizeof(pkt), 0);
			if (len <= 0)
				continue;
			pkt[0] = BOOTREQUEST;	/* so the request parser reads the reply */
			if (dhcp_parse(pkt, (size_t)len, &m) != DHCP_OK)
				continue;
			i = (int)(m.xid - 0x5700000u);
			if (i < 1 || i > n)
				continue;
			if (m.type == DHCPOFFER && cl[i].state == WAIT_OFFER) {
				cl[i].offered = m.yiaddr;
				dhcp_opt_u32(&m, OPT_SERVER_ID, &cl[i].server);
				cl[i].state = WAIT_ACK;
				len = (ssize_t)build(i, DHCPREQUEST, &cl[i], pkt);
				cl[i].sent_ms = now_ms();
				sendto(fd, pkt, (size_t)len, 0, (struct sockaddr *)&to, sizeof(to));
			} else if (m.type == DHCPACK && cl[i].state == WAIT_ACK) {
				cl[i].state = DONE;
				acked++;
				t_last = now_ms();
			}
		}
		now = now_ms();
		for (i = 1; i <= n; i++) {
			size_t l;

			if (cl[i].state == DONE || now - cl[i].sent_ms < RETRY_MS)
				continue;
			l = build(i, cl[i].state == WAIT_OFFER ? DHCPDISCOVER : DHCPREQUEST, &cl[i], pkt);
			cl[i].sent_ms = now;
			retransmits++;
			sendto(fd, pkt, l, 0, (struct sockaddr *)&to, sizeof(to));
		}
	}
	printf("clients=%d acked=%d ms=%.1f retransmits=%d\n", n, acked,
	       acked ? t_last - t0 : 0.0, retransmits);
	close(fd);
	return acked == n ? 0 : 1;
}
