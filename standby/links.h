/* Heartbeat links: one UDP socket per configured link, bound to its interface so a packet
 * tells which link carried it, all on udpport. Packets are read and their MAC checked by the
 * unprivileged receiver (hbrx.h); what it passes up is decoded again here and checked
 * against who we are and the replay window, then reported through the hooks. A receiver
 * that dies, breaks the protocol or says nothing for HBRX_STALL_MS is replaced. */
#ifndef STANDBY_LINKS_H
#define STANDBY_LINKS_H

#include <netinet/in.h>
#include <stddef.h>
#include <stdint.h>

#include "common/evloop.h"
#include "standby/config.h"
#include "standby/hbpkt.h"
#include "standby/hbrx.h"
#include "standby/privop.h"

/* Records read from the receiver per loop round: a flood must not keep the loop from its
 * timers (our own heartbeats, deadtime). What is left is read in the next round. */
#define SB_RX_BATCH 16
/* How soon a receiver that died is started again: well inside any deadtime, so the peer is
 * not taken for dead meanwhile, and no faster than ten a second if it keeps dying. One that
 * cannot be started is tried again twice as late each time, up to SB_RX_RETRY_MAX_MS. */
#define SB_RX_RESTART_MS 100
#define SB_RX_RETRY_MAX_MS 5000

struct sb_link {
	struct ha_link cfg;
	int fd;
	struct sockaddr_in dst;
	uint64_t last_rx_ms;		/* monotonic; 0 = never */
	unsigned long rx, tx, tx_err;
};

struct sb_links;

/* What the links report: an authenticated, accepted heartbeat; count packets dropped for why
 * (not HB_DROP_SELF or HB_DROP_DUP, which are normal). */
struct sb_links_hooks {
	void (*heard)(void *arg, struct sb_link *l, const struct hb_msg *msg);
	void (*dropped)(void *arg, struct sb_link *l, enum hb_drop why, unsigned long count);
};

struct sb_links {
	struct sb_link link[HA_MAX_LINKS];
	unsigned n;
	const struct ha_config *cfg;
	struct evloop *loop;
	const struct sb_links_hooks *hooks;
	void *arg;
	struct hb_window win;		/* the peer's replay window; win.gen its boot generation */
	struct hbrx rx;
	struct ev_io rx_io;
	struct ev_timer t_restart, t_stall;
	unsigned retry_ms;		/* the next start's delay */
	unsigned long rx_restarts;	/* receivers started again after one was lost */
	struct privop *priv;		/* starts and stops receivers; NULL: we do */
};

/* Opens the links cfg lists (all but a ucast line naming a local address). cfg must outlive
 * the links. Returns 0 or a negative errno (logged). */
int sb_links_open(struct sb_links *ls, struct evloop *loop, const struct ha_config *cfg,
		  const struct sb_links_hooks *hooks, void *arg);
/* Starts the receiver, and every one that replaces it, through priv (the privileged helper,
 * which holds the links' sockets too), or ourselves when priv is NULL (as root). Returns 0
 * or a negative errno (logged); sb_links_close still closes the links. */
int sb_links_start(struct sb_links *ls, struct privop *priv);
void sb_links_close(struct sb_links *ls);
/* Sends pkt on every link. */
void sb_links_send(struct sb_links *ls, const uint8_t *pkt, size_t len);

#endif
