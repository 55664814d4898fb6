/* DB shipping in the daemon: the HA-link sockets and the two transfer state machines. */
#include "standby/dbship.h"

#include <arpa/inet.h>
#include <errno.h>
#include <ifaddrs.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <time.h>
#include <unistd.h>

#include "common/netaddr.h"
#include "db/ship.h"
#include "standby/daemon.h"

enum { OUT_CONNECT = 1, OUT_CHALLENGE, OUT_SEND, OUT_REPLY };
enum { IN_HDR = 1, IN_BODY, IN_TRAILER, IN_APPLY };

static uint64_t mono_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000 + (uint64_t)ts.tv_nsec / 1000;
}

static unsigned ms_since(uint64_t t0_us)
{
	return (unsigned)((mono_us() - t0_us + 500) / 1000);
}

/* Drops a transfer: socket, timer and payload. */
static void conn_close(struct sb_ship_conn *c, int is_out)
{
	struct standbyd *d = c->d;

	if (c->fd < 0)
		return;
	ev_io_del(d->loop, &c->io);
	ev_timer_cancel(d->loop, &c->limit);
	close(c->fd);
	c->fd = -1;
	if (is_out && c->type == SHIP_TYPE_DB)
		db_ship_free(c->payload);
	else
		free(c->payload);
	c->payload = NULL;
	c->step = 0;
}

/* Reads toward buf[want) from c->off. Returns 1 when complete, 0 for more later, or a
 * negative errno (-EPIPE: the other side closed). */
static int read_some(struct sb_ship_conn *c, uint8_t *buf, size_t want)
{
	while (c->off < want) {
		ssize_t n = read(c->fd, buf + c->off, want - c->off);

		if (n == 0)
			return -EPIPE;
		if (n < 0)
			return errno == EAGAIN || errno == EINTR ? 0 : -errno;
		c->off += (size_t)n;
	}
	return 1;
}

/* ---- sender (active node) ---- */

static const char *type_name(uint8_t type)
{
	return type == SHIP_TYPE_CONNS ? "connection list" : "DB";
}

static void out_done(struct standbyd *d, int rc, const char *why)
{
	struct sb_ship *s = &d->ship;
	struct sb_ship_conn *c = &s->out;
	uint8_t type = c->type;

	if (rc) {
		s->send_failed++;
		s->retry_at_ms = ev_now_ms() + SHIP_RETRY_MS;
		log_limited(&s->rl_out, LOG_WARNING, "%s transfer to %s: %s: %s", type_name(type),
			    d->cfg.peer, why, strerror(-rc));
	}
	if (type == SHIP_TYPE_DB)
		s->out_end_ms = ev_now_ms();
	conn_close(c, 1);
	if (type == SHIP_TYPE_CONNS && s->conns_shipped)
		s->conns_shipped(d, rc == 0);
}

static void out_limit(struct ev_timer *t)
{
	struct sb_ship_conn *c = t->arg;

	out_done(c->d, -ETIMEDOUT, "transfer");
}

/* Header, payload and trailer as one stream from c->off. Returns 1 when all is sent. */
static int out_send(struct sb_ship_conn *c)
{
	size_t total = SHIP_HDR_LEN + c->len + SHIP_MAC_LEN;

	while (c->off < total) {
		struct iovec iov[3] = {
			{ c->hdr, SHIP_HDR_LEN }, { c->payload, c->len }, { c->small, SHIP_MAC_LEN },
		};
		size_t skip = c->off;
		ssize_t n;
		int i = 0;

		while (skip >= iov[i].iov_len) {
			skip -= iov[i].iov_len;
			i++;
		}
		iov[i].iov_base = (uint8_t *)iov[i].iov_base + skip;
		iov[i].iov_len -= skip;
		n = writev(c->fd, iov + i, 3 - i);
		if (n < 0)
			return errno == EAGAIN || errno == EINTR ? 0 : -errno;
		c->off += (size_t)n;
	}
	return 1;
}

static void out_io(struct ev_io *io, uint32_t events)
{
	struct sb_ship_conn *c = io->arg;
	struct standbyd *d = c->d;
	struct sb_ship *s = &d->ship;
	const struct ha_key *k = ship_key(&d->cfg.keys, d->cfg.keys.ship);
	struct ship_hdr h;
	struct ship_reply r;
	enum ship_err e;
	socklen_t sl = sizeof(int);
	int rc, err = 0;

	(void)events;
	switch (c->step) {
	case OUT_CONNECT:
		if (getsockopt(c->fd, SOL_SOCKET, SO_ERROR, &err, &sl) < 0)
			err = errno;
		if (err) {
			out_done(d, -err, "connect");
			return;
		}
		c->step = OUT_CHALLENGE;
		c->off = 0;
		ev_io_mod(d->loop, &c->io, EPOLLIN);
		return;
	case OUT_CHALLENGE:
		rc = read_some(c, c->nonce, SHIP_NONCE_LEN);
		if (rc <= 0) {
			if (rc)
				out_done(d, rc, "waiting for the challenge");
			return;
		}
		memset(&h, 0, sizeof(h));
		h.key_index = (uint8_t)d->cfg.keys.ship;
		h.type = c->type;
		memcpy(h.cluster, d->cfg.cf.cluster, sizeof(h.cluster));
		memcpy(h.node, d->cfg.node, sizeof(h.node));
		memcpy(h.nonce, c->nonce, SHIP_NONCE_LEN);
		h.db_seq = c->seq;
		h.length = (uint32_t)c->len;
		if (!k || ship_hdr_encode(&h, &d->cfg.keys, c->hdr) != SHIP_HDR_LEN ||
		    ship_trailer(k, c->hdr, c->payload, c->len, c->small)) {
			out_done(d, -EINVAL, "signing");
			return;
		}
		c->step = OUT_SEND;
		c->off = 0;
		ev_io_mod(d->loop, &c->io, EPOLLOUT);
		__attribute__((fallthrough));	/* the socket is most likely writable now */
	case OUT_SEND:
		rc = out_send(c);
		if (rc <= 0) {
			if (rc)
				out_done(d, rc, "sending");
			return;
		}
		c->step = OUT_REPLY;
		c->off = 0;
		ev_io_mod(d->loop, &c->io, EPOLLIN);
		return;
	case OUT_REPLY:
		rc = read_some(c, c->small, SHIP_REPLY_LEN);
		if (rc <= 0) {
			if (rc)
				out_done(d, rc, "waiting for the answer");
			return;
		}
		e = ship_reply_decode(c->small, SHIP_REPLY_LEN, k, c->nonce, &r);
		if (e != SHIP_OK) {
			log_warn("DB shipping to %s: answer refused (%s)", d->cfg.peer,
				 ship_err_name(e));
			out_done(d, -EBADMSG, "answer");
			return;
		}
		if (r.status) {
			out_done(d, r.status, "the peer did not apply it");
			return;
		}
		if (c->type == SHIP_TYPE_CONNS) {
			out_done(d, 0, NULL);
			return;
		}
		s->sent++;
		s->shipped_seq = r.db_seq;
		s->last_bytes = (unsigned long)c->len;
		s->last_total_ms = ms_since(c->started_us);
		log_info("DB change_seq %lld shipped to %s: %zu bytes in %u ms (snapshot %u ms)",
			 (long long)c->seq, d->cfg.peer, c->len, s->last_total_ms,
			 s->last_snapshot_ms); {
		out_done(d, 0, NULL);
		return;
	}
	}
}

/* Connects to the peer for the transfer set up in c (type, payload, len, seq); takes
 * ownership of the payload. Returns 0 or a negative errno (counted and logged). */
static int out_connect(struct standbyd *d)
{
	struct sb_ship *s = &d->ship;
	struct sb_ship_conn *c = &s->out;
	struct sockaddr_in src = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(s->local) };
	struct sockaddr_in dst = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(s->peer),
				   .sin_port = htons(d->cfg.cf.udpport) };
	int rc, fd;

	fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0)
		goto out_errno;
	/* From our HA-link address: the peer accepts transfers from nowhere else. */
	if (bind(fd, (struct sockaddr *)&src, sizeof(src)) < 0 ||
	    (connect(fd, (struct sockaddr *)&dst, sizeof(dst)) < 0 && errno != EINPROGRESS))
		goto out_close;
	rc = ev_io_add(d->loop, &c->io, fd, EPOLLOUT, out_io, c);
	if (rc) {
		errno = -rc;
		goto out_close;
	}
	c->fd = fd;
	c->step = OUT_CONNECT;
	ev_timer_arm(d->loop, &c->limit, SHIP_LIMIT_MS);
	return 0;

out_close:
	rc = -errno;
	close(fd);
	errno = -rc;
out_errno:
	rc = -errno;
	s->send_failed++;
	s->retry_at_ms = ev_now_ms() + SHIP_RETRY_MS;
	log_limited(&s->rl_out, LOG_WARNING, "%s transfer to %s: %s", type_name(c->type),
		    d->cfg.peer, strerror(-rc));
	if (c->type == SHIP_TYPE_DB)
		db_ship_free(c->payload);
	else
		free(c->payload);
	c->payload = NULL;
	return rc;
}

static void out_start(struct standbyd *d)
{
	struct sb_ship *s = &d->ship;
	struct sb_ship_conn *c = &s->out;
	uint64_t t0 = mono_us();
	int rc;

	c->type = SHIP_TYPE_DB;
	rc = db_ship_snapshot(d->db, &c->payload, &c->len, &c->seq);
	if (rc) {
		s->retry_at_ms = ev_now_ms() + SHIP_RETRY_MS;
		log_warn("DB shipping: snapshot failed: %s", db_errmsg(d->db));
		return;
	}
	s->last_snapshot_ms = ms_since(t0);
	c->started_us = t0;
	if (c->len > SHIP_MAX_PAYLOAD) {
		s->retry_at_ms = ev_now_ms() + 60000;
		sb_event(d, LOG_ERR, "DB shipping: snapshot of %zu bytes is over the %u MiB cap",
			 c->len, SHIP_MAX_PAYLOAD >> 20);
		db_ship_free(c->payload);
		c->payload = NULL;
		return;
	}
	out_connect(d);
}

int sb_ship_send_conns(struct standbyd *d, const struct conn_list *l, int64_t seq)
{
	struct sb_ship *s = &d->ship;
	struct sb_ship_conn *c = &s->out;

	if (!s->enabled || c->fd >= 0 || ev_now_ms() < s->retry_at_ms)
		return -EAGAIN;
	c->type = SHIP_TYPE_CONNS;
	c->payload = malloc(l->n ? (size_t)l->n * CONN_WIRE_LEN : 1);
	if (!c->payload)
		return -ENOMEM;
	c->len = conn_list_encode(l, c->payload);
	c->seq = seq;
	c->started_us = mono_us();
	return out_connect(d);
}

static void on_poll(struct ev_timer *t)
{
	struct standbyd *d = t->arg;
	struct sb_ship *s = &d->ship;
	uint64_t now = ev_now_ms();
	unsigned recheck = 2 * d->cfg.cf.keepalive_ms > 2000 ? 2 * d->cfg.cf.keepalive_ms : 2000;
	int64_t seq;

	ev_timer_arm(d->loop, &s->t_poll, SHIP_POLL_MS);
	if (!s->db_on || d->fsm.state != FSM_ACTIVE || d->fsm.peer != FSM_PEER_ALIVE ||
	    s->out.fd >= 0 || now < s->retry_at_ms)
		return;
	/* A peer that is active too (split brain) or taking over must not get our tables. */
	if (d->fsm.peer_state != FSM_STANDBY && d->fsm.peer_state != FSM_MAINTENANCE)
		return;
	if (db_change_seq(d->db, &seq))
		return;
	d->db_seq = seq;
	/* A change since the last confirmed transfer, or a peer whose heartbeats keep showing
	 * another version (its DB restored, a transfer lost) once the last answer is old
	 * enough for its heartbeats to reflect it. */
	if (seq != s->shipped_seq ||
	    (d->peer_msg.db_seq != seq && now - s->out_end_ms > recheck)) {
		/* Normally the standby holds what we shipped last, or less (it was away). More
		 * means it took edits of its own, likely as the active node while we were
		 * away: ours still wins (we hold the role), but the admin must hear of it. */
		if (d->peer_msg.db_seq > seq && !s->newer_warned) {
			s->newer_warned = 1;
			sb_event(d, LOG_WARNING, "DB: %s's database is at change_seq %lld, ours at "
				 "%lld: replacing it with ours (its edits since are lost)", d->cfg.peer,
				 (long long)d->peer_msg.db_seq, (long long)seq);
		}
		out_start(d);
	}
}

void sb_ship_heard(struct standbyd *d, const struct hb_msg *msg, int was_alive)
{
	struct sb_ship *s = &d->ship;

	if (!was_alive || msg->boot_gen != s->peer_gen) {
		s->peer_gen = msg->boot_gen;
		s->shipped_seq = -1;
		s->newer_warned = 0;
	}
}

/* ---- receiver (standby node) ---- */

static void in_refuse(struct standbyd *d, const char *what)
{
	struct sb_ship *s = &d->ship;

	s->refused++;
	/* An unauthentic transfer on the HA link is something the admin must see, but a
	 * flood of them must not flood the events table. */
	if (s->refused <= 5 || s->refused % 100 == 0)
		sb_event(d, LOG_WARNING, "DB transfer from %s refused: %s (refused so far: %lu)",
			 d->cfg.peer, what, s->refused);
	else
		log_warn("DB transfer from %s refused: %s (refused so far: %lu)", d->cfg.peer, what,
			 s->refused);
	conn_close(&s->in, 0);
}

static void in_limit(struct ev_timer *t)
{
	struct sb_ship_conn *c = t->arg;

	in_refuse(c->d, "timed out");
}

/* Answers the sender and ends the transfer. */
static void in_reply(struct standbyd *d, int rc, int64_t seq)
{
	struct sb_ship_conn *c = &d->ship.in;
	const struct ha_key *k = ship_key(&d->cfg.keys, c->hdr[5]);
	struct ship_reply r = { .status = rc, .db_seq = seq };
	uint8_t out[SHIP_REPLY_LEN];

	memcpy(r.nonce, c->nonce, SHIP_NONCE_LEN);
	/* 64 bytes on a socket that has sent 16: the send buffer takes them at once. */
	if (k && ship_reply_encode(&r, k, out) == SHIP_REPLY_LEN &&
	    write(c->fd, out, SHIP_REPLY_LEN) != SHIP_REPLY_LEN)
		log_warn("DB shipping: could not answer %s: %s", d->cfg.peer, strerror(errno));
	conn_close(c, 0);
}

static void in_apply(struct standbyd *d)
{
	struct sb_ship *s = &d->ship;
	struct sb_ship_conn *c = &s->in;
	const struct ha_key *k;
	int64_t seq = -1;
	int rc;

	/* ship_hdr_decode accepted the header's key index: the trailer uses the same key. */
	k = ship_key(&d->cfg.keys, c->hdr[5]);
	if (!k || !ship_trailer_ok(k, c->hdr, c->payload, c->len, c->small)) {
		in_refuse(d, "payload MAC mismatch");
		return;
	}
	if (d->fsm.state == FSM_ACTIVE || d->fsm.state == FSM_TAKING_OVER) {
		/* Became active meanwhile: our tables (and connections) are the reference now. */
		log_warn("%s from %s not applied: this node is active", type_name(c->type),
			 d->cfg.peer);
		rc = -EPERM;
	} else if (c->type == SHIP_TYPE_CONNS) {
		rc = s->conns_received ? s->conns_received(d, c->payload, c->len, c->seq) :
					 -ENODEV;
		in_reply(d, rc, c->seq);
		return;
	} else if (!s->db_on) {
		log_limited(&s->rl_in, LOG_WARNING, "DB from %s not applied: no database here",
			    d->cfg.peer);
		rc = -ENODEV;
	} else {
		rc = ship_apply_start(&s->apply, d->db_path, c->payload, c->len);
		c->payload = NULL;	/* the worker's now, even on failure */
		if (rc == 0) {
			c->step = IN_APPLY;
			ev_io_del(d->loop, &c->io);	/* nothing more to read */
			ev_timer_arm(d->loop, &c->limit, SHIP_APPLY_MS);
			return;
		}
		log_warn("DB from %s not applied: cannot start the worker: %s", d->cfg.peer,
			 strerror(-rc));
	}
	if (d->db && db_change_seq(d->db, &seq))
		seq = -1;
	in_reply(d, rc, seq);
}

static void on_applied(struct ev_io *io, uint32_t events)
{
	struct standbyd *d = io->arg;
	struct sb_ship *s = &d->ship;
	struct ship_apply *a = &s->apply;

	(void)events;
	ship_apply_finish(a);
	s->last_apply_ms = a->ms;
	if (a->rc == 0) {
		s->received++;
		s->last_bytes = (unsigned long)a->len;
		d->db_seq = a->seq;
		log_info("DB change_seq %lld from %s applied: %zu bytes in %u ms",
			 (long long)a->seq, d->cfg.peer, a->len, a->ms);
	} else {
		log_warn("DB from %s not applied: %s", d->cfg.peer, a->err);
	}
	/* The sender may have given up meanwhile (time limit): then nobody waits. */
	if (s->in.fd >= 0 && s->in.step == IN_APPLY)
		in_reply(d, a->rc, a->seq);
}

static void in_io(struct ev_io *io, uint32_t events)
{
	struct sb_ship_conn *c = io->arg;
	struct standbyd *d = c->d;
	struct ship_hdr h;
	enum ship_err e;
	int rc;

	(void)events;
	switch (c->step) {
	case IN_HDR:
		rc = read_some(c, c->hdr, SHIP_HDR_LEN);
		if (rc < 0) {
			in_refuse(d, "closed before a whole header");
			return;
		}
		if (rc == 0)
			return;
		e = ship_hdr_decode(c->hdr, SHIP_HDR_LEN, &d->cfg.keys, c->nonce,
				    d->cfg.cf.cluster, d->cfg.peer, &h);
		if (e != SHIP_OK) {
			char what[48];

			snprintf(what, sizeof(what), "header %s", ship_err_name(e));
			in_refuse(d, what);
			return;
		}
		/* Authentic: now, and only now, room for the payload (capped by the decoder). */
		c->type = h.type;
		c->len = h.length;
		c->seq = h.db_seq;
		c->payload = malloc(c->len ? c->len : 1);
		if (!c->payload) {
			in_refuse(d, "out of memory");
			return;
		}
		c->step = IN_BODY;
		c->off = 0;
		ev_timer_arm(d->loop, &c->limit, SHIP_LIMIT_MS);
		__attribute__((fallthrough));
	case IN_BODY:
		rc = read_some(c, c->payload, c->len);
		if (rc < 0) {
			in_refuse(d, "closed before the whole payload");
			return;
		}
		if (rc == 0)
			return;
		c->step = IN_TRAILER;
		c->off = 0;
		__attribute__((fallthrough));
	case IN_TRAILER:
		rc = read_some(c, c->small, SHIP_MAC_LEN);
		if (rc < 0) {
			in_refuse(d, "closed before the trailer");
			return;
		}
		if (rc == 1)
			in_apply(d);
		return;
	}
}

static void on_accept(struct ev_io *io, uint32_t events)
{
	struct standbyd *d = io->arg;
	struct sb_ship *s = &d->ship;
	struct sb_ship_conn *c = &s->in;
	struct sockaddr_in from;
	socklen_t fl = sizeof(from);
	char ip[INET_ADDRSTRLEN];
	int fd;

	(void)events;
	fd = accept4(s->lfd, (struct sockaddr *)&from, &fl, SOCK_NONBLOCK | SOCK_CLOEXEC);
	if (fd < 0)
		return;
	ipv4_format(ntohl(from.sin_addr.s_addr), ip);
	if (ntohl(from.sin_addr.s_addr) != s->peer) {
		s->refused++;
		log_limited(&s->rl_in, LOG_WARNING,
			    "DB transfer from %s refused: not the peer's HA-link address", ip);
		close(fd);
		return;
	}
	/* One at a time; and an active node's tables are the reference, never overwritten. */
	if (c->fd >= 0 || s->apply.running || d->fsm.state == FSM_ACTIVE ||
	    d->fsm.state == FSM_TAKING_OVER) {
		log_limited(&s->rl_in, LOG_WARNING, "DB transfer from %s refused: %s", ip,
			    c->fd >= 0 || s->apply.running ? "one is running" : "this node is active");
		close(fd);
		return;
	}
	if (getrandom(c->nonce, SHIP_NONCE_LEN, GRND_NONBLOCK) != SHIP_NONCE_LEN ||
	    write(fd, c->nonce, SHIP_NONCE_LEN) != SHIP_NONCE_LEN ||
	    ev_io_add(d->loop, &c->io, fd, EPOLLIN, in_io, c)) {
		log_warn("DB transfer from %s: cannot send the challenge", ip);
		close(fd);
		return;
	}
	c->fd = fd;
	c->step = IN_HDR;
	c->off = 0;
	ev_timer_arm(d->loop, &c->limit, SHIP_AUTH_MS);
}

/* ---- setup ---- */

/* Our address on ifname in the peer's subnet (else the first one there). */
static int local_addr(const char *ifname, uint32_t peer, uint32_t *out)
{
	struct ifaddrs *ifa, *i;
	int found = 0;

	if (getifaddrs(&ifa) < 0)
		return -errno;
	for (i = ifa; i; i = i->ifa_next) {
		uint32_t a, m;

		if (!i->ifa_addr || i->ifa_addr->sa_family != AF_INET || strcmp(i->ifa_name, ifname))
			continue;
		a = ntohl(((struct sockaddr_in *)i->ifa_addr)->sin_addr.s_addr);
		m = i->ifa_netmask ? ntohl(((struct sockaddr_in *)i->ifa_netmask)->sin_addr.s_addr)
		    : 0;
		if (!found || (a & m) == (peer & m)) {
			*out = a;
			found = 1 + ((a & m) == (peer & m));
			if (found == 2)
				break;
		}
	}
	freeifaddrs(ifa);
	return found ? 0 : -EADDRNOTAVAIL;
}

void sb_ship_init(struct standbyd *d)
{
	struct sb_ship *s = &d->ship;

	s->lfd = -1;
	s->out.fd = s->in.fd = -1;
	s->out.d = s->in.d = d;
	s->shipped_seq = -1;
	s->rl_out = (struct log_ratelimit)LOG_RATELIMIT_INIT(10);
	s->rl_in = (struct log_ratelimit)LOG_RATELIMIT_INIT(10);
	ev_timer_init(&s->out.limit, out_limit, &s->out);
	ev_timer_init(&s->in.limit, in_limit, &s->in);
	ev_timer_init(&s->t_poll, on_poll, d);
	s->apply.pipe[0] = s->apply.pipe[1] = -1;
}

int sb_ship_open(struct standbyd *d)
{
	struct sb_ship *s = &d->ship;
	struct sockaddr_in sa = { .sin_family = AF_INET, .sin_port = htons(d->cfg.cf.udpport) };
	char ip[INET_ADDRSTRLEN];
	unsigned i;
	int one = 1, rc, db_on = d->db && d->db_path;

	if (!db_on)
		log_notice("DB shipping off: no database");
	if (!db_on && !d->tickle.on)
		return 0;
	if (!ship_key(&d->cfg.keys, d->cfg.keys.ship)) {
		sb_event(d, LOG_WARNING, "DB shipping and connection lists off: authkeys has no "
			 "'ship N' line (they need a key of their own, not the heartbeats')");
		return 0;
	}
	for (i = 0; i < d->links.n && d->links.link[i].cfg.kind != HA_LINK_UCAST; i++)
		;
	if (i == d->links.n) {
		log_notice("DB shipping and connection lists off: no ucast (HA) link in ha.cf");
		return 0;
	}
	s->peer = d->links.link[i].cfg.addr;
	snprintf(s->ifname, sizeof(s->ifname), "%s", d->links.link[i].cfg.ifname);
	rc = local_addr(s->ifname, s->peer, &s->local);
	if (rc) {
		sb_event(d, LOG_WARNING, "DB shipping and connection lists off: no IPv4 address "
			 "on %s", s->ifname);
		return 0;
	}
	if (db_on) {
		rc = ship_apply_init(&s->apply);
		if (!rc)
			rc = ev_io_add(d->loop, &s->apply_io, s->apply.pipe[0], EPOLLIN, on_applied,
				       d);
		if (rc)
			return rc;
	}
	s->lfd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (s->lfd < 0)
		return -errno;
	sa.sin_addr.s_addr = htonl(s->local);
	ipv4_format(s->local, ip);
	if (setsockopt(s->lfd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) < 0 ||
	    bind(s->lfd, (struct sockaddr *)&sa, sizeof(sa)) < 0 || listen(s->lfd, 4) < 0) {
		rc = -errno;
		log_err("DB shipping: cannot listen on %s TCP %u: %s", ip, d->cfg.cf.udpport,
			strerror(-rc));
		goto out_close;
	}
	rc = ev_io_add(d->loop, &s->lio, s->lfd, EPOLLIN, on_accept, d);
	if (rc)
		goto out_close;
	s->enabled = 1;
	s->db_on = db_on;
	ev_timer_arm(d->loop, &s->t_poll, SHIP_POLL_MS);
	log_info("HA-link transfers (%s%s%s) on %s TCP %u (%s)", db_on ? "DB" : "",
		 db_on && d->tickle.on ? ", " : "", d->tickle.on ? "connection lists" : "", ip,
		 d->cfg.cf.udpport, s->ifname);
	return 0;

out_close:
	close(s->lfd);
	s->lfd = -1;
	return rc;
}

void sb_ship_close(struct standbyd *d)
{
	struct sb_ship *s = &d->ship;

	conn_close(&s->out, 1);
	conn_close(&s->in, 0);
	ev_timer_cancel(d->loop, &s->t_poll);
	if (s->apply.pipe[0] >= 0)
		ev_io_del(d->loop, &s->apply_io);
	ship_apply_close(&s->apply);
	if (s->lfd >= 0) {
		ev_io_del(d->loop, &s->lio);
		close(s->lfd);
		s->lfd = -1;
	}
	s->enabled = 0;
	s->db_on = 0;
}

void sb_ship_status(const struct standbyd *d, json_t *answer)
{
	const struct sb_ship *s = &d->ship;

	if (!s->db_on) {
		ctl_set(answer, "db_ship", json_pack("{s:s}", "state", "off"));
		return;
	}
	ctl_set(answer, "db_ship", json_pack("{s:s,s:I,s:I,s:I,s:I}", "state", "on",
					     "sent", (json_int_t)s->sent,
					     "send_failed", (json_int_t)s->send_failed,
					     "received", (json_int_t)s->received,
					     "refused", (json_int_t)s->refused));
	ctl_set(answer, "db_ship_last", json_pack("{s:I,s:I,s:I,s:I}",
						  "bytes", (json_int_t)s->last_bytes,
						  "snapshot_ms", (json_int_t)s->last_snapshot_ms,
						  "total_ms", (json_int_t)s->last_total_ms,
						  "apply_ms", (json_int_t)s->last_apply_ms));
}
