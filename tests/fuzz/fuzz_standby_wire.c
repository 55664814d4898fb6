/* libFuzzer target: the ARP claim checks (with the peer's MAC known and unknown) and the ICMP
 * echo reply check standbyd applies to what it reads off the LAN. */
#include <stddef.h>
#include <stdint.h>

#include "standby/arp.h"
#include "standby/ping.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const uint8_t me[6] = { 0x02, 0, 0, 0, 0, 1 }, peer[6] = { 0x02, 0, 0, 0, 0, 2 };
	uint8_t who[6];

	arp_frame_claims(data, size, 0x0a4d0064u, me, who);
	arp_classify(data, size, 0x0a4d0064u, me, peer, who);
	arp_classify(data, size, 0x0a4d0064u, me, NULL, who);
	icmp_is_echo_reply(data, size, 0x1234);
	return 0;
}
