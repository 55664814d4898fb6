/* Tickle ACKs in the daemon (ha.cf `tickle_acks on`, the default): the active node collects
 * the clients' established connections to the service addresses (tcpdiag.h) every
 * TICKLE_SCAN_MS and, when the list changed, ships it to the standby peer over the HA-link
 * transfer channel (dbship.h, type SHIP_TYPE_CONNS). The standby keeps the latest list. When
 * it takes over, right after the first service address is up and the gratuitous ARPs are
 * out, it sends every listed client a tickle ACK (tcpack.h), in TICKLE_ROUNDS rounds, so
 * the client's connection to the dead server ends at once and its initiator logs in again.
 *
 * Failure modes: no list shipped yet (the peer died before its first one) tickles nothing,
 * which is how it was before; the list is up to TICKLE_SCAN_MS plus a transfer old, and a
 * connection opened since is not tickled (its client finds out through its retransmission,
 * as before). */
#ifndef STANDBY_TICKLE_H
#define STANDBY_TICKLE_H

#include <jansson.h>
#include <stdint.h>

#include "common/evloop.h"
#include "common/log.h"
#include "standby/config.h"
#include "standby/connlist.h"

#define TICKLE_SCAN_MS	1000	/* how often the active node reads its connections */
#define TICKLE_TICK_MS	100	/* how often it looks whether a list waits to be shipped */
/* After a failed list transfer. Longer than the DB's retry (SHIP_RETRY_MS), so a peer that
 * keeps refusing lists (an older standbyd) cannot keep the channel from the DB. */
#define TICKLE_RETRY_MS	3000

struct standbyd;

struct sb_tickle {
	int on;				/* tickle_acks on and a service address configured */
	int rawfd;			/* IPPROTO_RAW, -1 when off */
	uint32_t addrs[HA_MAX_RES];	/* every IPaddr resource's address, host order */
	unsigned naddrs;
	struct ev_timer t_tick, t_round;
	/* active node */
	struct conn_list mine;		/* last collected */
	int mine_valid;
	struct conn_list shipped;	/* what the peer confirmed holding */
	int shipped_valid;
	int inflight;			/* a transfer of `mine` is under way */
	uint64_t peer_gen;		/* the peer `shipped` is about */
	uint64_t next_scan_ms, retry_at_ms, seq;
	/* standby node, then the new active one */
	struct conn_list held;		/* the peer's latest list */
	int held_valid;
	uint64_t held_at_ms;		/* monotonic */
	unsigned round;
	struct log_ratelimit rl;
	/* figures for status */
	unsigned long scans, scan_failed, lists_sent, lists_received, tickles_sent, send_errors;
	unsigned last_tickled;
};

void sb_tickle_init(struct standbyd *d);
/* Privileged setup: the raw socket, when tickle_acks is on and haresources has an IPaddr.
 * Returns 0 or a negative errno (logged). */
int sb_tickle_open(struct standbyd *d);
void sb_tickle_close(struct standbyd *d);
/* A service address just came up while taking over (after its gratuitous ARPs): the first
 * round of tickles for the held list, more to follow. */
void sb_tickle_takeover(struct standbyd *d);
/* Through d->ship.conns_shipped: a list transfer ended (ok: the peer holds it now). */
void sb_tickle_shipped(struct standbyd *d, int ok);
/* Through d->ship.conns_received: the peer's authenticated list (payload bytes). Returns 0
 * or -EBADMSG. */
int sb_tickle_received(struct standbyd *d, const uint8_t *payload, size_t len, int64_t seq);
/* status: "tickle_acks", {"state":"off"} or {"state":"on","connections","lists_sent",
 * "lists_received","held","scans","scan_failed" (integers),"peer_current" (boolean: the peer
 * holds our latest list)}, and when on "tickle_last" {"tickled","sent","send_errors"}. */
void sb_tickle_status(const struct standbyd *d, json_t *answer);

#endif
