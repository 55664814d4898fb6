/* Heartbeat links: one UDP socket per configured link, bound to its interface so a packet
 * tells which link carried it, all on udpport. */
#include <arpa/inet.h>
#include <errno.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "standby/daemon.h"
#include "standby/ipaddr.h"

static void link_rx(struct ev_io *io, uint32_t events);

static int link_open(struct standbyd *d, struct sb_link *l)
{
	struct sockaddr_in any = { .sin_family = AF_INET, .sin_port = htons(d->cfg.cf.udpport) };
	int one = 1, prio = 6, tos = 0xc0, fd, rc;
	unsigned ifindex = if_nametoindex(l->cfg.ifname);

	if (!ifindex)
		return -ENODEV;
	fd = socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	/* Heartbeats go ahead of bulk traffic (the replication on a shared LAN). */
	setsockopt(fd, SOL_SOCKET, SO_PRIORITY, &prio, sizeof(prio));
	setsockopt(fd, IPPROTO_IP, IP_TOS, &tos, sizeof(tos));
	if (setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) < 0 ||
	    setsockopt(fd, SOL_SOCKET, SO_REUSEPORT, &one, sizeof(one)) < 0 ||
	    setsockopt(fd, SOL_SOCKET, SO_BINDTODEVICE, l->cfg.ifname,
		       (socklen_t)strlen(l->cfg.ifname)) < 0)
		goto out_errno;
	l->dst.sin_family = AF_INET;
	l->dst.sin_port = htons(d->cfg.cf.udpport);
	switch (l->cfg.kind) {
	case HA_LINK_BCAST:
		if (setsockopt(fd, SOL_SOCKET, SO_BROADCAST, &one, sizeof(one)) < 0)
			goto out_errno;
		l->dst.sin_addr.s_addr = htonl(INADDR_BROADCAST);
		break;
	case HA_LINK_UCAST:
		l->dst.sin_addr.s_addr = htonl(l->cfg.addr);
		break;
	case HA_LINK_MCAST: {
		struct ip_mreqn mr = { .imr_multiaddr.s_addr = htonl(l->cfg.addr),
				       .imr_ifindex = (int)ifindex };
		int ttl = 1, loop = 0;

		if (setsockopt(fd, IPPROTO_IP, IP_ADD_MEMBERSHIP, &mr, sizeof(mr)) < 0 ||
		    setsockopt(fd, IPPROTO_IP, IP_MULTICAST_IF, &mr, sizeof(mr)) < 0 ||
		    setsockopt(fd, IPPROTO_IP, IP_MULTICAST_TTL, &ttl, sizeof(ttl)) < 0 ||
		    setsockopt(fd, IPPROTO_IP, IP_MULTICAST_LOOP, &loop, sizeof(loop)) < 0)
			goto out_errno;
		l->dst.sin_addr.s_addr = htonl(l->cfg.addr);
		break;
	}
	}
	if (bind(fd, (struct sockaddr *)&any, sizeof(any)) < 0)
		goto out_errno;
	rc = ev_io_add(d->loop, &l->io, fd, EPOLLIN, link_rx, l);
	if (rc) {
		close(fd);
		return rc;
	}
	l->fd = fd;
	return 0;

out_errno:
	rc = -errno;
	close(fd);
	return rc;
}

int sb_links_open(struct standbyd *d)
{
	unsigned i;

	for (i = 0; i < d->cfg.cf.nlinks; i++) {
		struct sb_link *l = &d->links[d->nlinks];
		const struct ha_link *c = &d->cfg.cf.links[i];
		int rc;

		/* Both nodes may share one ha.cf listing each other's ucast address: the line
		 * naming our own address is not a link for us, as in Heartbeat. */
		if (c->kind == HA_LINK_UCAST && ipaddr_is_local(c->addr) == 1)
			continue;
		memset(l, 0, sizeof(*l));
		l->cfg = *c;
		l->d = d;
		l->fd = -1;
		rc = link_open(d, l);
		if (rc) {
			log_err("link %s (ha.cf line %u): %s", c->ifname, c->line, strerror(-rc));
			continue;
		}
		d->nlinks++;
	}
	if (!d->nlinks) {
		log_err("no heartbeat link could be opened");
		return -ENETDOWN;
	}
	return 0;
}

void sb_links_close(struct standbyd *d)
{
	unsigned i;

	for (i = 0; i < d->nlinks; i++) {
		ev_io_del(d->loop, &d->links[i].io);
		close(d->links[i].fd);
	}
	d->nlinks = 0;
}

void sb_links_send(struct standbyd *d, const uint8_t *pkt, size_t len)
{
	unsigned i;

	for (i = 0; i < d->nlinks; i++) {
		struct sb_link *l = &d->links[i];

		if (sendto(l->fd, pkt, len, MSG_DONTWAIT, (struct sockaddr *)&l->dst,
			   sizeof(l->dst)) < 0)
			l->tx_err++;	/* a link down is normal during a cut; status shows it */
		else
			l->tx++;
	}
}

static void link_rx(struct ev_io *io, uint32_t events)
{
	struct sb_link *l = io->arg;
	struct standbyd *d = l->d;
	uint8_t buf[HB_LEN + 1];
	struct hb_msg msg;
	unsigned budget = SB_RX_BATCH;
	ssize_t n;

	(void)events;
	/* MSG_TRUNC returns the datagram's real length, so an oversize one is seen as such. */
	while (budget-- && (n = recv(l->fd, buf, sizeof(buf), MSG_DONTWAIT | MSG_TRUNC)) >= 0) {
		size_t len = (size_t)n > sizeof(buf) ? sizeof(buf) : (size_t)n;
		enum hb_drop why = hb_decode(buf, len, &d->cfg.keys, &msg);

		if (why == HB_OK)
			why = hb_accept(&msg, d->cfg.cf.cluster, d->cfg.node, d->cfg.peer,
					sb_wall_ms(), (unsigned)(l - d->links), &d->win);
		if (why == HB_DROP_SELF)
			continue;
		if (why == HB_DROP_DUP) {
			/* Authentic, already heard on another link: not news for the state
			 * machine, but proof that this link carries heartbeats. */
			l->rx++;
			l->last_rx_ms = ev_now_ms();
			continue;
		}
		if (why != HB_OK) {
			d->hooks->dropped(d, l, why);
			continue;
		}
		d->hooks->heard(d, l, &msg);
	}
}
