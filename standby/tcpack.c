#include "standby/tcpack.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <string.h>
#include <sys/socket.h>

#define IP_HDR_LEN	20
#define TCP_HDR_LEN	20
#define TCP_FLAG_ACK	0x10
/* Any non-zero window: the segment is dropped as out of window before anyone reads it. */
#define TICKLE_WINDOW	1024

static void put16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

static void put32(uint8_t *p, uint32_t v)
{
	put16(p, (uint16_t)(v >> 16));
	put16(p + 2, (uint16_t)v);
}

/* Adds buf's 16-bit big-endian words to sum, unfolded (our buffers are tiny). */
static uint32_t sum16(const uint8_t *buf, size_t len, uint32_t sum)
{
	size_t i;

	for (i = 0; i + 1 < len; i += 2)
		sum += (uint32_t)buf[i] << 8 | buf[i + 1];
	if (len & 1)
		sum += (uint32_t)buf[len - 1] << 8;
	return sum;
}

uint16_t tcpack_csum(const uint8_t *buf, size_t len, uint32_t sum)
{
	sum = sum16(buf, len, sum);
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	return (uint16_t)~sum;
}

void tcpack_build(uint8_t *out, const struct tcp_conn *c)
{
	uint8_t *ip = out, *tcp = out + IP_HDR_LEN;
	uint8_t pseudo[12];

	memset(out, 0, TCPACK_LEN);
	ip[0] = 0x45;			/* IPv4, 5 words of header */
	put16(ip + 2, TCPACK_LEN);
	ip[6] = 0x40;			/* don't fragment */
	ip[8] = 64;			/* TTL */
	ip[9] = IPPROTO_TCP;
	put32(ip + 12, c->laddr);
	put32(ip + 16, c->raddr);
	put16(ip + 10, tcpack_csum(ip, IP_HDR_LEN, 0));

	put16(tcp, c->lport);
	put16(tcp + 2, c->rport);
	/* sequence and acknowledgement numbers stay 0: outside any window the client holds */
	tcp[12] = (TCP_HDR_LEN / 4) << 4;
	tcp[13] = TCP_FLAG_ACK;
	put16(tcp + 14, TICKLE_WINDOW);
	memcpy(pseudo, ip + 12, 8);
	pseudo[8] = 0;
	pseudo[9] = IPPROTO_TCP;
	put16(pseudo + 10, TCP_HDR_LEN);
	put16(tcp + 16, tcpack_csum(tcp, TCP_HDR_LEN, sum16(pseudo, sizeof(pseudo), 0)));
}

int tcpack_open(void)
{
	int fd = socket(AF_INET, SOCK_RAW | SOCK_CLOEXEC | SOCK_NONBLOCK, IPPROTO_RAW);

	return fd < 0 ? -errno : fd;
}

int tcpack_send(int fd, const struct tcp_conn *c)
{
	uint8_t pkt[TCPACK_LEN];
	struct sockaddr_in dst = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(c->raddr) };
	ssize_t n;

	tcpack_build(pkt, c);
	n = sendto(fd, pkt, sizeof(pkt), 0, (struct sockaddr *)&dst, sizeof(dst));
	if (n < 0)
		return -errno;
	return n == TCPACK_LEN ? 0 : -EIO;
}
