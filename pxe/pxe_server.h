/* The DHCP / proxyDHCP server: sockets, the batch of packets read in one go, and what has to
 * happen before any reply of that batch leaves (leases file rewritten, boots recorded in the
 * DB, overlays reset), so an ACK is never ahead of the state it promises.
 *
 * Split in three files: pxe_server.c (sockets, batches, status), pxe_answer.c (what each
 * message gets, RFC 2131 4.3), pxe_clients.c (who the client is: DB, auto-registration,
 * hot-standby redirection, events). */
#ifndef PXE_PXE_SERVER_H
#define PXE_PXE_SERVER_H

#include <netinet/in.h>
#include <stdint.h>
#include <stdio.h>
#include <time.h>

#include <jansson.h>

#include "common/evloop.h"
#include "common/log.h"
#include "db/db.h"
#include "pxe/bindings.h"
#include "pxe/dhcp_pkt.h"
#include "pxe/leases.h"
#include "pxe/pxe_class.h"
#include "pxe/pxe_conf.h"
#include "pxe/redirect.h"

#define PXE_BATCH      64	/* packets read, and replies held, per round */
#define PXE_SEEN_SLOTS 1024	/* clients remembered for boot and event de-duplication */
#define PXE_PROXY_PORT 4011
#define PXE_EVENT_REPEAT_S 60	/* the same event for the same client at most this often */
/* Auto-registration caps (DB settings) and their defaults. */
#define PXE_AUTOREG_PER_MINUTE 10	/* auto_register_per_minute */
#define PXE_AUTOREG_MAX        50	/* auto_register_max: auto-registered clients in the DB */
#define PXE_AUTOREG_EVENT_S    60	/* a cap's event at most this often */

struct pxe_counters {
	uint64_t received, sent, send_errors;
	uint64_t malformed;			/* sum of bad[] */
	uint64_t bad[DHCP_E_COUNT];
	uint64_t by_type[DHCPINFORM + 1];	/* received, per message type */
	uint64_t replies[DHCPINFORM + 1];	/* sent, per message type */
	uint64_t unknown, refused, takeovers, auto_registered, pool_exhausted;
	uint64_t no_boot_file, ignored, db_errors, script_errors, boots, overlay_resets;
	uint64_t wrong_subnet;
	uint64_t autoreg_refused_rate, autoreg_refused_total;	/* over a cap: not registered */
};

enum pxe_sock { PXE_SOCK_DHCP, PXE_SOCK_PROXY };

struct pxe_outgoing {
	enum pxe_sock sock;
	struct sockaddr_in to;
	uint8_t arp_mac[6];		/* unicast to a client without an address: ARP entry */
	int set_arp;
	size_t len;
	uint8_t buf[DHCP_REPLY_MAX];
};

struct pxe_seen {
	uint8_t mac[6];
	uint8_t used;
	unsigned event_hash;		/* of the last event's text */
	uint32_t boot_xid;		/* the boot transaction last recorded */
	int has_boot;
	time_t event_time;
};

struct pxe_boot {
	int64_t id;
	char name[DB_NAME_MAX];
	int reset;			/* overlay restore: tell vdiskd */
};

struct pxe_server {
	const struct pxe_conf *conf;
	struct evloop *loop;
	struct db *db;
	int ifindex;
	uint32_t server_id;
	struct ev_io io[2];		/* by enum pxe_sock; fd -1 when not open */
	struct lease_table leases;

	/* Static reservations (clients' ip fields), reloaded when the DB's data version moves. */
	uint32_t *reserved;
	size_t nreserved;
	int64_t reserved_seq;
	int reserved_loaded;

	/* standbyd's status, asked at most once a second. */
	struct standby_status sb;
	int sb_ok;
	uint64_t sb_ms;

	/* Auto-registration caps: registrations in the current minute, and whether the total
	 * was full at data version autoreg_full_seq (rechecked only when the DB changes). */
	time_t autoreg_window;
	unsigned autoreg_in_window;
	int autoreg_full;
	int64_t autoreg_full_seq;
	time_t autoreg_rate_event, autoreg_total_event;
	uint64_t autoreg_refused_since_event;

	struct pxe_seen seen[PXE_SEEN_SLOTS];
	struct pxe_counters c;
	/* The address each client's last ACK gave it: where its script may be fetched from. */
	struct pxe_bindings bindings;

	struct pxe_outgoing out[PXE_BATCH];
	unsigned nout;
	struct pxe_boot boots[PXE_BATCH];
	unsigned nboots;

	struct log_ratelimit rl_bad, rl_unknown, rl_pool, rl_db, rl_refuse, rl_send, rl_vdiskd;
};

/* Sets up everything but the sockets (leases loaded from the state dir). db is borrowed.
 * Returns 0 or a negative errno, logged. */
int pxe_server_init(struct pxe_server *s, const struct pxe_conf *conf, struct db *db,
		    struct evloop *loop);
/* Opens the sockets on the configured interface (port 67; 4011 too in proxy mode) and adds
 * them to the loop. Returns 0 or a negative errno, logged. */
int pxe_server_listen(struct pxe_server *s);
void pxe_server_close(struct pxe_server *s);

/* One received datagram: parse, decide, queue the reply. port: the local port it came to
 * (67 or 4011); from: its source. */
void pxe_server_packet(struct pxe_server *s, const uint8_t *buf, size_t len, int port,
		       const struct sockaddr_in *from);
/* Makes the batch's state durable (leases file, boots, overlay resets), then sends the
 * queued replies (or drops them when s has no sockets: unit tests read s->out first). */
void pxe_server_flush(struct pxe_server *s);

/* The control socket's answers (common/ctlsock.h: ctl_set on answer, an error on failure).
 * pxe_server_status: `status`'s members: mode, addresses, node, lease counts, counters.
 * pxe_server_leases: `leases`'s "lease", an array of
 * {"address","mac","state":"offered"|"bound"|"declined","expires": seconds left}. */
void pxe_server_status(struct pxe_server *s, json_t *answer);
void pxe_server_leases(struct pxe_server *s, json_t *answer);

/* pxe_clients.c: the client a request is from, or a negative errno when it gets silence
 * (unknown, disabled, another server's, DB trouble), counted and logged there. */
int pxe_client_lookup(struct pxe_server *s, const struct dhcp_msg *m,
		      const struct pxe_class *cls, struct db_client *out);
/* Records a PXE ROM boot once per boot transaction: last_boot, and an overlay reset for a
 * client in restore mode, both done at the next flush. */
void pxe_client_booted(struct pxe_server *s, const struct dhcp_msg *m,
		       const struct db_client *c);
/* Logs and adds an event to the DB, unless the same text was added for this MAC within
 * PXE_EVENT_REPEAT_S. */
__attribute__((format(printf, 4, 5)))
void pxe_client_event(struct pxe_server *s, const uint8_t mac[6], const char *level,
		      const char *fmt, ...);
/* Whether ip is some client's static reservation (refreshing the cache when needed). */
int pxe_reserved(struct pxe_server *s, uint32_t ip);
void pxe_reserved_refresh(struct pxe_server *s);

#endif
