/* ARP on the client LAN through libpcap: the probe that asks whether anyone holds the service
 * address (RFC 5227 form, sender address 0.0.0.0, so no host learns anything from it) and the
 * gratuitous ARP requests and replies that move clients to our MAC after a takeover. Needs
 * CAP_NET_RAW: the privileged helper sends and reads; the loop parses what it read
 * (arp_classify). */
#ifndef STANDBY_ARP_H
#define STANDBY_ARP_H

#include <net/if.h>
#include <stddef.h>
#include <stdint.h>

#define ARP_FRAME_LEN 42	/* Ethernet header + ARP for IPv4 over Ethernet */

struct arp_port {
	void *pcap;		/* pcap_t */
	int fd;			/* selectable, non-blocking */
	char ifname[IF_NAMESIZE];
	uint8_t mac[6];
};

/* Opens a capture of the incoming ARP on ifname whose sender claims addr (host order).
 * errbuf gets why on failure (>= 256 bytes). Returns 0 or a negative errno. */
int arp_open(struct arp_port *p, const char *ifname, uint32_t addr, char *errbuf,
	     size_t errlen);
void arp_close(struct arp_port *p);

/* Builds the frames into out[ARP_FRAME_LEN]; exposed for the unit test. addr in host order. */
void arp_build_probe(uint8_t *out, const uint8_t mac[6], uint32_t addr);
void arp_build_garp(uint8_t *out, const uint8_t mac[6], uint32_t addr, int reply);

/* Sends one probe / one gratuitous request and one reply. 0 or a negative errno. */
int arp_send_probe(struct arp_port *p, uint32_t addr);
int arp_send_garp(struct arp_port *p, uint32_t addr);

/* Is frame an ARP packet (request or reply) whose sender claims addr from a MAC not ours?
 * Bounds-checked: any length. */
int arp_frame_claims(const uint8_t *frame, size_t len, uint32_t addr, const uint8_t mac[6],
		     uint8_t sender_mac[6]);

/* What a claim of the service address means to a takeover. Any PC on the LAN can answer ARP
 * for the address; only the peer holding it is a reason not to take it. */
enum arp_claim {
	ARP_CLAIM_NONE = 0,
	ARP_CLAIM_STRANGER,	/* from a MAC that is not the peer's: a conflict */
	ARP_CLAIM_HOLDER,	/* from the peer's MAC, or from anyone when it is unknown */
};

/* Classifies frame (any length) as a claim of addr, against our MAC own and the peer's LAN
 * MAC peer (from its authenticated heartbeat; NULL when unknown, and then every claim counts
 * as the peer's, the safe side). The claimant's MAC goes to sender. */
enum arp_claim arp_classify(const uint8_t *frame, size_t len, uint32_t addr,
			    const uint8_t own[6], const uint8_t *peer, uint8_t sender[6]);

/* Hands what is queued, at most ARP_READ_BATCH frames as captured (any length, unparsed),
 * to fn. The number read (fewer than ARP_READ_BATCH: the capture is empty), or a negative
 * errno. */
#define ARP_READ_BATCH 64
int arp_read(struct arp_port *p, void (*fn)(void *arg, const uint8_t *frame, size_t len),
	     void *arg);

/* How many frames the capture dropped since it opened (its buffer full; our own outgoing
 * frames that pass the filter take room too) into *n: 0, or a negative errno. */
int arp_drops(struct arp_port *p, uint32_t *n);

/* 1 if the interface is up with carrier, 0 if not, negative errno on failure. */
int if_running(const char *ifname);

#endif
