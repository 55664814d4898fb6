/* pxed's HTTP server for the per-client iPXE scripts, which carry each client's CHAP
 * secrets: a script is answered only to a request from the address pxed's last ACK gave
 * that client (pxe/bindings.h), and only if the kernel's neighbour entry for that address is
 * the client's MAC. Everyone else gets 403 and nothing of the script. libmicrohttpd parses
 * HTTP; it runs in pxed's own loop (its epoll fd in ours, MHD_run when it is readable), so
 * the DB is used from one thread.
 *
 * Limits for a hostile LAN: 64 connections, 4 per address, 10 s idle timeout, 16 KiB of
 * memory per connection, GET and HEAD only. */
#ifndef PXE_HTTP_SCRIPTS_H
#define PXE_HTTP_SCRIPTS_H

#include <stdint.h>
#include <stdio.h>
#include <time.h>

#include <jansson.h>

#include "common/evloop.h"
#include "common/log.h"
#include "pxe/bindings.h"

struct pxe_server;
struct MHD_Daemon;

enum script_verdict {
	SCRIPT_SERVE,
	SCRIPT_BAD_PATH,	/* not /ipxe/<mac>.ipxe */
	SCRIPT_NO_BINDING,	/* pxed gave that MAC no address (lately) */
	SCRIPT_WRONG_ADDRESS,	/* asked from another address than the client's */
	SCRIPT_WRONG_NEIGHBOR,	/* from the client's address, but another MAC holds it */
};

/* Whether the request for path from peer (host order) gets its script. neigh: the MAC the
 * kernel's neighbour table holds for peer, NULL when it has none (refused). On
 * SCRIPT_SERVE, mac is the client's. Pure: no I/O. */
enum script_verdict script_access(const char *path, uint32_t peer, const uint8_t *neigh,
				  const struct pxe_bindings *b, time_t now, uint8_t mac[6]);
const char *script_verdict_name(enum script_verdict v);

struct pxe_http_counters {
	uint64_t requests, served, bad_method, not_found, refused_binding, refused_address,
		 refused_neighbor, disabled, errors;
};

struct pxe_http {
	struct pxe_server *srv;
	struct evloop *loop;
	struct MHD_Daemon *mhd;
	int fd;				/* listening socket, -1 when closed */
	struct ev_io io;		/* MHD's epoll fd */
	struct ev_timer timer;		/* MHD's own timeouts */
	struct pxe_http_counters c;
	struct log_ratelimit rl;
	time_t event_time;		/* last refusal event; at most one a minute */
	uint64_t refused_since_event;
};

/* Listens on service_address:http_port (bound to the client interface) and serves from
 * srv's DB and bindings. Returns 0 or a negative errno, logged. */
int pxe_http_start(struct pxe_http *h, struct pxe_server *srv, struct evloop *loop);
void pxe_http_stop(struct pxe_http *h);
/* pxed's `status` members: "http" ("listening"|"off") and the http_* counters (ints). */
void pxe_http_status(const struct pxe_http *h, json_t *answer);

#endif
