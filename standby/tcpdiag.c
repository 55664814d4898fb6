#include "standby/tcpdiag.h"

#include <arpa/inet.h>
#include <errno.h>
#include <linux/inet_diag.h>
#include <linux/netlink.h>
#include <linux/sock_diag.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

/* The kernel sizes a dump's buffers from what recv asked for, capped at 32 KiB. */
#define DIAG_BUF_LEN	32768
/* The dump is produced while we wait; this only keeps a kernel that never answers from
 * holding up the heartbeats. */
#define DIAG_WAIT_MS	200

static int addr_wanted(uint32_t a, const uint32_t *addrs, unsigned naddrs)
{
	unsigned i;

	for (i = 0; i < naddrs; i++)
		if (addrs[i] == a)
			return 1;
	return 0;
}

/* The IPv4 address in an inet_diag address (network order words), or 0 when it is neither
 * AF_INET nor an IPv4-mapped IPv6 address (::ffff:a.b.c.d). */
static uint32_t v4_of(uint8_t family, const uint32_t w[4])
{
	if (family == AF_INET)
		return ntohl(w[0]);
	if (family == AF_INET6 && !w[0] && !w[1] && w[2] == htonl(0xffff))
		return ntohl(w[3]);
	return 0;
}

static void take(const uint8_t *body, const uint32_t *addrs, unsigned naddrs,
		 struct conn_list *l)
{
	struct inet_diag_msg m;
	struct tcp_conn c;

	memcpy(&m, body, sizeof(m));
	if (m.idiag_state != TCP_ESTABLISHED)
		return;
	c.laddr = v4_of(m.idiag_family, m.id.idiag_src);
	c.raddr = v4_of(m.idiag_family, m.id.idiag_dst);
	c.lport = ntohs(m.id.idiag_sport);
	c.rport = ntohs(m.id.idiag_dport);
	if (!c.laddr || !c.raddr || !c.lport || !c.rport || !addr_wanted(c.laddr, addrs, naddrs))
		return;
	conn_list_add(l, &c);
}

int tcpdiag_decode(const uint8_t *buf, size_t len, uint32_t seq, const uint32_t *addrs,
		   unsigned naddrs, struct conn_list *l)
{
	size_t off = 0;

	while (len - off >= sizeof(struct nlmsghdr)) {
		struct nlmsghdr h;
		const uint8_t *body;
		size_t blen, step;
		int err;

		memcpy(&h, buf + off, sizeof(h));
		if (h.nlmsg_len < NLMSG_HDRLEN || h.nlmsg_len > len - off)
			return -EBADMSG;
		body = buf + off + NLMSG_HDRLEN;
		blen = h.nlmsg_len - NLMSG_HDRLEN;
		step = NLMSG_ALIGN(h.nlmsg_len);
		off = step > len - off ? len : off + step;
		if (h.nlmsg_seq != seq)
			continue;
		switch (h.nlmsg_type) {
		case NLMSG_DONE:
			return 1;
		case NLMSG_ERROR:
			if (blen < sizeof(int))
				return -EBADMSG;
			memcpy(&err, body, sizeof(err));
			/* 0 would be an acknowledgement, which a dump never ends with. */
			return err < 0 && err > -4096 ? err : -EPROTO;
		case SOCK_DIAG_BY_FAMILY:
			if (blen < sizeof(struct inet_diag_msg))
				return -EBADMSG;
			take(body, addrs, naddrs, l);
			break;
		default:
			break;
		}
	}
	return off == len ? 0 : -EBADMSG;
}

/* One dump for one family into l. */
static int dump_family(int fd, uint8_t family, uint32_t seq, const uint32_t *addrs,
		       unsigned naddrs, struct conn_list *l)
{
	struct {
		struct nlmsghdr h;
		struct inet_diag_req_v2 r;
	} req;
	struct sockaddr_nl kernel = { .nl_family = AF_NETLINK };
	uint8_t buf[DIAG_BUF_LEN] __attribute__((aligned(8)));
	int rc;

	memset(&req, 0, sizeof(req));
	req.h.nlmsg_len = sizeof(req);
	req.h.nlmsg_type = SOCK_DIAG_BY_FAMILY;
	req.h.nlmsg_flags = NLM_F_REQUEST | NLM_F_DUMP;
	req.h.nlmsg_seq = seq;
	req.r.sdiag_family = family;
	req.r.sdiag_protocol = IPPROTO_TCP;
	req.r.idiag_states = 1u << TCP_ESTABLISHED;
	if (sendto(fd, &req, sizeof(req), 0, (struct sockaddr *)&kernel, sizeof(kernel)) < 0)
		return -errno;
	do {
		ssize_t n = recv(fd, buf, sizeof(buf), MSG_TRUNC);

		if (n < 0)
			return errno == EAGAIN ? -ETIMEDOUT : -errno;
		if ((size_t)n > sizeof(buf))
			return -EMSGSIZE;
		rc = tcpdiag_decode(buf, (size_t)n, seq, addrs, naddrs, l);
	} while (rc == 0);
	return rc < 0 ? rc : 0;
}

int tcpdiag_collect(const uint32_t *addrs, unsigned naddrs, struct conn_list *l)
{
	struct timeval tv = { .tv_sec = 0, .tv_usec = DIAG_WAIT_MS * 1000 };
	int fd, rc;

	l->n = 0;
	l->dropped = 0;
	fd = socket(AF_NETLINK, SOCK_DGRAM | SOCK_CLOEXEC, NETLINK_SOCK_DIAG);
	if (fd < 0)
		return -errno;
	if (setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv)) < 0) {
		rc = -errno;
		goto out_close;
	}
	/* A service listening on [::] holds its IPv4 clients as IPv4-mapped AF_INET6 sockets. */
	rc = dump_family(fd, AF_INET, 1, addrs, naddrs, l);
	if (!rc)
		rc = dump_family(fd, AF_INET6, 2, addrs, naddrs, l);
out_close:
	close(fd);
	return rc;
}
