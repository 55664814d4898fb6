/* libFuzzer target: what a DB-shipping receiver and sender read from the HA link. An input
 * of exactly a header's length is re-signed with the test key first, so the fuzzer reaches
 * the checks behind the MAC; the rest of the input is the payload the trailer covers, and
 * the first SHIP_REPLY_LEN bytes are also read as a reply. */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <openssl/evp.h>
#include <openssl/hmac.h>

#include "standby/shippkt.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const uint8_t nonce[SHIP_NONCE_LEN] = "0123456789abcdef";
	struct ha_authkeys ak;
	struct ship_hdr h;
	struct ship_reply r;
	uint8_t buf[SHIP_HDR_LEN];
	unsigned len = 0;

	memset(&ak, 0, sizeof(ak));
	ak.ship = 1;
	ak.keys[1].alg = HA_AUTH_SHA256;
	ak.keys[1].keylen = 3;
	memcpy(ak.keys[1].key, "key", 3);
	ship_hdr_decode(data, size, &ak, nonce, "lab", "alpha", &h);
	ship_reply_decode(data, size, &ak.keys[1], nonce, &r);
	if (size < SHIP_HDR_LEN)
		return 0;
	memcpy(buf, data, SHIP_HDR_LEN);
	HMAC(EVP_sha256(), "key", 3, buf, SHIP_HDR_MAC_OFF, buf + SHIP_HDR_MAC_OFF, &len);
	if (ship_hdr_decode(buf, SHIP_HDR_LEN, &ak, nonce, "lab", "alpha", &h) == SHIP_OK &&
	    size - SHIP_HDR_LEN >= SHIP_MAC_LEN)
		ship_trailer_ok(&ak.keys[1], buf, data + SHIP_HDR_LEN,
				size - SHIP_HDR_LEN - SHIP_MAC_LEN, data + size - SHIP_MAC_LEN);
	return 0;
}
