/* Tickle ACKs in the daemon: collecting and shipping on the active node, keeping the list on
 * the standby, sending the tickles when it takes over. */
#include "standby/tickle.h"

#include <errno.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "common/netaddr.h"
#include "standby/daemon.h"
#include "standby/tcpack.h"
#include "standby/tcpdiag.h"

/* When the rounds go out, in ms after the address came up. Linux answers segments outside
 * the window at most once per 500 ms per connection (net.ipv4.tcp_invalid_ratelimit): the
 * round at 150 ms stands in for a tickle lost on its way, those at 600 and 1200 ms, each
 * past that limit, for a lost answer or RST (the client still on the old MAC, say). A lab
 * run with rounds at 0, 150 and 1000 ms stalled a client 1510 ms once in 8 failovers
 * (460-500 ms the others), as a lost first answer with the 1000 ms round answered would. */
static const unsigned tickle_delays[] = { 0, 150, 600, 1200 };
#define TICKLE_ROUNDS (sizeof(tickle_delays) / sizeof(tickle_delays[0]))

/* Tickles queue behind the ARP resolution of each client; the default send buffer (about
 * 200 KiB of skbs of ~1 KiB each) would refuse a round for a few hundred clients. */
#define TICKLE_SNDBUF	(4 << 20)

/* Only the active node ships, and only to a peer that may take over from it. */
static int may_ship(const struct standbyd *d)
{
	return d->fsm.state == FSM_ACTIVE && d->fsm.peer == FSM_PEER_ALIVE &&
	       (d->fsm.peer_state == FSM_STANDBY || d->fsm.peer_state == FSM_MAINTENANCE);
}

static void scan(struct standbyd *d)
{
	struct sb_tickle *tk = &d->tickle;
	int rc = tcpdiag_collect(tk->addrs, tk->naddrs, &tk->mine);

	tk->scans++;
	if (rc) {
		tk->scan_failed++;
		tk->mine_valid = 0;
		log_limited(&tk->rl, LOG_WARNING, "tickle ACKs: cannot read the TCP connections: %s",
			    strerror(-rc));
		return;
	}
	if (tk->mine.dropped)
		log_limited(&tk->rl, LOG_WARNING, "tickle ACKs: %u connections over the %u the "
			    "list holds are left out", tk->mine.dropped, CONN_LIST_MAX);
	conn_list_finish(&tk->mine);
	tk->mine_valid = 1;
}

static void on_tick(struct ev_timer *t)
{
	struct standbyd *d = t->arg;
	struct sb_tickle *tk = &d->tickle;
	uint64_t now = ev_now_ms();

	ev_timer_arm(d->loop, &tk->t_tick, TICKLE_TICK_MS);
	if (!may_ship(d)) {
		/* Whatever the peer held may be gone by the time it stands by again. */
		tk->shipped_valid = 0;
		tk->mine_valid = 0;
		return;
	}
	if (d->peer_msg.boot_gen != tk->peer_gen) {
		tk->peer_gen = d->peer_msg.boot_gen;
		tk->shipped_valid = 0;
	}
	if (tk->inflight || now < tk->retry_at_ms)
		return;
	if (now >= tk->next_scan_ms) {
		tk->next_scan_ms = now + TICKLE_SCAN_MS;
		scan(d);
	}
	if (!tk->mine_valid || (tk->shipped_valid && conn_list_equal(&tk->mine, &tk->shipped)))
		return;
	/* Busy with a DB transfer or waiting after a failed one: the next tick tries again. */
	if (sb_ship_send_conns(d, &tk->mine, (int64_t)tk->seq + 1) == 0) {
		tk->seq++;
		tk->inflight = 1;
	}
}

void sb_tickle_shipped(struct standbyd *d, int ok)
{
	struct sb_tickle *tk = &d->tickle;

	tk->inflight = 0;
	if (!ok) {
		tk->retry_at_ms = ev_now_ms() + TICKLE_RETRY_MS;
		return;
	}
	/* No scan runs while a transfer is under way: mine is what was sent. */
	tk->shipped = tk->mine;
	tk->shipped_valid = 1;
	tk->lists_sent++;
	log_debug("tickle ACKs: list %llu of %u connections shipped to %s",
		  (unsigned long long)tk->seq, tk->mine.n, d->cfg.peer);
}

int sb_tickle_received(struct standbyd *d, const uint8_t *payload, size_t len, int64_t seq)
{
	struct sb_tickle *tk = &d->tickle;
	struct conn_list l;

	if (conn_list_decode(&l, payload, len, tk->addrs, tk->naddrs)) {
		log_limited(&tk->rl, LOG_WARNING, "tickle ACKs: list %lld from %s refused: "
			    "malformed or not our service addresses", (long long)seq, d->cfg.peer);
		return -EBADMSG;
	}
	tk->held = l;
	tk->held_valid = 1;
	tk->held_at_ms = ev_now_ms();
	tk->lists_received++;
	log_debug("tickle ACKs: list %lld of %u connections from %s", (long long)seq, l.n,
		  d->cfg.peer);
	return 0;
}

static void send_round(struct standbyd *d)
{
	struct sb_tickle *tk = &d->tickle;
	unsigned i;

	for (i = 0; i < tk->held.n; i++) {
		int rc = privop_tickle(&d->priv, &tk->held.c[i]);

		if (rc) {
			tk->send_errors++;
			log_limited(&tk->rl, LOG_WARNING, "tickle ACKs: cannot send: %s",
				    strerror(-rc));
		} else {
			tk->tickles_sent++;
		}
	}
}

static void on_round(struct ev_timer *t)
{
	struct standbyd *d = t->arg;
	struct sb_tickle *tk = &d->tickle;

	/* Given up again within the rounds: the addresses are no longer ours to speak for. */
	if (d->fsm.state != FSM_TAKING_OVER && d->fsm.state != FSM_ACTIVE) {
		tk->held_valid = 0;
		return;
	}
	send_round(d);
	if (++tk->round < TICKLE_ROUNDS) {
		ev_timer_arm(d->loop, &tk->t_round,
			     tickle_delays[tk->round] - tickle_delays[tk->round - 1]);
		return;
	}
	/* Spent: from now on this node is the one that collects. */
	tk->held_valid = 0;
}

/* Each connection about to be tickled, at debug level (300 clients are 300 lines): what the
 * QEMU lab's timeline compares with the connection a client held when the power went. */
static void log_tickled(const struct conn_list *l)
{
	char la[INET_ADDRSTRLEN], ra[INET_ADDRSTRLEN];
	unsigned i;

	for (i = 0; i < l->n; i++) {
		ipv4_format(l->c[i].raddr, ra);
		ipv4_format(l->c[i].laddr, la);
		log_debug("tickle ACKs: to %s:%u from %s:%u", ra, l->c[i].rport, la, l->c[i].lport);
	}
}

void sb_tickle_takeover(struct standbyd *d)
{
	struct sb_tickle *tk = &d->tickle;

	if (!tk->on || ev_timer_armed(&tk->t_round))
		return;
	if (!tk->held_valid) {
		log_notice("tickle ACKs: no connection list from %s%s: nothing to tickle",
			   d->cfg.peer, tk->lists_received ? ""
			   : " (none received since this standbyd started)");
		tk->last_tickled = 0;
		return;
	}
	tk->last_tickled = tk->held.n;
	log_notice("tickle ACKs: %u connection%s tickled (list from %s, %llu ms old)",
		   tk->held.n, tk->held.n == 1 ? "" : "s", d->cfg.peer,
		   (unsigned long long)(ev_now_ms() - tk->held_at_ms));
	tk->round = 0;
	on_round(&tk->t_round);
	/* after the first round, the lines must not delay it; and only if it went out */
	if (ev_timer_armed(&tk->t_round))
		log_tickled(&tk->held);
}

void sb_tickle_init(struct standbyd *d)
{
	struct sb_tickle *tk = &d->tickle;

	tk->rawfd = -1;
	tk->rl = (struct log_ratelimit)LOG_RATELIMIT_INIT(5);
	ev_timer_init(&tk->t_tick, on_tick, d);
	ev_timer_init(&tk->t_round, on_round, d);
	/* the lists travel on the HA-link channel, which hands their ends back here */
	d->ship.conns_shipped = sb_tickle_shipped;
	d->ship.conns_received = sb_tickle_received;
}

int sb_tickle_open(struct standbyd *d)
{
	struct sb_tickle *tk = &d->tickle;
	int size = TICKLE_SNDBUF;
	unsigned i;

	for (i = 0; i < d->cfg.res.nres; i++)
		if (d->cfg.res.res[i].kind == HA_RES_IPADDR)
			tk->addrs[tk->naddrs++] = d->cfg.res.res[i].addr;
	if (!d->cfg.cf.tickle_acks || !tk->naddrs) {
		log_info("tickle ACKs off: %s", tk->naddrs ? "tickle_acks off in ha.cf"
			 : "no IPaddr resource");
		return 0;
	}
	tk->rawfd = tcpack_open();
	if (tk->rawfd < 0) {
		log_err("tickle ACKs: raw socket: %s (set tickle_acks off to run without)",
			strerror(-tk->rawfd));
		return tk->rawfd;
	}
	/* FORCE lets root pass net.core.wmem_max; a smaller buffer only risks a big round. */
	if (setsockopt(tk->rawfd, SOL_SOCKET, SO_SNDBUFFORCE, &size, sizeof(size)) < 0)
		setsockopt(tk->rawfd, SOL_SOCKET, SO_SNDBUF, &size, sizeof(size));
	tk->on = 1;
	ev_timer_arm(d->loop, &tk->t_tick, TICKLE_TICK_MS);
	return 0;
}

void sb_tickle_close(struct standbyd *d)
{
	struct sb_tickle *tk = &d->tickle;

	ev_timer_cancel(d->loop, &tk->t_tick);
	ev_timer_cancel(d->loop, &tk->t_round);
	if (tk->rawfd >= 0)
		close(tk->rawfd);
	tk->rawfd = -1;
	tk->on = 0;
}

/* Whether the peer holds what this node's last scan found: every connection that scan saw
 * would be tickled if the peer took over now. */
static int peer_current(const struct sb_tickle *tk)
{
	return tk->mine_valid && tk->shipped_valid && !tk->inflight &&
	       conn_list_equal(&tk->mine, &tk->shipped);
}

void sb_tickle_status(const struct standbyd *d, json_t *answer)
{
	const struct sb_tickle *tk = &d->tickle;

	if (!tk->on) {
		ctl_set(answer, "tickle_acks", json_pack("{s:s}", "state", "off"));
		return;
	}
	ctl_set(answer, "tickle_acks", json_pack("{s:s,s:I,s:I,s:I,s:I,s:I,s:I,s:b}",
		"state", "on", "connections", (json_int_t)(tk->mine_valid ? tk->mine.n : 0),
		"lists_sent", (json_int_t)tk->lists_sent,
		"lists_received", (json_int_t)tk->lists_received,
		"held", (json_int_t)(tk->held_valid ? tk->held.n : 0),
		"scans", (json_int_t)tk->scans, "scan_failed", (json_int_t)tk->scan_failed,
		"peer_current", peer_current(tk)));
	ctl_set(answer, "tickle_last", json_pack("{s:I,s:I,s:I}",
		"tickled", (json_int_t)tk->last_tickled, "sent", (json_int_t)tk->tickles_sent,
		"send_errors", (json_int_t)tk->send_errors));
}
