/* ICMP echo to the ping nodes before a takeover: a node that cannot reach them may be the
 * one cut off, and must not grab the address. Raw socket (CAP_NET_RAW): the privileged
 * helper sends and reads; the loop parses what it read (icmp_is_echo_reply). */
#ifndef STANDBY_PING_H
#define STANDBY_PING_H

#include <stddef.h>
#include <stdint.h>

struct pinger {
	int fd;
	uint16_t id, seq;
};

int pinger_open(struct pinger *p);
void pinger_close(struct pinger *p);
/* Sends one echo request to addr (host order). */
int pinger_send(struct pinger *p, uint32_t addr);
/* Is buf[0, len) (an IPv4 packet as a raw ICMP socket delivers it) an echo reply to id?
 * Bounds-checked: any length. */
int icmp_is_echo_reply(const uint8_t *buf, size_t len, uint16_t id);

/* Hands what is queued, at most PING_READ_BATCH packets (unparsed; a socket filter passes
 * only echo replies to our id), to fn. The number read, or a negative errno. */
#define PING_READ_BATCH 64
int pinger_recv(struct pinger *p, void (*fn)(void *arg, const uint8_t *pkt, size_t len),
		void *arg);

#endif
