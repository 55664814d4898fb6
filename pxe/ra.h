/* A minimal IPv6 router advertisement answering router solicitations on the client LAN.
 * iPXE configures IPv6 alongside DHCPv4 and, with no router on the LAN, waits about 13 s for
 * an advertisement before it goes on. An RA with no prefixes, no M/O flags and a router
 * lifetime of 0 ends that wait and configures nothing: no address, no route (RFC 4861 4.2). */
#ifndef PXE_RA_H
#define PXE_RA_H

#include <stdint.h>

#include "common/evloop.h"

#define RA_MIN_INTERVAL_MS 1000		/* one multicast RA answers every solicitation */

struct ra_sender {
	struct evloop *loop;
	struct ev_io io;
	struct ev_timer delay;
	uint64_t last_ms;
	uint64_t sent, solicitations;
	int ifindex;
};

/* Opens the ICMPv6 socket on ifname. Returns 0 or a negative errno (e.g. IPv6 disabled). */
int ra_open(struct ra_sender *ra, struct evloop *loop, const char *ifname);
void ra_close(struct ra_sender *ra);

#endif
