/* ARP on the client LAN through libpcap: the probe that asks whether anyone holds the service
 * address (RFC 5227 form, sender address 0.0.0.0, so no host learns anything from it) and the
 * gratuitous ARP requests and replies that move clients to our MAC after a takeover. Needs
 * CAP_NET_RAW. */
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

/* Opens a capture of incoming ARP on ifname. errbuf gets why on failure (>= 256 bytes).
 * Returns 0 or a negative errno. */
int arp_open(struct arp_port *p, const char *ifname, char *errbuf, size_t errlen);
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

/* Reads what is queued; returns 1 if some frame claimed addr (sender MAC into who), else 0,
 * or a negative errno. */
int arp_read_claims(struct arp_port *p, uint32_t addr, uint8_t who[6]);

/* 1 if the interface is up with carrier, 0 if not, negative errno on failure. */
int if_running(const char *ifname);

#endif
