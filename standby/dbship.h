/* DB shipping between the two standbyds (wire format: shippkt.h). The same channel carries
 * the active node's list of clients' connections for tickle ACKs (tickle.h), with or without
 * a database. The active node watches
 * its DB's change_seq and, when it moved or the peer's heartbeats show another one, sends a
 * snapshot to the standby peer over TCP between the two HA-link (ucast) addresses, port
 * udpport. The standby applies it atomically (db_ship_apply). Only the active node sends and
 * only a node that is not active accepts, so the standby never ships back.
 *
 * Every socket is non-blocking in the daemon's loop, each transfer has a time limit, and one
 * runs at a time in each direction: heartbeats keep flowing whatever the peer does. The
 * apply runs in a worker thread (shipapply.h); the snapshot on the sender is the only
 * synchronous step (measured: 16-28 ms for 20000 clients). Status shows the figures. */
#ifndef STANDBY_DBSHIP_H
#define STANDBY_DBSHIP_H

#include <jansson.h>
#include <net/if.h>
#include <stdint.h>

#include "common/evloop.h"
#include "common/log.h"
#include "standby/shipapply.h"
#include "standby/shippkt.h"

#define SHIP_POLL_MS	100	/* how often the active node looks at its change_seq */
#define SHIP_LIMIT_MS	10000	/* one whole transfer */
#define SHIP_AUTH_MS	2000	/* a receiver waits this long for an authentic header */
#define SHIP_RETRY_MS	1000	/* after a failed transfer */
#define SHIP_APPLY_MS	30000	/* a receiver waits this long for its apply worker */

struct standbyd;
struct hb_msg;

struct sb_ship_conn {
	struct standbyd *d;
	int fd;				/* -1 when idle */
	int step;
	uint8_t type;			/* enum ship_type of the transfer */
	struct ev_io io;
	struct ev_timer limit;
	uint8_t nonce[SHIP_NONCE_LEN];
	uint8_t hdr[SHIP_HDR_LEN];
	uint8_t small[SHIP_REPLY_LEN];	/* challenge, trailer or reply being moved */
	unsigned char *payload;		/* sender: the snapshot (DB) or malloc'd list; receiver:
					 * malloc'd after auth */
	size_t len;			/* payload bytes */
	size_t off;			/* progress within the step */
	int64_t seq;			/* change_seq of the payload */
	uint64_t started_us;	/* monotonic, for the figures */
};

struct sb_ship {
	int enabled;			/* the channel: listening, may send */
	int db_on;			/* DB snapshots too (a database is open) */
	uint32_t local, peer;		/* HA-link addresses, host order */
	char ifname[IF_NAMESIZE];
	int lfd;
	struct ev_io lio;
	struct ev_timer t_poll;
	struct sb_ship_conn out, in;
	struct ship_apply apply;
	struct ev_io apply_io;
	int64_t shipped_seq;		/* the peer confirmed it holds this; -1 unknown */
	uint64_t peer_gen;		/* peer's boot generation shipped_seq is about */
	int newer_warned;		/* said once per peer arrival that its DB was ahead */
	uint64_t out_end_ms, retry_at_ms;
	struct log_ratelimit rl_out, rl_in;	/* a peer away fails every retry */
	/* figures for status */
	unsigned long sent, send_failed, received, refused;
	unsigned long last_bytes;
	unsigned last_snapshot_ms, last_apply_ms, last_total_ms;
	/* Where connection-list transfers end (tickle.c sets them; NULL: none is taken): one
	 * of ours done (ok: the peer holds it), and the peer's list received (0 or -EBADMSG). */
	void (*conns_shipped)(struct standbyd *d, int ok);
	int (*conns_received)(struct standbyd *d, const uint8_t *payload, size_t len,
			      int64_t seq);
};

/* Sets the idle state; before anything else, so sb_ship_close is always safe. */
void sb_ship_init(struct standbyd *d);
/* Finds the HA link, listens on it and starts watching the DB. The channel stays off (logged)
 * without a ucast link or an HMAC key, DB shipping without a database, the whole channel
 * with neither a database nor tickle ACKs; that is no error. Returns 0 or a negative errno
 * (a socket that cannot be opened). */
int sb_ship_open(struct standbyd *d);
void sb_ship_close(struct standbyd *d);
/* Every accepted heartbeat: a restarted or returning peer needs the DB again. */
void sb_ship_heard(struct standbyd *d, const struct hb_msg *msg, int was_alive);
/* status: "db_ship", {"state":"off"} or {"state":"on","sent","send_failed","received",
 * "refused"} (counters), and when on "db_ship_last" {"bytes","snapshot_ms","total_ms",
 * "apply_ms"}: the last transfer. */
void sb_ship_status(const struct standbyd *d, json_t *answer);
/* Starts sending the connection list l (copied) as transfer seq; the end is reported to
 * conns_shipped. Returns 0, -EAGAIN when the channel is off, busy or waiting after a
 * failure, or another negative errno (no memory, no socket: counted and logged). */
int sb_ship_send_conns(struct standbyd *d, const struct conn_list *l, int64_t seq);

#endif
