/* Which address each client was last given: the HTTP script server answers a request for a
 * client's iPXE script (it holds the client's CHAP secrets) only from that address. A
 * binding is made when pxed ACKs a known client (dhcp mode: the ACK's yiaddr; proxy mode:
 * the source of the ProxyDHCP REQUEST on port 4011) and lasts PXE_BIND_WINDOW_S: iPXE asks
 * for its script right after its DHCP.
 *
 * The table's size is fixed; only ACKs to clients in the DB make entries, so a flood of
 * unknown MACs cannot push a real client's binding out. */
#ifndef PXE_BINDINGS_H
#define PXE_BINDINGS_H

#include <stdint.h>
#include <time.h>

#define PXE_BIND_SLOTS    4096
#define PXE_BIND_PROBE    16
#define PXE_BIND_WINDOW_S 300

struct pxe_binding {
	uint8_t mac[6];
	uint8_t used;
	uint32_t ip;			/* host byte order */
	time_t until;
};

struct pxe_bindings {
	struct pxe_binding slot[PXE_BIND_SLOTS];
};

/* mac was given ip until `until`. Any other client's binding to ip ends (the address moved). */
void bindings_set(struct pxe_bindings *b, const uint8_t mac[6], uint32_t ip, time_t until);
void bindings_clear(struct pxe_bindings *b, const uint8_t mac[6]);
/* mac's binding if it has not expired, else NULL. */
const struct pxe_binding *bindings_find(const struct pxe_bindings *b, const uint8_t mac[6],
					time_t now);

#endif
