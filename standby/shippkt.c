#include "standby/shippkt.h"

#include <errno.h>
#include <string.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/params.h>

#include "common/wire.h"
#include "standby/hbpkt.h"

const char *ship_err_name(enum ship_err e)
{
	switch (e) {
	case SHIP_OK: return "ok";
	case SHIP_ERR_MALFORMED: return "malformed";
	case SHIP_ERR_AUTH: return "bad_auth";
	case SHIP_ERR_NONCE: return "wrong_challenge";
	case SHIP_ERR_CLUSTER: return "wrong_cluster";
	case SHIP_ERR_NODE: return "unknown_node";
	}
	return "?";
}


const struct ha_key *ship_key(const struct ha_authkeys *keys, unsigned index)
{
	const struct ha_key *k;

	/* Only authkeys' ship key: a heartbeat key travels the LAN, where it may be weak or
	 * leak, and must not also let someone replace the standby's database. */
	if (!keys->ship || index != keys->ship || index >= HA_MAX_KEYS)
		return NULL;
	k = &keys->keys[index];
	/* Whatever its method, the transfer is HMAC-SHA256 with that key's secret. */
	return k->alg == HA_AUTH_NONE || k->alg == HA_AUTH_CRC ? NULL : k;
}

/* HMAC-SHA256 over a then b (b may be empty). Returns 0 or -EIO. */
static int mac2(const struct ha_key *k, const uint8_t *a, size_t alen, const uint8_t *b,
		size_t blen, uint8_t out[SHIP_MAC_LEN])
{
	int rc = -EIO;
	EVP_MAC *mac = EVP_MAC_fetch(NULL, "HMAC", NULL);
	EVP_MAC_CTX *ctx = mac ? EVP_MAC_CTX_new(mac) : NULL;
	OSSL_PARAM params[] = {
		OSSL_PARAM_construct_utf8_string("digest", (char *)"SHA256", 0),
		OSSL_PARAM_construct_end(),
	};
	size_t outl = 0;

	if (ctx && EVP_MAC_init(ctx, k->key, k->keylen, params) &&
	    EVP_MAC_update(ctx, a, alen) && (!blen || EVP_MAC_update(ctx, b, blen)) &&
	    EVP_MAC_final(ctx, out, &outl, SHIP_MAC_LEN) && outl == SHIP_MAC_LEN)
		rc = 0;
	EVP_MAC_CTX_free(ctx);
	EVP_MAC_free(mac);
	return rc;
}

/* The most a transfer of this type may carry; 0 for an unknown type. */
static uint32_t type_cap(unsigned type)
{
	switch (type) {
	case SHIP_TYPE_DB: return SHIP_MAX_PAYLOAD;
	case SHIP_TYPE_CONNS: return CONN_LIST_MAX_BYTES;
	}
	return 0;
}

int ship_hdr_encode(const struct ship_hdr *h, const struct ha_authkeys *keys, uint8_t *out)
{
	const struct ha_key *k = ship_key(keys, h->key_index);

	if (!k || !type_cap(h->type) || h->length > type_cap(h->type))
		return -EINVAL;
	memset(out, 0, SHIP_HDR_LEN);
	put_be32(out, SHIP_MAGIC);
	out[4] = SHIP_VERSION;
	out[5] = h->key_index;
	out[6] = h->type;
	hb_name_put(out + 8, h->cluster);
	hb_name_put(out + 40, h->node);
	memcpy(out + 72, h->nonce, SHIP_NONCE_LEN);
	put_be64(out + 88, (uint64_t)h->db_seq);
	put_be32(out + 96, h->length);
	if (mac2(k, out, SHIP_HDR_MAC_OFF, NULL, 0, out + SHIP_HDR_MAC_OFF))
		return -EINVAL;
	return SHIP_HDR_LEN;
}

enum ship_err ship_hdr_decode(const uint8_t *buf, size_t len, const struct ha_authkeys *keys,
			      const uint8_t nonce[SHIP_NONCE_LEN], const char *cluster,
			      const char *peer, struct ship_hdr *h)
{
	uint8_t mac[SHIP_MAC_LEN];
	const struct ha_key *k;

	if (len != SHIP_HDR_LEN || get_be32(buf) != SHIP_MAGIC || buf[4] != SHIP_VERSION)
		return SHIP_ERR_MALFORMED;
	k = ship_key(keys, buf[5]);
	if (!k || mac2(k, buf, SHIP_HDR_MAC_OFF, NULL, 0, mac) ||
	    CRYPTO_memcmp(mac, buf + SHIP_HDR_MAC_OFF, SHIP_MAC_LEN) != 0)
		return SHIP_ERR_AUTH;
	/* Authentic from here on: the fields may be looked at. */
	memset(h, 0, sizeof(*h));
	h->key_index = buf[5];
	h->type = buf[6];
	if (!type_cap(h->type) || buf[7] || get_be32(buf + 100) || hb_name_get(buf + 8, h->cluster) ||
	    hb_name_get(buf + 40, h->node))
		return SHIP_ERR_MALFORMED;
	memcpy(h->nonce, buf + 72, SHIP_NONCE_LEN);
	h->db_seq = (int64_t)get_be64(buf + 88);
	h->length = get_be32(buf + 96);
	if (h->length > type_cap(h->type) || h->db_seq < 0)
		return SHIP_ERR_MALFORMED;
	if (CRYPTO_memcmp(h->nonce, nonce, SHIP_NONCE_LEN) != 0)
		return SHIP_ERR_NONCE;
	if (strcmp(h->cluster, cluster) != 0)
		return SHIP_ERR_CLUSTER;
	if (strcmp(h->node, peer) != 0)
		return SHIP_ERR_NODE;
	return SHIP_OK;
}

int ship_trailer(const struct ha_key *k, const uint8_t *hdr, const uint8_t *payload, size_t len,
		 uint8_t mac[SHIP_MAC_LEN])
{
	return mac2(k, hdr, SHIP_HDR_LEN, payload, len, mac);
}

int ship_trailer_ok(const struct ha_key *k, const uint8_t *hdr, const uint8_t *payload,
		    size_t len, const uint8_t mac[SHIP_MAC_LEN])
{
	uint8_t want[SHIP_MAC_LEN];

	return ship_trailer(k, hdr, payload, len, want) == 0 &&
	       CRYPTO_memcmp(want, mac, SHIP_MAC_LEN) == 0;
}

int ship_reply_encode(const struct ship_reply *r, const struct ha_key *k, uint8_t *out)
{
	memset(out, 0, SHIP_REPLY_LEN);
	put_be32(out, SHIP_REPLY_MAGIC);
	put_be32(out + 4, (uint32_t)r->status);
	put_be64(out + 8, (uint64_t)r->db_seq);
	memcpy(out + 16, r->nonce, SHIP_NONCE_LEN);
	if (mac2(k, out, SHIP_REPLY_MAC_OFF, NULL, 0, out + SHIP_REPLY_MAC_OFF))
		return -EINVAL;
	return SHIP_REPLY_LEN;
}

enum ship_err ship_reply_decode(const uint8_t *buf, size_t len, const struct ha_key *k,
				const uint8_t nonce[SHIP_NONCE_LEN], struct ship_reply *r)
{
	uint8_t mac[SHIP_MAC_LEN];

	if (len != SHIP_REPLY_LEN || get_be32(buf) != SHIP_REPLY_MAGIC)
		return SHIP_ERR_MALFORMED;
	if (mac2(k, buf, SHIP_REPLY_MAC_OFF, NULL, 0, mac) ||
	    CRYPTO_memcmp(mac, buf + SHIP_REPLY_MAC_OFF, SHIP_MAC_LEN) != 0)
		return SHIP_ERR_AUTH;
	r->status = (int32_t)get_be32(buf + 4);
	r->db_seq = (int64_t)get_be64(buf + 8);
	memcpy(r->nonce, buf + 16, SHIP_NONCE_LEN);
	if (r->status > 0)
		return SHIP_ERR_MALFORMED;
	if (CRYPTO_memcmp(r->nonce, nonce, SHIP_NONCE_LEN) != 0)
		return SHIP_ERR_NONCE;
	return SHIP_OK;
}
