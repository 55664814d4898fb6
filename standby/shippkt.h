/* DB shipping on the wire: the active standbyd sends the peer a db_ship_snapshot, or the list
 * of clients' connections to tickle after a takeover (connlist.h), over TCP on the HA link.
 * One transfer per connection, four steps:
 *
 *   receiver -> sender   challenge: SHIP_NONCE_LEN random bytes
 *   sender -> receiver   header (SHIP_HDR_LEN), payload (length bytes), trailer (SHIP_MAC_LEN)
 *   receiver -> sender   reply (SHIP_REPLY_LEN)
 *
 * Header, network byte order:
 *
 *   off size field
 *     0    4 magic "SBDB"
 *     4    1 version (1)
 *     5    1 key index (authkeys' "ship N": DB shipping's own HMAC key)
 *     6    1 type: 0 a DB snapshot, 1 a connection list
 *     7    1 zero
 *     8   32 cluster name, NUL padded
 *    40   32 sender node name, NUL padded
 *    72   16 the receiver's challenge, echoed: a recorded transfer cannot be replayed
 *    88    8 change_seq the snapshot holds; for a connection list, the sender's count of
 *             lists (it only tells transfers apart in the logs)
 *    96    4 payload length (at most SHIP_MAX_PAYLOAD, CONN_LIST_MAX_BYTES for a list)
 *   100    4 zero
 *   104   32 HMAC-SHA256 of bytes 0..103
 *
 * The header has its own MAC so the receiver allocates for the payload only after the sender
 * proved it holds the key; the trailer is HMAC-SHA256 over the header and the payload. The
 * reply ("SBDA", status as a negative errno or 0, the applied change_seq, the challenge) is
 * signed the same way, so a forged "applied" cannot make the sender stop shipping.
 *
 * A standbyd from before connection lists refuses type 1 as malformed (counted and logged
 * as a refused transfer, rate limited): upgrade both nodes together. */
#ifndef STANDBY_SHIPPKT_H
#define STANDBY_SHIPPKT_H

#include <stddef.h>
#include <stdint.h>

#include "standby/config.h"
#include "standby/connlist.h"

#define SHIP_MAGIC	0x53424442u	/* "SBDB" */
#define SHIP_REPLY_MAGIC 0x53424441u	/* "SBDA" */
#define SHIP_VERSION	1
#define SHIP_NONCE_LEN	16
#define SHIP_MAC_LEN	32
#define SHIP_HDR_MAC_OFF 104
#define SHIP_HDR_LEN	(SHIP_HDR_MAC_OFF + SHIP_MAC_LEN)
#define SHIP_REPLY_MAC_OFF 32
#define SHIP_REPLY_LEN	(SHIP_REPLY_MAC_OFF + SHIP_MAC_LEN)
/* The admin tables of 300 clients take well under 1 MiB; 64 MiB leaves room for years of
 * growth while bounding what one authenticated peer can make us hold. */
#define SHIP_MAX_PAYLOAD (64u << 20)

enum ship_type { SHIP_TYPE_DB = 0, SHIP_TYPE_CONNS = 1 };

struct ship_hdr {
	uint8_t key_index;
	uint8_t type;		/* enum ship_type */
	char cluster[HA_NAME_MAX];
	char node[HA_NAME_MAX];
	uint8_t nonce[SHIP_NONCE_LEN];
	int64_t db_seq;
	uint32_t length;
};

struct ship_reply {
	int32_t status;		/* 0 applied, else a negative errno */
	int64_t db_seq;		/* what the receiver holds now */
	uint8_t nonce[SHIP_NONCE_LEN];
};

/* Why a header or reply was refused. */
enum ship_err {
	SHIP_OK = 0,
	SHIP_ERR_MALFORMED,	/* magic, version, type, zero fields, names, length over the
				 * type's cap */
	SHIP_ERR_AUTH,		/* key not usable (undefined, crc) or MAC mismatch */
	SHIP_ERR_NONCE,		/* not the challenge this connection sent */
	SHIP_ERR_CLUSTER,
	SHIP_ERR_NODE,		/* sender is not our peer */
};

const char *ship_err_name(enum ship_err e);

/* The key a transfer signed with key index uses: authkeys' ship key ("ship N") when index
 * names it and it is an HMAC key, else NULL. A heartbeat key never signs a transfer. */
const struct ha_key *ship_key(const struct ha_authkeys *keys, unsigned index);

/* Writes h into out[SHIP_HDR_LEN], MAC included. Returns SHIP_HDR_LEN or -EINVAL. */
int ship_hdr_encode(const struct ship_hdr *h, const struct ha_authkeys *keys, uint8_t *out);
/* Checks framing, the header MAC, the echoed nonce, cluster and sender, in that order. */
enum ship_err ship_hdr_decode(const uint8_t *buf, size_t len, const struct ha_authkeys *keys,
			      const uint8_t nonce[SHIP_NONCE_LEN], const char *cluster,
			      const char *peer, struct ship_hdr *h);

/* Trailer: HMAC-SHA256 over the header and the payload. */
int ship_trailer(const struct ha_key *k, const uint8_t *hdr, const uint8_t *payload, size_t len,
		 uint8_t mac[SHIP_MAC_LEN]);
/* 1 when mac is the trailer of hdr + payload under k, else 0 (constant-time compare). */
int ship_trailer_ok(const struct ha_key *k, const uint8_t *hdr, const uint8_t *payload,
		    size_t len, const uint8_t mac[SHIP_MAC_LEN]);

int ship_reply_encode(const struct ship_reply *r, const struct ha_key *k, uint8_t *out);
enum ship_err ship_reply_decode(const uint8_t *buf, size_t len, const struct ha_key *k,
				const uint8_t nonce[SHIP_NONCE_LEN], struct ship_reply *r);

#endif
