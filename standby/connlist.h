/* The clients' TCP connections to the service addresses, as the active node sees them and
 * ships them to the standby, so that a new active node can "tickle" them after a takeover
 * (tcpack.h) instead of leaving each client to find out through its retransmission back-off.
 *
 * Wire form (the payload of a SHIP_TYPE_CONNS transfer, shippkt.h): entries of
 * CONN_WIRE_LEN bytes, network byte order, sorted ascending with no duplicate:
 *
 *   off size field
 *     0    4 local (service) IPv4 address
 *     4    2 local port
 *     6    4 remote (client) IPv4 address
 *    10    2 remote port
 *
 * Sorted and unique, so two lists compare with memcmp and a receiver can refuse anything a
 * correct sender would not produce. */
#ifndef STANDBY_CONNLIST_H
#define STANDBY_CONNLIST_H

#include <stddef.h>
#include <stdint.h>

#define CONN_WIRE_LEN	12
/* 300 clients hold one or two iSCSI connections each; 4096 leaves room for other services on
 * the address while bounding what the peer makes us hold (48 KiB). */
#define CONN_LIST_MAX	4096
#define CONN_LIST_MAX_BYTES (CONN_LIST_MAX * CONN_WIRE_LEN)

struct tcp_conn {
	uint32_t laddr, raddr;	/* host order */
	uint16_t lport, rport;
};

struct conn_list {
	struct tcp_conn c[CONN_LIST_MAX];
	unsigned n;
	unsigned dropped;	/* connections left out: over CONN_LIST_MAX */
};

/* Adds one (no order needed; conn_list_finish sorts). Counts it as dropped when full. */
void conn_list_add(struct conn_list *l, const struct tcp_conn *c);
/* Sorts and removes duplicates: the form the wire and conn_list_equal want. */
void conn_list_finish(struct conn_list *l);
int conn_list_equal(const struct conn_list *a, const struct conn_list *b);

/* Writes the finished list into out[l->n * CONN_WIRE_LEN]; returns the byte count. */
size_t conn_list_encode(const struct conn_list *l, uint8_t *out);
/* Reads a payload into l. Refused (-EBADMSG, l->n = 0) when the length is not a whole
 * number of entries or over CONN_LIST_MAX, an address or port is zero, the entries are not
 * strictly ascending, or a local address is not one of addrs[naddrs] (ours too: both nodes
 * hold the same haresources), so an entry can never make us send from a foreign source. */
int conn_list_decode(struct conn_list *l, const uint8_t *buf, size_t len,
		     const uint32_t *addrs, unsigned naddrs);

#endif
