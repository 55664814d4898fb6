/* iSCSI transport: listening socket, connections, the receive loop feeding the PDU state
 * machine, the connection's timers, its close and its free. The PDUs it receives go to
 * iscsi_login.c and iscsi_cmd.c, what it sends to iscsi_tx.c. */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "common/log.h"
#include "vdisk-server/iscsi/iscsi_conn.h"
#include "vdisk-server/iscsi/iscsi_tx.h"

#define RBUF_LEN	65536u
#define DIRECT_MIN	16384u	/* data segments this large are read straight into place */

static struct log_ratelimit rl_proto = LOG_RATELIMIT_INIT(10);

static void conn_free(struct iscsi_conn *c)
{
	struct iscsi_server *srv = c->srv;
	struct iscsi_conn *w = c->reinstated_by;

	/* the session that reinstated this one may go on */
	if (w && --w->reinstate_wait == 0 && w->deferred_login) {
		tx_queue(w, w->deferred_login);
		w->deferred_login = NULL;
		w->rx_stopped = 0;
	}
	for (struct iscsi_conn *o = srv->conns; o; o = o->next)
		if (o->reinstated_by == c)
			o->reinstated_by = NULL;
	if (c->deferred_login)
		tx_drop(c, c->deferred_login);
	login_fini(c);
	tx_fini(c);
	if (c->prev)
		c->prev->next = c->next;
	else
		srv->conns = c->next;
	if (c->next)
		c->next->prev = c->prev;
	srv->nconns--;
	iscsi_rx_free(&c->rx);
	free(c->rbuf);
	free(c->login_text);
	free(c);
}

static void reap_fn(struct ev_defer *d)
{
	conn_free(d->arg);
}

/* Frees a closed connection from the loop, never under a caller that still holds it. */
static void conn_reap_later(struct iscsi_conn *c)
{
	if (c->ntasks)
		return;		/* the last task's completion calls us again */
	ev_defer_cancel(c->srv->loop, &c->flush);
	ev_defer_init(&c->flush, reap_fn, c);
	ev_defer(c->srv->loop, &c->flush);
}

static void conn_close(struct iscsi_conn *c, const char *why)
{
	struct iscsi_server *srv = c->srv;

	if (c->state == CONN_CLOSING && c->fd < 0)
		return;
	if (why)
		log_info("%s: connection closed: %s", c->peer, why);
	c->state = CONN_CLOSING;
	ev_defer_cancel(srv->loop, &c->flush);
	ev_timer_cancel(srv->loop, &c->nop_timer);
	ev_io_del(srv->loop, &c->io);
	close(c->fd);
	c->fd = -1;
	/* tasks still in the store finish later and free themselves */
	cmd_abort_all(c);
	tx_drop_queue(c);
	conn_reap_later(c);
}

/* The files below this one reach a connection's close and free, and free a task, only
 * through these: they may not call up. */
static const struct conn_hooks hooks = {
	.close = conn_close,
	.reap_later = conn_reap_later,
	.task_free = cmd_task_free,
};

/* c->flush until the connection closes: tx_queue defers the send to the round's end. */
static void flush_fn(struct ev_defer *d)
{
	struct iscsi_conn *c = d->arg;

	if (c->state != CONN_CLOSING && tx_flush(c) < 0)
		conn_close(c, NULL);
}

static int conn_pdu_in(struct iscsi_conn *c)
{
	struct iscsi_pdu *pdu = &c->rx.pdu;

	c->srv->stats.pdus_in++;
	c->last_rx_ms = ev_now_ms();
	if (c->state == CONN_LOGIN)
		return login_pdu(c, pdu);
	return cmd_pdu(c, pdu);
}

static void conn_read(struct iscsi_conn *c)
{
	size_t budget = 4u << 20;	/* then let other connections run */

	while (budget && c->state != CONN_CLOSING && !c->rx_stopped) {
		uint8_t *dst;
		size_t want = iscsi_rx_direct(&c->rx, &dst);
		ssize_t n, used;
		size_t off = 0;
		int complete;

		if (want >= DIRECT_MIN) {
			n = read(c->fd, dst, want);
			if (n > 0) {
				iscsi_rx_direct_done(&c->rx, (size_t)n);
				/* hands out the PDU if the read completed it; cannot fail */
				iscsi_rx_feed(&c->rx, NULL, 0, &complete);
				if (complete && conn_pdu_in(c) < 0) {
					conn_close(c, "protocol error");
					return;
				}
			}
		} else {
			n = read(c->fd, c->rbuf, RBUF_LEN);
		}
		if (n == 0) {
			conn_close(c, NULL);
			return;
		}
		if (n < 0) {
			if (errno == EAGAIN || errno == EINTR)
				break;
			conn_close(c, strerror(errno));
			return;
		}
		c->bytes_in += (uint64_t)n;
		c->srv->stats.bytes_in += (uint64_t)n;
		budget = (size_t)n > budget ? 0 : budget - (size_t)n;
		if (want >= DIRECT_MIN)
			continue;
		while (off < (size_t)n && c->state != CONN_CLOSING && !c->rx_stopped) {
			used = iscsi_rx_feed(&c->rx, c->rbuf + off, (size_t)n - off, &complete);
			if (used < 0) {
				log_limited(&rl_proto, LOG_WARNING, "%s: %s", c->peer,
					    used == -EMSGSIZE ? "PDU over our length limits"
							      : "header digest mismatch");
				conn_close(c, NULL);
				return;
			}
			off += (size_t)used;
			if (complete && conn_pdu_in(c) < 0) {
				conn_close(c, NULL);
				return;
			}
		}
	}
}

static void conn_io(struct ev_io *io, uint32_t events)
{
	struct iscsi_conn *c = io->arg;

	if (events & (EPOLLERR | EPOLLHUP) && !(events & EPOLLIN)) {
		conn_close(c, NULL);
		return;
	}
	if (events & EPOLLIN)
		conn_read(c);
	if (c->state == CONN_CLOSING)
		return;
	if (tx_flush(c) < 0)
		conn_close(c, NULL);
}

/* A NOP-In that asks for an answer. */
static void send_ping(struct iscsi_conn *c)
{
	struct tx_pdu *p = tx_new(c, ISCSI_OP_NOP_IN);

	if (!p)
		return;
	p->hdr[1] = ISCSI_FLAG_FINAL;
	memset(p->hdr + BHS_LUN, 0, 8);
	put_be32(p->hdr + BHS_ITT, ISCSI_RESERVED_TAG);
	c->nop_ttt = (c->nop_ttt + 1) & 0x7fffffff;
	put_be32(p->hdr + BHS_TTT, c->nop_ttt);
	tx_stamp_sn(c, p, 0);
	tx_queue(c, p);
	c->nop_pending = 1;
}

void iscsi_server_ping_target(struct iscsi_server *srv, struct iscsi_target *tgt)
{
	for (struct iscsi_conn *c = srv->conns; c; c = c->next) {
		if (c->target != tgt || c->state != CONN_FULL || c->deferred_login)
			continue;
		send_ping(c);
		c->probed = 1;
		c->probe_answered = 0;
		c->probe_ttt = c->nop_ttt;
	}
}

int iscsi_server_answered(struct iscsi_server *srv, struct iscsi_target *tgt)
{
	for (struct iscsi_conn *c = srv->conns; c; c = c->next)
		if (c->target == tgt && c->state == CONN_FULL && c->probed && c->probe_answered)
			return 1;
	return 0;
}

/* The connection's timer: a login that does not complete in time is dropped (one PC holding
 * sockets in the login phase must not starve the others' boots); then the target NOP-In as
 * keepalive: an idle connection is pinged; a peer that never answers is dropped, freeing its
 * session. */
static void nop_timer_fn(struct ev_timer *t)
{
	struct iscsi_conn *c = t->arg;
	struct iscsi_server *srv = c->srv;
	uint64_t now = ev_now_ms(), idle = now - c->last_rx_ms;

	if (c->state == CONN_LOGIN) {
		if (now - c->accepted_ms >= srv->login_timeout_ms) {
			log_limited(&rl_proto, LOG_WARNING, "%s: login not complete within %u ms: "
				    "dropped", c->peer, srv->login_timeout_ms);
			conn_close(c, NULL);
			return;
		}
		ev_timer_arm(srv->loop, &c->nop_timer,
			     srv->login_timeout_ms - (now - c->accepted_ms));
		return;
	}
	if (!srv->nop_interval_ms)
		return;
	if (c->nop_pending && idle >= srv->nop_timeout_ms) {
		conn_close(c, "no answer to NOP-In");
		return;
	}
	/* never ahead of a final login response still held back (a reinstatement) */
	if (c->state == CONN_FULL && !c->nop_pending && !c->deferred_login &&
	    idle >= srv->nop_interval_ms)
		send_ping(c);
	ev_timer_arm(srv->loop, &c->nop_timer, srv->nop_interval_ms / 2 + 1);
}

/* Why a connection from addr is refused now, or NULL: not the one address allowed, waiting
 * out a failed authentication, over the server's cap, over the cap of one address. */
static const char *refusal(struct iscsi_server *srv, uint32_t addr, unsigned *same)
{
	if (srv->only_addr && addr != srv->only_addr && !iscsi_loopback(addr))
		return "not the peer's address";
	if (login_penalized(srv, addr))
		return "it failed to authenticate: waiting";
	if (srv->nconns >= srv->max_conns)
		return "too many connections open";
	if (srv->max_conns_per_addr && !iscsi_loopback(addr))
		for (struct iscsi_conn *c = srv->conns; c; c = c->next)
			*same += c->addr == addr && c->state != CONN_CLOSING;
	if (srv->max_conns_per_addr && *same >= srv->max_conns_per_addr)
		return "too many connections from it";
	return NULL;
}

/* Refused, counted, logged at most once a second (a flood must not flood the log too). */
static int refuse_conn(struct iscsi_server *srv, uint32_t addr)
{
	static struct log_ratelimit rl_refuse = LOG_RATELIMIT_INIT(1);
	unsigned same = 0;
	char ip[INET_ADDRSTRLEN];
	const char *why = refusal(srv, addr, &same);

	if (!why)
		return 0;
	srv->refused_conns++;
	inet_ntop(AF_INET, &addr, ip, sizeof(ip));
	log_limited(&rl_refuse, LOG_WARNING, "connection from %s refused: %s (%u open, %u from "
		    "it; %llu refused so far)", ip, why, srv->nconns, same,
		    (unsigned long long)srv->refused_conns);
	return 1;
}

static void server_accept(struct ev_io *io, uint32_t events)
{
	struct iscsi_server *srv = io->arg;
	struct sockaddr_in sin;
	socklen_t slen = sizeof(sin);
	struct iscsi_conn *c;
	int fd, one = 1;

	(void)events;
	for (;;) {
		fd = accept4(srv->listen_fd, (struct sockaddr *)&sin, &slen,
			     SOCK_NONBLOCK | SOCK_CLOEXEC);
		if (fd < 0) {
			if (errno != EAGAIN && errno != EINTR && errno != ECONNABORTED)
				log_warn("accept: %s", strerror(errno));
			return;
		}
		if (refuse_conn(srv, sin.sin_addr.s_addr)) {
			close(fd);
			continue;
		}
		setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
		c = calloc(1, sizeof(*c));
		if (!c)
			goto out_close;
		c->rbuf = malloc(RBUF_LEN);
		if (!c->rbuf)
			goto out_free_conn;
		/* a small cap until login completes (tgt CVE-2011-0001) */
		if (iscsi_rx_init(&c->rx, ISCSI_LOGIN_MAX_DATA) < 0)
			goto out_free_rbuf;
		c->srv = srv;
		c->hooks = &hooks;
		c->fd = fd;
		c->state = CONN_LOGIN;
		c->addr = sin.sin_addr.s_addr;
		c->last_rx_ms = c->accepted_ms = ev_now_ms();
		iscsi_params_rfc_default(&c->params);
		snprintf(c->peer, sizeof(c->peer), "%s:%u", inet_ntoa(sin.sin_addr),
			 ntohs(sin.sin_port));
		ev_defer_init(&c->flush, flush_fn, c);
		ev_timer_init(&c->nop_timer, nop_timer_fn, c);
		c->events = EPOLLIN;
		if (ev_io_add(srv->loop, &c->io, fd, EPOLLIN, conn_io, c) < 0)
			goto out_free_rx;
		ev_timer_arm(srv->loop, &c->nop_timer, srv->login_timeout_ms);
		c->next = srv->conns;
		if (srv->conns)
			srv->conns->prev = c;
		srv->conns = c;
		srv->nconns++;
		continue;
out_free_rx:
		iscsi_rx_free(&c->rx);
out_free_rbuf:
		free(c->rbuf);
out_free_conn:
		free(c);
out_close:
		close(fd);
	}
}

int iscsi_server_open(struct iscsi_server *srv, struct evloop *loop, const char *addr,
		      uint16_t port, const struct iscsi_provider *prov)
{
	struct sockaddr_in sin = { .sin_family = AF_INET, .sin_port = htons(port) };
	int fd, one = 1, rc;

	if (inet_pton(AF_INET, addr, &sin.sin_addr) != 1)
		return -EINVAL;
	memset(srv, 0, sizeof(*srv));
	srv->loop = loop;
	srv->prov = *prov;
	srv->max_conns = 4096;
	srv->max_conns_per_addr = ISCSI_CONNS_PER_ADDR;
	srv->login_timeout_ms = ISCSI_LOGIN_TIMEOUT_MS;
	srv->next_tsih = 1;
	srv->next_nexus = 1;
	srv->nop_interval_ms = 5000;
	srv->nop_timeout_ms = 30000;
	iscsi_params_rfc_default(&srv->ours);
	srv->ours.max_recv_dsl = ISCSI_OUR_MAX_RECV_DSL;
	srv->ours.max_burst = 16776192;
	srv->ours.first_burst = 262144;
	srv->ours.max_outstanding_r2t = 1;
	srv->ours.time2wait = 0;
	srv->ours.time2retain = 0;
	srv->ours.initial_r2t = 0;
	srv->ours.immediate_data = 1;
	srv->ours.header_digest = 1;	/* CRC32C allowed when the initiator asks */
	srv->ours.data_digest = 1;
	snprintf(srv->portal, sizeof(srv->portal), "%s:%u,1", addr, port);
	fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (bind(fd, (struct sockaddr *)&sin, sizeof(sin)) < 0 || listen(fd, 1024) < 0) {
		rc = -errno;
		goto out_close;
	}
	rc = ev_io_add(loop, &srv->lio, fd, EPOLLIN, server_accept, srv);
	if (rc < 0)
		goto out_close;
	srv->listen_fd = fd;
	return 0;
out_close:
	close(fd);
	return rc;
}

void iscsi_server_close(struct iscsi_server *srv)
{
	ev_io_del(srv->loop, &srv->lio);
	close(srv->listen_fd);
	srv->listen_fd = -1;
	/* at shutdown: connections with requests still in the store are left to exit() */
	for (struct iscsi_conn *c = srv->conns, *next; c; c = next) {
		next = c->next;
		conn_close(c, NULL);
		ev_defer_cancel(srv->loop, &c->flush);
		if (!c->ntasks)
			conn_free(c);
	}
}

void iscsi_server_drop_target(struct iscsi_server *srv, struct iscsi_target *tgt)
{
	struct iscsi_conn *c = srv->conns, *next;

	for (; c; c = next) {
		next = c->next;
		if (c->target == tgt && c->state != CONN_CLOSING)
			conn_close(c, "target reset by the administrator");
	}
}
