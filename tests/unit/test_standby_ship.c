/* DB shipping's wire format: header, trailer and reply round trip; truncated, oversize,
 * forged, tampered, replayed (another challenge), foreign and over-the-cap headers are
 * refused with the right reason, and only after the MAC for anything behind it. The
 * connection-list type has its own, smaller cap; unknown types are refused. Only the ship
 * key signs: a header signed with the heartbeat key is refused. */
#include <endian.h>
#include <errno.h>
#include <string.h>

#include <openssl/evp.h>
#include <openssl/hmac.h>

#include "standby/shippkt.h"
#include "tests/lib/tap.h"

static const uint8_t nonce[SHIP_NONCE_LEN] = "0123456789abcdef";

#define HB_KEY "heartbeat-key-0123456789abcdef0123"

/* authkeys with heartbeat key 1 (sha256 HB_KEY) and the ship key 2 (alg, key). */
static struct ha_authkeys keys_with(enum ha_auth_alg alg, const char *key)
{
	struct ha_authkeys ak;

	memset(&ak, 0, sizeof(ak));
	ak.active = 1;
	ak.keys[1].alg = HA_AUTH_SHA256;
	ak.keys[1].keylen = strlen(HB_KEY);
	memcpy(ak.keys[1].key, HB_KEY, strlen(HB_KEY));
	ak.ship = 2;
	ak.keys[2].alg = alg;
	ak.keys[2].keylen = strlen(key);
	memcpy(ak.keys[2].key, key, strlen(key));
	return ak;
}

static struct ship_hdr base_hdr(void)
{
	struct ship_hdr h;

	memset(&h, 0, sizeof(h));
	h.key_index = 2;
	strcpy(h.cluster, "lab");
	strcpy(h.node, "alpha");
	memcpy(h.nonce, nonce, sizeof(nonce));
	h.db_seq = 42;
	h.length = 1000;
	return h;
}

/* Re-signs a header changed by hand, as a sender holding the key would. */
static void resign(uint8_t *buf, const char *key)
{
	unsigned len = 0;

	HMAC(EVP_sha256(), key, (int)strlen(key), buf, SHIP_HDR_MAC_OFF, buf + SHIP_HDR_MAC_OFF,
	     &len);
}

static enum ship_err decode(const uint8_t *buf, size_t len, const struct ha_authkeys *ak)
{
	struct ship_hdr h;

	return ship_hdr_decode(buf, len, ak, nonce, "lab", "alpha", &h);
}

static void test_header(void)
{
	struct ha_authkeys ak = keys_with(HA_AUTH_SHA256, "secret"), crc = keys_with(HA_AUTH_CRC, "");
	struct ha_authkeys other = keys_with(HA_AUTH_SHA256, "other");
	struct ship_hdr h = base_hdr(), got;
	uint8_t buf[SHIP_HDR_LEN + 1], t[SHIP_HDR_LEN];
	uint32_t v;
	size_t i;
	int flips = 0;

	is_int(ship_hdr_encode(&h, &ak, buf), SHIP_HDR_LEN, "header encodes");
	is_int(ship_hdr_decode(buf, SHIP_HDR_LEN, &ak, nonce, "lab", "alpha", &got), SHIP_OK,
	       "and decodes");
	ok(got.db_seq == 42 && got.length == 1000 && got.key_index == 2 &&
	   strcmp(got.node, "alpha") == 0 && strcmp(got.cluster, "lab") == 0 &&
	   memcmp(got.nonce, nonce, SHIP_NONCE_LEN) == 0, "fields round trip");
	is_int(decode(buf, SHIP_HDR_LEN - 1, &ak), SHIP_ERR_MALFORMED, "one byte short");
	is_int(decode(buf, SHIP_HDR_LEN + 1, &ak), SHIP_ERR_MALFORMED, "one byte long");
	is_int(decode(buf, 0, &ak), SHIP_ERR_MALFORMED, "empty");
	memcpy(t, buf, SHIP_HDR_LEN);
	t[0] ^= 1;
	is_int(decode(t, SHIP_HDR_LEN, &ak), SHIP_ERR_MALFORMED, "bad magic");
	memcpy(t, buf, SHIP_HDR_LEN);
	t[4] = 2;
	is_int(decode(t, SHIP_HDR_LEN, &ak), SHIP_ERR_MALFORMED, "unknown version");
	for (i = 5; i < SHIP_HDR_LEN; i++) {
		memcpy(t, buf, SHIP_HDR_LEN);
		t[i] ^= 0x40;
		flips += decode(t, SHIP_HDR_LEN, &ak) == SHIP_ERR_AUTH;
	}
	is_int(flips, SHIP_HDR_LEN - 5, "any flipped bit after the version fails the MAC");
	is_int(decode(buf, SHIP_HDR_LEN, &other), SHIP_ERR_AUTH, "another key: refused");
	is_int(decode(buf, SHIP_HDR_LEN, &crc), SHIP_ERR_AUTH, "a crc key authenticates nothing");
	memcpy(t, buf, SHIP_HDR_LEN);
	t[5] = 200;
	is_int(decode(t, SHIP_HDR_LEN, &ak), SHIP_ERR_AUTH, "key index out of range");
	h.key_index = 3;
	is_int(ship_hdr_encode(&h, &ak, t), -EINVAL, "encoding with an undefined key fails");
	h = base_hdr();
	is_int(ship_hdr_encode(&h, &crc, t), -EINVAL, "encoding with crc fails");
	h.length = SHIP_MAX_PAYLOAD + 1;
	is_int(ship_hdr_encode(&h, &ak, t), -EINVAL, "encoding over the cap fails");

	/* Signed by the key holder but wrong inside: the checks behind the MAC. */
	memcpy(t, buf, SHIP_HDR_LEN);
	v = htobe32(SHIP_MAX_PAYLOAD + 1);
	memcpy(t + 96, &v, 4);
	resign(t, "secret");
	is_int(decode(t, SHIP_HDR_LEN, &ak), SHIP_ERR_MALFORMED, "length over the cap");
	memcpy(t, buf, SHIP_HDR_LEN);
	v = 0xffffffffu;
	memcpy(t + 96, &v, 4);
	resign(t, "secret");
	is_int(decode(t, SHIP_HDR_LEN, &ak), SHIP_ERR_MALFORMED, "length 4 GiB");
	memcpy(t, buf, SHIP_HDR_LEN);
	t[88] = 0x80;
	resign(t, "secret");
	is_int(decode(t, SHIP_HDR_LEN, &ak), SHIP_ERR_MALFORMED, "negative change_seq");
	memcpy(t, buf, SHIP_HDR_LEN);
	t[6] = 2;
	resign(t, "secret");
	is_int(decode(t, SHIP_HDR_LEN, &ak), SHIP_ERR_MALFORMED, "unknown type 2");
	memcpy(t, buf, SHIP_HDR_LEN);
	t[6] = 0xff;
	resign(t, "secret");
	is_int(decode(t, SHIP_HDR_LEN, &ak), SHIP_ERR_MALFORMED, "unknown type 255");
	memcpy(t, buf, SHIP_HDR_LEN);
	t[7] = 1;
	resign(t, "secret");
	is_int(decode(t, SHIP_HDR_LEN, &ak), SHIP_ERR_MALFORMED, "reserved byte 7 set");
	memcpy(t, buf, SHIP_HDR_LEN);
	t[101] = 1;
	resign(t, "secret");
	is_int(decode(t, SHIP_HDR_LEN, &ak), SHIP_ERR_MALFORMED, "reserved bytes 100-103 set");
	memcpy(t, buf, SHIP_HDR_LEN);
	memset(t + 40, 'x', HA_NAME_MAX);
	resign(t, "secret");
	is_int(decode(t, SHIP_HDR_LEN, &ak), SHIP_ERR_MALFORMED, "node name without a NUL");
	memcpy(t, buf, SHIP_HDR_LEN);
	memset(t + 8, 0, HA_NAME_MAX);
	resign(t, "secret");
	is_int(decode(t, SHIP_HDR_LEN, &ak), SHIP_ERR_MALFORMED, "empty cluster name");
	memcpy(t, buf, SHIP_HDR_LEN);
	t[41] = '\n';
	resign(t, "secret");
	is_int(decode(t, SHIP_HDR_LEN, &ak), SHIP_ERR_MALFORMED, "control character in the name");
	memcpy(t, buf, SHIP_HDR_LEN);
	t[42] = 0;
	t[44] = 'z';
	resign(t, "secret");
	is_int(decode(t, SHIP_HDR_LEN, &ak), SHIP_ERR_MALFORMED, "bytes after the name's NUL");

	is_int(ship_hdr_decode(buf, SHIP_HDR_LEN, &ak, (const uint8_t *)"fedcba9876543210", "lab",
			       "alpha", &got), SHIP_ERR_NONCE,
	       "another connection's challenge (a replay) refused");
	is_int(ship_hdr_decode(buf, SHIP_HDR_LEN, &ak, nonce, "lab2", "alpha", &got),
	       SHIP_ERR_CLUSTER, "another cluster refused");
	is_int(ship_hdr_decode(buf, SHIP_HDR_LEN, &ak, nonce, "lab", "beta", &got), SHIP_ERR_NODE,
	       "a sender that is not our peer refused");
}

static void test_trailer(void)
{
	struct ha_authkeys ak = keys_with(HA_AUTH_SHA256, "secret");
	struct ha_authkeys other = keys_with(HA_AUTH_SHA1, "other");
	struct ship_hdr h = base_hdr();
	uint8_t hdr[SHIP_HDR_LEN], mac[SHIP_MAC_LEN], payload[1000];
	const struct ha_key *k = ship_key(&ak, 2);

	memset(payload, 0xa5, sizeof(payload));
	ship_hdr_encode(&h, &ak, hdr);
	is_int(ship_trailer(k, hdr, payload, sizeof(payload), mac), 0, "trailer computed");
	ok(ship_trailer_ok(k, hdr, payload, sizeof(payload), mac), "trailer checks");
	payload[999] ^= 1;
	ok(!ship_trailer_ok(k, hdr, payload, sizeof(payload), mac), "last payload byte changed");
	payload[999] ^= 1;
	ok(!ship_trailer_ok(k, hdr, payload, sizeof(payload) - 1, mac), "payload truncated");
	hdr[90] ^= 1;
	ok(!ship_trailer_ok(k, hdr, payload, sizeof(payload), mac),
	   "header changed: the trailer covers it too");
	hdr[90] ^= 1;
	ok(!ship_trailer_ok(ship_key(&other, 2), hdr, payload, sizeof(payload), mac),
	   "another key (sha1 in authkeys: still HMAC-SHA256 with its secret) fails");
	ok(ship_key(&other, 2) != NULL, "an sha1/md5 authkeys key can ship");
	ok(ship_key(&ak, 1) == NULL, "an undefined key cannot");
	ok(ship_key(&ak, HA_MAX_KEYS) == NULL, "an index out of range cannot");
	ok(ship_trailer(k, hdr, NULL, 0, mac) == 0 && ship_trailer_ok(k, hdr, NULL, 0, mac),
	   "an empty payload works");
}

static void test_reply(void)
{
	struct ha_authkeys ak = keys_with(HA_AUTH_SHA256, "secret");
	struct ha_authkeys other = keys_with(HA_AUTH_SHA256, "other");
	const struct ha_key *k = ship_key(&ak, 2);
	struct ship_reply r = { .status = -EBUSY, .db_seq = 9 }, got;
	uint8_t buf[SHIP_REPLY_LEN], t[SHIP_REPLY_LEN];

	memcpy(r.nonce, nonce, sizeof(nonce));
	is_int(ship_reply_encode(&r, k, buf), SHIP_REPLY_LEN, "reply encodes");
	is_int(ship_reply_decode(buf, SHIP_REPLY_LEN, k, nonce, &got), SHIP_OK, "and decodes");
	ok(got.status == -EBUSY && got.db_seq == 9, "status and change_seq round trip");
	is_int(ship_reply_decode(buf, SHIP_REPLY_LEN - 1, k, nonce, &got), SHIP_ERR_MALFORMED,
	       "short reply");
	is_int(ship_reply_decode(buf, SHIP_REPLY_LEN, ship_key(&other, 2), nonce, &got),
	       SHIP_ERR_AUTH, "reply under another key");
	memcpy(t, buf, sizeof(t));
	t[12] ^= 1;
	is_int(ship_reply_decode(t, SHIP_REPLY_LEN, k, nonce, &got), SHIP_ERR_AUTH,
	       "a forged change_seq fails the MAC");
	is_int(ship_reply_decode(buf, SHIP_REPLY_LEN, k, (const uint8_t *)"fedcba9876543210",
				 &got), SHIP_ERR_NONCE, "an answer to another transfer refused");
	r.status = 5;
	ship_reply_encode(&r, k, t);
	is_int(ship_reply_decode(t, SHIP_REPLY_LEN, k, nonce, &got), SHIP_ERR_MALFORMED,
	       "a positive status is malformed");
	memcpy(t, buf, sizeof(t));
	t[0] = 'X';
	is_int(ship_reply_decode(t, SHIP_REPLY_LEN, k, nonce, &got), SHIP_ERR_MALFORMED,
	       "bad reply magic");
}

/* A connection list: type 1, its own cap (CONN_LIST_MAX entries), the DB's cap no longer. */
static void test_conns_header(void)
{
	struct ha_authkeys ak = keys_with(HA_AUTH_SHA256, "secret");
	struct ship_hdr h = base_hdr(), got;
	uint8_t buf[SHIP_HDR_LEN], t[SHIP_HDR_LEN];
	uint32_t v;

	h.type = SHIP_TYPE_CONNS;
	h.length = CONN_LIST_MAX_BYTES;
	is_int(ship_hdr_encode(&h, &ak, buf), SHIP_HDR_LEN, "list header at the cap encodes");
	is_int(ship_hdr_decode(buf, SHIP_HDR_LEN, &ak, nonce, "lab", "alpha", &got), SHIP_OK,
	       "and decodes");
	ok(got.type == SHIP_TYPE_CONNS && got.length == CONN_LIST_MAX_BYTES && got.db_seq == 42,
	   "type, length and sequence round trip");
	is_int(buf[6], 1, "type is byte 6");
	h.length = CONN_LIST_MAX_BYTES + 1;
	is_int(ship_hdr_encode(&h, &ak, t), -EINVAL, "encoding a list over its cap fails");
	h.type = 7;
	h.length = 12;
	is_int(ship_hdr_encode(&h, &ak, t), -EINVAL, "encoding an unknown type fails");
	/* Signed by the key holder but over the list's cap, though far under the DB's. */
	memcpy(t, buf, SHIP_HDR_LEN);
	v = htobe32(CONN_LIST_MAX_BYTES + 1);
	memcpy(t + 96, &v, 4);
	resign(t, "secret");
	is_int(decode(t, SHIP_HDR_LEN, &ak), SHIP_ERR_MALFORMED, "list length over its cap");
	v = htobe32(1u << 20);
	memcpy(t + 96, &v, 4);
	resign(t, "secret");
	is_int(decode(t, SHIP_HDR_LEN, &ak), SHIP_ERR_MALFORMED, "a 1 MiB list refused");
	t[6] = SHIP_TYPE_DB;
	resign(t, "secret");
	is_int(decode(t, SHIP_HDR_LEN, &ak), SHIP_OK, "the same length is fine for a DB");
	memcpy(t, buf, SHIP_HDR_LEN);
	t[6] = SHIP_TYPE_DB;
	is_int(decode(t, SHIP_HDR_LEN, &ak), SHIP_ERR_AUTH, "the type is covered by the MAC");
}

/* DB shipping has a key of its own: a header signed with the heartbeat key (which a forger
 * on the LAN might hold: a weak one broken) is refused, and without a ship key nothing
 * ships. */
static void test_own_key(void)
{
	struct ha_authkeys ak = keys_with(HA_AUTH_SHA256, "secret"), forger = ak, none = ak;
	struct ship_hdr h = base_hdr();
	uint8_t buf[SHIP_HDR_LEN];

	forger.ship = 1;	/* signs with the heartbeat key as if it shipped with it */
	h.key_index = 1;
	is_int(ship_hdr_encode(&h, &forger, buf), SHIP_HDR_LEN, "a header signed with key 1");
	is_int(decode(buf, SHIP_HDR_LEN, &ak), SHIP_ERR_AUTH,
	       "signed with the heartbeat key: refused (bad_auth)");
	ok(ship_key(&ak, 1) == NULL, "the heartbeat key is no ship key");
	ok(ship_key(&ak, 2) != NULL, "the ship key is");
	none.ship = 0;
	h.key_index = 2;
	is_int(ship_hdr_encode(&h, &none, buf), -EINVAL, "no ship key: nothing is signed");
	ok(ship_key(&none, 2) == NULL && ship_key(&none, 0) == NULL, "nor accepted");
}

int main(void)
{
	test_header();
	test_conns_header();
	test_trailer();
	test_reply();
	test_own_key();
	is_str(ship_err_name(SHIP_ERR_NONCE), "wrong_challenge", "error names");
	return done_testing();
}
