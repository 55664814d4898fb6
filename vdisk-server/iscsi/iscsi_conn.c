/* iSCSI transport: listening socket, connections, the receive loop feeding the PDU state
 * machine, and a transmit queue sent with writev in batches. */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/sendfile.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <unistd.h>

#include "common/log.h"
#include "vdisk-server/iscsi/iscsi_conn.h"
#include "vdisk-server/iscsi/iscsi_digest.h"

#define RBUF_LEN	65536u
#define DIRECT_MIN	16384u	/* data segments this large are read straight into place */
#define TX_IOV		64
#define TX_FREE_MAX	64

static struct log_ratelimit rl_proto = LOG_RATELIMIT_INIT(10);

static void conn_io(struct ev_io *io, uint32_t events);

/* The window closes (MaxCmdSN = ExpCmdSN - 1) while ISCSI_QUEUE_DEPTH tasks are in flight. */
uint32_t conn_max_cmdsn(struct iscsi_conn *c)
{
	unsigned room = c->ntasks < ISCSI_QUEUE_DEPTH ? ISCSI_QUEUE_DEPTH - c->ntasks : 0;

	return c->exp_cmdsn + room - 1;
}

/* StatSN, ExpCmdSN and MaxCmdSN of a target PDU; status PDUs take a new StatSN. */
void conn_stamp_sn(struct iscsi_conn *c, struct tx_pdu *p, int status)
{
	put_be32(p->hdr + 24, status ? c->stat_sn++ : c->stat_sn);
	put_be32(p->hdr + 28, c->exp_cmdsn);
	put_be32(p->hdr + 32, conn_max_cmdsn(c));
}

struct tx_pdu *conn_pdu(struct iscsi_conn *c, uint8_t opcode)
{
	struct tx_pdu *p = c->tx_free;

	if (p)
		c->tx_free = p->next;
	else
		p = malloc(sizeof(*p));
	if (!p)
		return NULL;
	memset(p, 0, sizeof(*p));
	p->hdr[0] = opcode;
	p->file_fd = -1;
	return p;
}

static void pdu_release(struct iscsi_conn *c, struct tx_pdu *p, unsigned *nfree)
{
	free(p->own);
	if (p->release)
		cmd_task_free(p->release);
	if (*nfree < TX_FREE_MAX) {
		p->next = c->tx_free;
		c->tx_free = p;
		(*nfree)++;
	} else {
		free(p);
	}
}

static void set_events(struct iscsi_conn *c, uint32_t ev)
{
	if (ev != c->events && c->fd >= 0) {
		c->events = ev;
		ev_io_mod(c->srv->loop, &c->io, ev);
	}
}

/* Sends as much of the queue as the socket takes. */
static int conn_flush(struct iscsi_conn *c)
{
	unsigned nfree = 0;

	while (c->txq) {
		struct iovec iov[TX_IOV];
		struct tx_pdu *file = NULL;
		size_t skip = c->tx_off, file_skip = 0;
		int n = 0;
		ssize_t w;

		/* memory parts go out with writev; a file part (zero-copy Data-In) alone with
		 * sendfile once everything before it has gone */
		for (struct tx_pdu *p = c->txq; p && n < TX_IOV - 3; p = p->next) {
			const void *part[3] = { p->hdr, p->data, p->tail };
			size_t len[3] = { p->hlen, p->dlen, p->tlen };

			for (int i = 0; i < 3; i++) {
				if (skip >= len[i]) {
					skip -= len[i];
					continue;
				}
				if (i == 1 && p->file_fd >= 0) {
					if (n == 0) {
						file = p;
						file_skip = skip;
					}
					goto gathered;
				}
				iov[n].iov_base = (uint8_t *)part[i] + skip;
				iov[n].iov_len = len[i] - skip;
				skip = 0;
				n++;
			}
		}
gathered:
		if (n) {
			w = writev(c->fd, iov, n);
		} else {
			off_t off = (off_t)(file->file_off + file_skip);

			w = sendfile(c->fd, file->file_fd, &off, file->dlen - file_skip);
			if (w == 0)
				return -EIO;	/* the file shrank under us */
		}
		if (w < 0) {
			if (errno == EAGAIN || errno == EINTR)
				break;
			return -errno;
		}
		c->bytes_out += (uint64_t)w;
		c->srv->stats.bytes_out += (uint64_t)w;
		c->tx_off += (size_t)w;
		c->tx_queued -= (size_t)w;
		while (c->txq) {
			struct tx_pdu *p = c->txq;
			size_t total = p->hlen + p->dlen + p->tlen;

			if (c->tx_off < total)
				break;
			c->tx_off -= total;
			c->txq = p->next;
			if (!c->txq)
				c->txq_tail = NULL;
			if (p->close_after) {
				pdu_release(c, p, &nfree);
				return -ECONNRESET;
			}
			pdu_release(c, p, &nfree);
		}
	}
	if (c->state == CONN_CLOSING)
		return 0;
	set_events(c, (c->txq ? EPOLLOUT : 0) |
		   (c->tx_queued < ISCSI_TX_HIGH_WATER && !c->rx_stopped ? EPOLLIN : 0));
	return 0;
}

static void flush_fn(struct ev_defer *d)
{
	struct iscsi_conn *c = d->arg;

	if (c->state != CONN_CLOSING && conn_flush(c) < 0)
		conn_close(c, NULL);
}

/* Finishes p (digests, padding) and queues it; the send happens once the loop has handled
 * every event of this round, so completions that arrive together leave in one writev. */
void conn_queue(struct iscsi_conn *c, struct tx_pdu *p)
{
	uint32_t pad = ISCSI_PAD(p->dlen);
	/* Login responses belong to the login phase, the final one too (also when it leaves
	 * late, after a reinstatement): digests apply from the first PDU after it, as on our
	 * receive side; an initiator reads a digest there as text (libiscsi: no login). */
	int digests = (p->hdr[0] & ISCSI_OPCODE_MASK) != ISCSI_OP_LOGIN_RSP;

	if (c->state == CONN_CLOSING) {
		unsigned nfree = TX_FREE_MAX;

		pdu_release(c, p, &nfree);
		return;
	}
	put_be24(p->hdr + BHS_DSL, p->dlen);
	p->hlen = ISCSI_BHS_LEN;
	if (digests && c->params.header_digest) {
		iscsi_crc_put(p->hdr + ISCSI_BHS_LEN,
			      iscsi_crc_update(ISCSI_CRC_INIT, p->hdr, ISCSI_BHS_LEN));
		p->hlen += ISCSI_DIGEST_LEN;
	}
	memset(p->tail, 0, pad);
	p->tlen = pad;
	if (digests && c->params.data_digest && p->dlen) {
		uint32_t crc = iscsi_crc_update(ISCSI_CRC_INIT, p->data, p->dlen);

		crc = iscsi_crc_update(crc, p->tail, pad);
		iscsi_crc_put(p->tail + pad, crc);
		p->tlen += ISCSI_DIGEST_LEN;
	}
	p->next = NULL;
	if (c->txq_tail)
		c->txq_tail->next = p;
	else
		c->txq = p;
	c->txq_tail = p;
	c->tx_queued += p->hlen + p->dlen + p->tlen;
	c->srv->stats.pdus_out++;
	ev_defer(c->srv->loop, &c->flush);
}

void conn_reject(struct iscsi_conn *c, const uint8_t *bhs, uint8_t reason)
{
	struct tx_pdu *p = conn_pdu(c, ISCSI_OP_REJECT);
	uint8_t *copy;

	c->srv->stats.rejects++;
	if (!p)
		return;
	copy = malloc(ISCSI_BHS_LEN);
	if (!copy) {
		free(p);
		return;
	}
	memcpy(copy, bhs, ISCSI_BHS_LEN);
	p->hdr[1] = ISCSI_FLAG_FINAL;
	p->hdr[2] = reason;
	put_be32(p->hdr + BHS_ITT, ISCSI_RESERVED_TAG);
	conn_stamp_sn(c, p, 1);
	p->own = copy;
	p->data = copy;
	p->dlen = ISCSI_BHS_LEN;
	conn_queue(c, p);
}

static void conn_free(struct iscsi_conn *c)
{
	struct iscsi_server *srv = c->srv;
	struct iscsi_conn *w = c->reinstated_by;
	unsigned nfree = TX_FREE_MAX;

	/* the session that reinstated this one may go on */
	if (w && --w->reinstate_wait == 0 && w->deferred_login) {
		conn_queue(w, w->deferred_login);
		w->deferred_login = NULL;
		w->rx_stopped = 0;
	}
	for (struct iscsi_conn *o = srv->conns; o; o = o->next)
		if (o->reinstated_by == c)
			o->reinstated_by = NULL;
	if (c->deferred_login)
		pdu_release(c, c->deferred_login, &nfree);
	login_fini(c);
	while (c->tx_free) {
		struct tx_pdu *p = c->tx_free;

		c->tx_free = p->next;
		free(p);
	}
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
void conn_reap_later(struct iscsi_conn *c)
{
	if (c->ntasks)
		return;		/* the last task's completion calls us again */
	ev_defer_cancel(c->srv->loop, &c->flush);
	ev_defer_init(&c->flush, reap_fn, c);
	ev_defer(c->srv->loop, &c->flush);
}

void conn_close(struct iscsi_conn *c, const char *why)
{
	struct iscsi_server *srv = c->srv;
	unsigned nfree = TX_FREE_MAX;

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
	while (c->txq) {
		struct tx_pdu *p = c->txq;

		c->txq = p->next;
		pdu_release(c, p, &nfree);
	}
	c->txq_tail = NULL;
	c->tx_queued = 0;
	conn_reap_later(c);
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
	if (conn_flush(c) < 0)
		conn_close(c, NULL);
}

/* A NOP-In that asks for an answer. */
static void send_ping(struct iscsi_conn *c)
{
	struct tx_pdu *p = conn_pdu(c, ISCSI_OP_NOP_IN);

	if (!p)
		return;
	p->hdr[1] = ISCSI_FLAG_FINAL;
	memset(p->hdr + BHS_LUN, 0, 8);
	put_be32(p->hdr + BHS_ITT, ISCSI_RESERVED_TAG);
	c->nop_ttt = (c->nop_ttt + 1) & 0x7fffffff;
	put_be32(p->hdr + BHS_TTT, c->nop_ttt);
	conn_stamp_sn(c, p, 0);
	conn_queue(c, p);
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

static struct auth_penalty *penalty_of(struct iscsi_server *srv, uint32_t addr)
{
	for (unsigned i = 0; i < ISCSI_PENALTIES; i++)
		if (srv->penalties[i].addr == addr && srv->penalties[i].failures)
			return &srv->penalties[i];
	return NULL;
}

/* local processes (the admin's tools, tests, benchmarks) are not PCs on the LAN */
static int loopback(uint32_t addr)
{
	return (ntohl(addr) >> 24) == 127;
}

void iscsi_server_penalize(struct iscsi_server *srv, uint32_t addr)
{
	struct auth_penalty *p = penalty_of(srv, addr), *oldest = &srv->penalties[0];
	uint64_t now = ev_now_ms(), ms;

	if (loopback(addr))
		return;
	for (unsigned i = 0; !p && i < ISCSI_PENALTIES; i++)
		if (srv->penalties[i].until_ms < oldest->until_ms)
			oldest = &srv->penalties[i];
	if (!p) {
		p = oldest;	/* the one whose wait ended first: forgotten */
		*p = (struct auth_penalty){ .addr = addr };
	}
	if (p->failures < 16)
		p->failures++;
	ms = 100ull << (p->failures - 1);
	p->until_ms = now + (ms < ISCSI_PENALTY_MAX_MS ? ms : ISCSI_PENALTY_MAX_MS);
}

/* Why a connection from addr is refused now, or NULL: not the one address allowed, waiting
 * out a failed authentication, over the server's cap, over the cap of one address. */
static const char *refusal(struct iscsi_server *srv, uint32_t addr, unsigned *same)
{
	struct auth_penalty *p = penalty_of(srv, addr);

	if (srv->only_addr && addr != srv->only_addr && !loopback(addr))
		return "not the peer's address";
	if (p && ev_now_ms() < p->until_ms)
		return "it failed to authenticate: waiting";
	if (srv->nconns >= srv->max_conns)
		return "too many connections open";
	if (srv->max_conns_per_addr && !loopback(addr))
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
