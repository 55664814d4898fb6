/* libFuzzer target: the heartbeat receive path. Inputs of exactly one packet's length (either
 * version's) are re-signed with the test key first, so the fuzzer also reaches the field
 * checks, the LAN address and the replay window behind the MAC; other lengths exercise the
 * framing checks. */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "standby/hbpkt.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct hb_window w;
	struct ha_authkeys ak;
	uint8_t buf[HB_LEN], mac[6];
	struct hb_msg msg;

	memset(&ak, 0, sizeof(ak));
	ak.active = 1;
	ak.keys[1].alg = HA_AUTH_SHA256;
	ak.keys[1].keylen = 3;
	memcpy(ak.keys[1].key, "key", 3);
	ak.ship = 2;
	ak.keys[2] = ak.keys[1];
	if (size != HB_LEN && size != HB_V1_LEN) {
		hb_decode(data, size, &ak, &msg);
		return 0;
	}
	memcpy(buf, data, size);
	hb_sign(buf, size, &ak, data[5] == 2 ? 2 : 1);	/* now and then the ship key's */
	if (hb_decode(buf, size, &ak, &msg) == HB_OK) {
		hb_lan_mac(&msg, mac);
		hb_accept(&msg, "lab", "beta", "alpha", msg.time_ms, data[0] % 3, &w);
	}
	return 0;
}
