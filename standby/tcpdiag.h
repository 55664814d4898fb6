/* The established TCP connections whose local address is one of ours (the service
 * addresses), from the kernel through NETLINK_SOCK_DIAG (inet_diag), as ss(8) reads them.
 *
 * Why sock_diag rather than /proc/net/tcp: the kernel filters by state (only ESTABLISHED is
 * dumped, not the listeners and TIME_WAITs a busy server holds), the records are fixed-size
 * binary (struct inet_diag_msg) instead of hex text to parse, and one request per family
 * covers IPv4 sockets and the IPv4-mapped ones of a service listening on [::], which
 * /proc/net/tcp would need a second file (tcp6) and a second text format for. */
#ifndef STANDBY_TCPDIAG_H
#define STANDBY_TCPDIAG_H

#include <stddef.h>
#include <stdint.h>

#include "standby/connlist.h"

/* Fills l (not finished: conn_list_finish it) with the established connections of this
 * network namespace whose local address is in addrs[naddrs] (host order). Returns 0 or a
 * negative errno. */
int tcpdiag_collect(const uint32_t *addrs, unsigned naddrs, struct conn_list *l);

/* Reads one buffer of a dump answer (what one recv returned) into l, keeping the
 * connections in state ESTABLISHED, of family AF_INET or IPv4-mapped AF_INET6, whose local
 * address is in addrs. Every message is bounds-checked; anything but an inet_diag record,
 * NLMSG_DONE or NLMSG_ERROR is skipped. seq: our request's; other answers are skipped.
 * Returns 1 when the dump is complete (NLMSG_DONE), 0 when more buffers follow, -EBADMSG for
 * a malformed buffer, or the error the kernel reported. Exposed for the unit test and the
 * fuzz target. */
int tcpdiag_decode(const uint8_t *buf, size_t len, uint32_t seq, const uint32_t *addrs,
		   unsigned naddrs, struct conn_list *l);

#endif
