/* Tickle ACKs, as CTDB sends them after moving an address: for a client's connection to the
 * service address, a bare TCP ACK from the service address and port with sequence and
 * acknowledgement numbers 0. The client's stack finds it outside the window and answers
 * with an ACK carrying the real numbers (RFC 5961's challenge ACK); the new active node's
 * kernel holds no such connection and answers that with a RST, which ends the client's
 * connection at once instead of after its retransmission back-off reaches us. Needs
 * CAP_NET_RAW. Addresses and ports in host order. */
#ifndef STANDBY_TCPACK_H
#define STANDBY_TCPACK_H

#include <stddef.h>
#include <stdint.h>

#include "standby/connlist.h"

#define TCPACK_LEN 40	/* IPv4 header (20) + TCP header (20), no options, no data */

/* Builds the tickle for c into out[TCPACK_LEN]: c->laddr:c->lport -> c->raddr:c->rport,
 * both checksums computed. */
void tcpack_build(uint8_t *out, const struct tcp_conn *c);

/* The Internet checksum (RFC 1071) of buf, starting from sum (a partial sum). */
uint16_t tcpack_csum(const uint8_t *buf, size_t len, uint32_t sum);

/* A raw IPv4 socket whose packets carry their own header (IPPROTO_RAW). Returns the fd or a
 * negative errno. */
int tcpack_open(void);
/* Sends the tickle for c. Returns 0 or a negative errno. */
int tcpack_send(int fd, const struct tcp_conn *c);

#endif
