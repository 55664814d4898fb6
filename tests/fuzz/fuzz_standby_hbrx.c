/* libFuzzer target: what the heartbeat receiver passes up (hbrx.h), as the daemon reads it
 * from a receiver that may have been taken over, and so may hold the key: the record check,
 * then, for a packet record that passes, the packet signed with the test key and decoded and
 * accepted again as links.c does, so the field checks and the window behind the MAC are
 * reached too. */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "standby/hbrx.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct hb_window w;
	struct ha_authkeys ak;
	struct hbrx_rec r;
	struct hb_msg msg;

	if (hbrx_rec_check(data, size, 3))
		return 0;
	memcpy(&r, data, sizeof(r));
	if (r.why != HB_OK || !r.len)
		return 0;
	memset(&ak, 0, sizeof(ak));
	ak.active = 1;
	ak.keys[1].alg = HA_AUTH_SHA256;
	ak.keys[1].keylen = 32;
	memset(ak.keys[1].key, 'k', 32);
	hb_sign(r.pkt, r.len, &ak, 1);
	if (hb_decode(r.pkt, r.len, &ak, &msg) == HB_OK)
		hb_accept(&msg, "lab", "beta", "alpha", msg.time_ms, r.link, &w);
	return 0;
}
