#include "standby/ping.h"

#include <arpa/inet.h>
#include <errno.h>
#include <linux/filter.h>
#include <linux/icmp.h>
#include <netinet/ip.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

/* A socket filter (classic BPF, socket(7) SO_ATTACH_FILTER; the packet starts at its IP
 * header) passing only echo replies to id: nothing else, however much of it the LAN sends,
 * reaches the socket's buffer or the records the helper hands up. */
static int only_our_replies(int fd, uint16_t id)
{
	struct sock_filter code[] = {
		BPF_STMT(BPF_LDX | BPF_B | BPF_MSH, 0),			/* x = IP header length */
		BPF_STMT(BPF_LD | BPF_B | BPF_IND, 0),			/* ICMP type */
		BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, ICMP_ECHOREPLY, 0, 3),
		BPF_STMT(BPF_LD | BPF_H | BPF_IND, 4),			/* echo id */
		BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, id, 0, 1),
		BPF_STMT(BPF_RET | BPF_K, 0xffff),
		BPF_STMT(BPF_RET | BPF_K, 0),
	};
	struct sock_fprog prog = { .len = sizeof(code) / sizeof(code[0]), .filter = code };

	return setsockopt(fd, SOL_SOCKET, SO_ATTACH_FILTER, &prog, sizeof(prog)) < 0 ? -errno : 0;
}

int pinger_open(struct pinger *p)
{
	int rc;

	p->fd = socket(AF_INET, SOCK_RAW | SOCK_NONBLOCK | SOCK_CLOEXEC, IPPROTO_ICMP);
	if (p->fd < 0)
		return -errno;
	p->id = (uint16_t)getpid();
	p->seq = 0;
	rc = only_our_replies(p->fd, p->id);
	if (rc)
		pinger_close(p);
	return rc;
}

void pinger_close(struct pinger *p)
{
	if (p->fd >= 0)
		close(p->fd);
	p->fd = -1;
}

static uint16_t csum(const void *data, size_t len)
{
	const uint8_t *b = data;
	uint32_t s = 0;
	size_t i;

	for (i = 0; i + 1 < len; i += 2)
		s += (uint32_t)(b[i] << 8 | b[i + 1]);
	if (len & 1)
		s += (uint32_t)(b[len - 1] << 8);
	while (s >> 16)
		s = (s & 0xffff) + (s >> 16);
	return htons((uint16_t)~s);
}

int pinger_send(struct pinger *p, uint32_t addr)
{
	struct sockaddr_in to = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(addr) };
	struct icmphdr h;

	memset(&h, 0, sizeof(h));
	h.type = ICMP_ECHO;
	h.un.echo.id = htons(p->id);
	h.un.echo.sequence = htons(++p->seq);
	h.checksum = csum(&h, sizeof(h));
	if (sendto(p->fd, &h, sizeof(h), 0, (struct sockaddr *)&to, sizeof(to)) < 0)
		return -errno;
	return 0;
}

int icmp_is_echo_reply(const uint8_t *buf, size_t len, uint16_t id)
{
	struct icmphdr h;
	size_t ihl;

	/* The IP header comes first; check lengths before each pull. */
	if (len < sizeof(struct iphdr) || (buf[0] >> 4) != 4)
		return 0;
	ihl = (size_t)(buf[0] & 0x0f) * 4;
	if (ihl < sizeof(struct iphdr) || ihl > len || len - ihl < sizeof(h))
		return 0;
	memcpy(&h, buf + ihl, sizeof(h));
	return h.type == ICMP_ECHOREPLY && ntohs(h.un.echo.id) == id;
}

int pinger_recv(struct pinger *p, void (*fn)(void *arg, const uint8_t *pkt, size_t len),
		void *arg)
{
	uint8_t buf[256];
	int n = 0;
	ssize_t got;

	while (n < PING_READ_BATCH && (got = recv(p->fd, buf, sizeof(buf), 0)) >= 0) {
		fn(arg, buf, (size_t)got);
		n++;
	}
	if (n < PING_READ_BATCH && errno != EAGAIN && errno != EWOULDBLOCK)
		return -errno;
	return n;
}
