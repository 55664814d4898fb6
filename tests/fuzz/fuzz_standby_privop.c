/* libFuzzer target: a request to the privileged helper (privop.h), as the helper reads it
 * from a standbyd whose loop may have been taken over: the check against a configuration
 * with every kind of resource and a ping node, then, for a request that passes, that it
 * names only what the configuration holds (abort otherwise: the fuzzer reports it). */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "standby/privop.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct ha_config c;
	struct privop_req r;

	if (!c.res.nres) {
		c.res.res[0].kind = HA_RES_IPADDR;
		c.res.res[0].addr = 0x0a4d0064u;
		c.res.res[1].kind = HA_RES_LSB;
		c.res.res[2].kind = HA_RES_VDISKD;
		c.res.res[3].kind = HA_RES_PXED;
		c.res.res[4].kind = HA_RES_IPADDR;
		c.res.res[4].addr = 0x0a4d0065u;
		c.res.nres = 5;
		c.res.ipaddr_idx = 0;
		c.cf.nping = 2;
	}
	if (privop_req_check(data, size, &c))
		return 0;
	memcpy(&r, data, sizeof(r));
	if (r.kind == PRIVOP_RES && (r.idx >= c.res.nres || r.op > RES_STATUS ||
				     c.res.res[r.idx].kind == HA_RES_VDISKD))
		abort();
	if (r.kind == PRIVOP_VDISKD && (r.idx >= c.res.nres || r.op > RES_STATUS ||
					c.res.res[r.idx].kind != HA_RES_VDISKD))
		abort();
	if ((r.kind == PRIVOP_ARP_PROBE || r.kind == PRIVOP_ARP_GARP) && r.idx != 0)
		abort();
	if (r.kind == PRIVOP_PING && r.idx >= c.cf.nping)
		abort();
	if (r.kind == PRIVOP_TICKLE && r.laddr != 0x0a4d0064u && r.laddr != 0x0a4d0065u)
		abort();
	return 0;
}
