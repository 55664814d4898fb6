/* libFuzzer target: what the heartbeat receiver passes up (hbrx.h), as the daemon reads it
 * from a receiver that may have been taken over: the record check, then, for a record that
 * passes, the packet decoded again as links.c does. */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "standby/hbrx.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct ha_authkeys ak;
	struct hbrx_rec r;
	struct hb_msg msg;

	if (hbrx_rec_check(data, size, 3))
		return 0;
	memcpy(&r, data, sizeof(r));
	memset(&ak, 0, sizeof(ak));
	ak.active = 1;
	ak.keys[1].alg = HA_AUTH_SHA256;
	ak.keys[1].keylen = 32;
	memset(ak.keys[1].key, 'k', 32);
	if (r.why == HB_OK)
		hb_decode(r.pkt, r.len, &ak, &msg);
	return 0;
}
