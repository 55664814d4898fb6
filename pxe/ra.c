#include "pxe/ra.h"

#include <arpa/inet.h>
#include <errno.h>
#include <net/if.h>
#include <netinet/icmp6.h>
#include <netinet/in.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "common/log.h"

static void send_ra(struct ra_sender *ra)
{
	struct sockaddr_in6 to = { .sin6_family = AF_INET6, .sin6_scope_id = (uint32_t)ra->ifindex };
	struct nd_router_advert adv;

	/* All zero but the type: no hop limit advice, no flags, lifetime 0 (not a default
	 * router), no reachable/retransmit advice, no options. The kernel fills the checksum. */
	memset(&adv, 0, sizeof(adv));
	adv.nd_ra_type = ND_ROUTER_ADVERT;
	inet_pton(AF_INET6, "ff02::1", &to.sin6_addr);
	if (sendto(ra->io.fd, &adv, sizeof(adv), 0, (struct sockaddr *)&to, sizeof(to)) < 0) {
		log_debug("ra: send: %s", strerror(errno));
		return;
	}
	ra->sent++;
	ra->last_ms = ev_now_ms();
}

static void delayed(struct ev_timer *t)
{
	send_ra(t->arg);
}

static void readable(struct ev_io *io, uint32_t events)
{
	struct ra_sender *ra = io->arg;
	uint8_t buf[512];
	uint64_t now, since;
	ssize_t n;

	(void)events;
	n = recv(io->fd, buf, sizeof(buf), MSG_DONTWAIT);
	/* The socket filter passes only solicitations; their content does not matter. */
	if (n < (ssize_t)sizeof(struct nd_router_solicit) || buf[0] != ND_ROUTER_SOLICIT)
		return;
	ra->solicitations++;
	now = ev_now_ms();
	since = now - ra->last_ms;
	if (!ra->last_ms || since >= RA_MIN_INTERVAL_MS)
		send_ra(ra);
	else if (!ev_timer_armed(&ra->delay))
		ev_timer_arm(ra->loop, &ra->delay, RA_MIN_INTERVAL_MS - since);
}

int ra_open(struct ra_sender *ra, struct evloop *loop, const char *ifname)
{
	struct icmp6_filter filter;
	struct ipv6_mreq mreq;
	int fd, hops = 255, rc;

	memset(ra, 0, sizeof(*ra));
	ra->loop = loop;
	ra->io.fd = -1;
	ev_timer_init(&ra->delay, delayed, ra);
	ra->ifindex = (int)if_nametoindex(ifname);
	if (!ra->ifindex)
		return -ENODEV;
	fd = socket(AF_INET6, SOCK_RAW | SOCK_NONBLOCK | SOCK_CLOEXEC, IPPROTO_ICMPV6);
	if (fd < 0)
		return -errno;
	ICMP6_FILTER_SETBLOCKALL(&filter);
	ICMP6_FILTER_SETPASS(ND_ROUTER_SOLICIT, &filter);
	memset(&mreq, 0, sizeof(mreq));
	inet_pton(AF_INET6, "ff02::2", &mreq.ipv6mr_multiaddr);
	mreq.ipv6mr_interface = (unsigned)ra->ifindex;
	/* RFC 4861 6.1.2: hosts drop neighbour discovery packets with a hop limit below 255. */
	if (setsockopt(fd, IPPROTO_ICMPV6, ICMP6_FILTER, &filter, sizeof(filter)) ||
	    setsockopt(fd, SOL_SOCKET, SO_BINDTODEVICE, ifname, (socklen_t)strlen(ifname)) ||
	    setsockopt(fd, IPPROTO_IPV6, IPV6_MULTICAST_HOPS, &hops, sizeof(hops)) ||
	    setsockopt(fd, IPPROTO_IPV6, IPV6_UNICAST_HOPS, &hops, sizeof(hops)) ||
	    setsockopt(fd, IPPROTO_IPV6, IPV6_MULTICAST_IF, &ra->ifindex, sizeof(ra->ifindex)) ||
	    setsockopt(fd, IPPROTO_IPV6, IPV6_ADD_MEMBERSHIP, &mreq, sizeof(mreq)))
		goto out_errno;
	rc = ev_io_add(loop, &ra->io, fd, EPOLLIN, readable, ra);
	if (rc) {
		close(fd);
		ra->io.fd = -1;
		return rc;
	}
	return 0;

out_errno:
	rc = -errno;
	close(fd);
	return rc;
}

void ra_close(struct ra_sender *ra)
{
	if (ra->io.fd < 0)
		return;
	ev_timer_cancel(ra->loop, &ra->delay);
	ev_io_del(ra->loop, &ra->io);
	close(ra->io.fd);
	ra->io.fd = -1;
}
