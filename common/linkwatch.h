/* The carrier of the interface through which this host reaches one IPv4 address (the peer's
 * end of the HA cable, for the mirror). A pulled cable or a dead peer NIC shows as carrier
 * loss within milliseconds, where a TCP connection notices only when a timeout runs out.
 * rtnetlink link events in the event loop; the interface is found from the route to the
 * address (again after any link event while none is known). */
#ifndef COMMON_LINKWATCH_H
#define COMMON_LINKWATCH_H

#include <net/if.h>
#include <stdint.h>

#include "common/evloop.h"

struct linkwatch {
	struct evloop *loop;
	int fd;
	struct ev_io io;
	uint32_t peer;			/* network byte order */
	unsigned ifindex;		/* 0: no interface known */
	char ifname[IF_NAMESIZE];
	int up;				/* carrier (IFF_UP and IFF_LOWER_UP) */
	void (*changed)(void *arg, int up);
	void *arg;
};

/* Watches the route to peer ("A.B.C.D"); changed(arg, up) runs on every carrier change of its
 * interface. 0, or a negative errno (no netlink socket, a malformed address). */
int linkwatch_open(struct linkwatch *lw, struct evloop *loop, const char *peer,
		   void (*changed)(void *arg, int up), void *arg);
void linkwatch_close(struct linkwatch *lw);

/* One netlink datagram of RTM_NEWLINK/RTM_DELLINK messages, as the kernel sends them: calls
 * changed() when the watched interface's carrier changed. Bounded by len; exposed for tests. */
void linkwatch_input(struct linkwatch *lw, const void *buf, size_t len);

#endif
