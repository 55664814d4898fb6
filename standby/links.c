/* Heartbeat links; see links.h. */
#include "standby/links.h"

#include <arpa/inet.h>
#include <errno.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "common/log.h"
#include "standby/ipaddr.h"

static int link_open(struct sb_links *ls, struct sb_link *l)
{
	struct sockaddr_in any = { .sin_family = AF_INET, .sin_port = htons(ls->cfg->cf.udpport) };
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
	l->dst.sin_port = htons(ls->cfg->cf.udpport);
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
	l->fd = fd;
	return 0;

out_errno:
	rc = -errno;
	close(fd);
	return rc;
}

static void rx_lost(struct sb_links *ls, int rc);

/* One record from the receiver. An accepted packet is decoded again here (the receiver is not
 * trusted to have done it) and checked against who we are and our own window. Since both
 * decode alike, a packet the receiver passed that does not decode here can only come from a
 * receiver taken over or broken: it is replaced. */
static void link_record(struct sb_links *ls, const struct hbrx_rec *r)
{
	struct sb_link *l = &ls->link[r->link];
	const struct ha_config *c = ls->cfg;
	enum hb_drop why;
	struct hb_msg msg;

	if (r->why != HB_OK) {
		ls->hooks->dropped(ls->arg, l, (enum hb_drop)r->why, r->count);
		return;
	}
	if (!r->len)
		return;		/* alive */
	if (hb_decode(r->pkt, r->len, &c->keys, &msg) != HB_OK) {
		rx_lost(ls, -EPROTO);
		return;
	}
	why = hb_accept(&msg, c->cf.cluster, c->node, c->peer, hb_wall_ms(), r->link, &ls->win);
	if (why == HB_DROP_SELF)
		return;
	if (why == HB_DROP_DUP) {
		/* Authentic, already heard on another link: not news for the state machine, but
		 * proof that this link carries heartbeats. */
		l->rx++;
		l->last_rx_ms = ev_now_ms();
		return;
	}
	if (why != HB_OK) {
		ls->hooks->dropped(ls->arg, l, why, 1);
		return;
	}
	ls->hooks->heard(ls->arg, l, &msg);
}

static int rx_start(struct sb_links *ls);

/* Ends the receiver: through the helper once there is one (it is the helper's child, of
 * another user than an unprivileged standbyd), else ourselves. */
static void rx_kill(struct sb_links *ls)
{
	if (ls->priv)
		privop_rx_stop(ls->priv, &ls->rx);
	else
		hbrx_stop(&ls->rx);
}

/* The receiver died, broke the protocol or went silent: another, soon. One that cannot be
 * started is tried again less and less often, up to every SB_RX_RETRY_MAX_MS. */
static void rx_lost(struct sb_links *ls, int rc)
{
	if (ls->rx.fd < 0)
		return;		/* already being replaced */
	ev_io_del(ls->loop, &ls->rx_io);
	ev_timer_cancel(ls->loop, &ls->t_stall);
	rx_kill(ls);
	log_err("heartbeat receiver %s: starting another in %u ms",
		rc == -EPROTO ? "broke the protocol" : rc == -ETIMEDOUT ? "went silent (stuck)"
		: "died", SB_RX_RESTART_MS);
	ls->retry_ms = SB_RX_RESTART_MS;
	ev_timer_arm(ls->loop, &ls->t_restart, ls->retry_ms);
}

static void on_rx(struct ev_io *io, uint32_t events)
{
	struct sb_links *ls = io->arg;
	struct hbrx_rec r;
	unsigned budget = SB_RX_BATCH;
	int rc = 0;

	(void)events;
	while (ls->rx.fd >= 0 && budget-- && (rc = hbrx_read(&ls->rx, ls->n, &r)) == 1) {
		ev_timer_arm(ls->loop, &ls->t_stall, HBRX_STALL_MS);
		link_record(ls, &r);
	}
	if (rc < 0)
		rx_lost(ls, rc);
}

static void on_stall(struct ev_timer *t)
{
	rx_lost(t->arg, -ETIMEDOUT);
}

static void on_restart(struct ev_timer *t)
{
	struct sb_links *ls = t->arg;

	if (rx_start(ls) == 0) {
		ls->rx_restarts++;
		return;
	}
	ls->retry_ms = ls->retry_ms * 2 > SB_RX_RETRY_MAX_MS ? SB_RX_RETRY_MAX_MS
							       : ls->retry_ms * 2;
	ev_timer_arm(ls->loop, &ls->t_restart, ls->retry_ms);
}

static int rx_start(struct sb_links *ls)
{
	int fds[HA_MAX_LINKS], rc;
	unsigned i;

	for (i = 0; i < ls->n; i++)
		fds[i] = ls->link[i].fd;
	/* A receiver takes a new user and root: the helper's to do once standbyd may not */
	rc = ls->priv ? privop_rx_start(ls->priv, &ls->rx)
		      : hbrx_start(&ls->rx, fds, ls->n, ls->cfg, ls->cfg->cf.realtime);
	if (rc)
		return rc;
	rc = ev_io_add(ls->loop, &ls->rx_io, ls->rx.fd, EPOLLIN, on_rx, ls);
	if (rc) {
		rx_kill(ls);
		return rc;
	}
	ev_timer_arm(ls->loop, &ls->t_stall, HBRX_STALL_MS);
	return 0;
}

int sb_links_open(struct sb_links *ls, struct evloop *loop, const struct ha_config *cfg,
		  const struct sb_links_hooks *hooks, void *arg)
{
	unsigned i;
	int rc;

	memset(ls, 0, sizeof(*ls));
	ls->cfg = cfg;
	ls->loop = loop;
	ls->hooks = hooks;
	ls->arg = arg;
	ls->rx.fd = -1;
	ev_timer_init(&ls->t_restart, on_restart, ls);
	ev_timer_init(&ls->t_stall, on_stall, ls);
	for (i = 0; i < cfg->cf.nlinks; i++) {
		struct sb_link *l = &ls->link[ls->n];
		const struct ha_link *c = &cfg->cf.links[i];

		/* Both nodes may share one ha.cf listing each other's ucast address: the line
		 * naming our own address is not a link for us, as in Heartbeat. */
		if (c->kind == HA_LINK_UCAST && ipaddr_is_local(c->addr) == 1)
			continue;
		l->cfg = *c;
		l->fd = -1;
		rc = link_open(ls, l);
		if (rc) {
			log_err("link %s (ha.cf line %u): %s", c->ifname, c->line, strerror(-rc));
			continue;
		}
		ls->n++;
	}
	if (!ls->n) {
		log_err("no heartbeat link could be opened");
		return -ENETDOWN;
	}
	return 0;
}

int sb_links_start(struct sb_links *ls, struct privop *priv)
{
	ls->priv = priv;
	return rx_start(ls);
}

void sb_links_close(struct sb_links *ls)
{
	unsigned i;

	if (!ls->loop)	/* never opened */
		return;
	ev_timer_cancel(ls->loop, &ls->t_restart);
	ev_timer_cancel(ls->loop, &ls->t_stall);
	if (ls->rx.fd >= 0)
		ev_io_del(ls->loop, &ls->rx_io);
	rx_kill(ls);
	for (i = 0; i < ls->n; i++)
		close(ls->link[i].fd);
	ls->n = 0;
}

void sb_links_send(struct sb_links *ls, const uint8_t *pkt, size_t len)
{
	unsigned i;

	for (i = 0; i < ls->n; i++) {
		struct sb_link *l = &ls->link[i];

		if (sendto(l->fd, pkt, len, MSG_DONTWAIT, (struct sockaddr *)&l->dst,
			   sizeof(l->dst)) < 0)
			l->tx_err++;	/* a link down is normal during a cut; status shows it */
		else
			l->tx++;
	}
}
