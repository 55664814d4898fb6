/* ICMP echo to the ping nodes before a takeover: a node that cannot reach them may be the
 * one cut off, and must not grab the address. Raw socket (CAP_NET_RAW). */
#ifndef STANDBY_PING_H
#define STANDBY_PING_H

#include <stdint.h>

struct pinger {
	int fd;
	uint16_t id, seq;
};

int pinger_open(struct pinger *p);
void pinger_close(struct pinger *p);
/* Sends one echo request to addr (host order). */
int pinger_send(struct pinger *p, uint32_t addr);
/* Reads queued replies; returns how many were echo replies to our id, or a negative errno. */
int pinger_read(struct pinger *p);

#endif
