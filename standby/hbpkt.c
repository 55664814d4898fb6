#include "standby/hbpkt.h"

#include <errno.h>
#include <string.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>

#include "common/wire.h"
#include "standby/fsm.h"

const char *hb_drop_name(enum hb_drop why)
{
	static const char *const names[HB_DROP_NKINDS] = {
		"ok", "malformed", "bad_auth", "wrong_cluster", "unknown_node", "stale",
		"replayed", "own", "duplicate",
	};

	return (unsigned)why < HB_DROP_NKINDS ? names[why] : "?";
}

const char *hb_repl_name(enum hb_repl r)
{
	switch (r) {
	case HB_REPL_IN_SYNC: return "in_sync";
	case HB_REPL_SYNCING: return "syncing";
	case HB_REPL_DEGRADED: return "degraded";
	case HB_REPL_SPLIT_BRAIN: return "split_brain";
	case HB_REPL_UNKNOWN: break;
	}
	return "unknown";
}


/* CRC-32 (IEEE), bit by bit: it only exists for old authkeys files and signs nothing. */
static uint32_t crc32_ieee(const uint8_t *p, size_t n)
{
	uint32_t c = 0xffffffffu;
	int k;

	while (n--) {
		c ^= *p++;
		for (k = 0; k < 8; k++)
			c = (c >> 1) ^ (0xedb88320u & (0u - (c & 1)));
	}
	return ~c;
}

/* MAC of buf[0, off) with key k into mac[HB_MAC_MAX] (zero padded); returns its length, or
 * 0 on failure. */
static unsigned compute_mac(const struct ha_key *k, const uint8_t *buf, size_t off, uint8_t *mac)
{
	const EVP_MD *md;
	unsigned len = 0;

	memset(mac, 0, HB_MAC_MAX);
	switch (k->alg) {
	case HA_AUTH_CRC:
		put_be32(mac, crc32_ieee(buf, off));
		return 4;
	case HA_AUTH_MD5: md = EVP_md5(); break;
	case HA_AUTH_SHA1: md = EVP_sha1(); break;
	case HA_AUTH_SHA256: md = EVP_sha256(); break;
	default: return 0;
	}
	if (!HMAC(md, k->key, (int)k->keylen, buf, off, mac, &len) || len > HB_MAC_MAX)
		return 0;
	return len;
}

void hb_name_put(uint8_t *p, const char *s)
{
	size_t n = strnlen(s, HA_NAME_MAX - 1);

	memset(p, 0, HA_NAME_MAX);
	memcpy(p, s, n);
}

int hb_encode(const struct hb_msg *msg, const struct ha_authkeys *keys, uint8_t *out)
{
	int v1 = msg->version == 1;

	if (msg->key_index >= HA_MAX_KEYS || keys->keys[msg->key_index].alg == HA_AUTH_NONE)
		return -EINVAL;
	memset(out, 0, HB_LEN);
	put_be32(out, HB_MAGIC);
	out[4] = v1 ? 1 : HB_VERSION;
	out[5] = msg->key_index;
	out[6] = msg->state;
	out[7] = msg->flags;
	hb_name_put(out + 8, msg->cluster);
	hb_name_put(out + 40, msg->node);
	put_be64(out + 72, msg->boot_gen);
	put_be64(out + 80, msg->seq);
	put_be64(out + 88, msg->time_ms);
	put_be32(out + 96, msg->res_running);
	put_be32(out + 100, msg->res_failed);
	put_be64(out + 104, (uint64_t)msg->db_seq);
	out[112] = msg->repl;
	out[114] = (uint8_t)(msg->fence_epoch >> 8);
	out[115] = (uint8_t)msg->fence_epoch;
	put_be64(out + 116, msg->active_since);
	if (!v1)
		memcpy(out + 124, msg->lan_mac, 6);
	return hb_sign(out, v1 ? HB_V1_LEN : HB_LEN, keys, msg->key_index);
}

int hb_sign(uint8_t *buf, size_t len, const struct ha_authkeys *keys, unsigned key_index)
{
	size_t off = len - HB_MAC_MAX;

	if ((len != HB_LEN && len != HB_V1_LEN) || key_index >= HA_MAX_KEYS ||
	    !compute_mac(&keys->keys[key_index], buf, off, buf + off))
		return -EINVAL;
	return (int)len;
}

unsigned hb_tx_version(uint64_t peer_gen, uint64_t peer_v2_gen, uint64_t now_ms,
		       uint64_t *probe_ms)
{
	if (!peer_gen || peer_gen == peer_v2_gen)
		return HB_VERSION;
	if (!*probe_ms)
		*probe_ms = now_ms;	/* the first interval starts now */
	if (now_ms - *probe_ms < HB_V2_PROBE_MS)
		return 1;
	*probe_ms = now_ms;
	return HB_VERSION;
}

int hb_lan_mac(const struct hb_msg *msg, uint8_t mac[6])
{
	static const uint8_t zero[6];

	if (msg->version < 2 || memcmp(msg->lan_mac, zero, 6) == 0)
		return 0;
	memcpy(mac, msg->lan_mac, 6);
	return 1;
}

int hb_name_get(const uint8_t *p, char *out)
{
	size_t n = strnlen((const char *)p, HA_NAME_MAX), i;

	if (n == 0 || n == HA_NAME_MAX)
		return -EINVAL;
	for (i = 0; i < n; i++)
		if (p[i] <= ' ' || p[i] >= 0x7f)
			return -EINVAL;
	for (i = n; i < HA_NAME_MAX; i++)
		if (p[i])
			return -EINVAL;
	memcpy(out, p, n + 1);
	return 0;
}

enum hb_drop hb_decode(const uint8_t *buf, size_t len, const struct ha_authkeys *keys,
		       struct hb_msg *msg)
{
	uint8_t mac[HB_MAC_MAX];
	const struct ha_key *k;
	unsigned maclen, fence;
	size_t off = len - HB_MAC_MAX;

	/* Each version has its one length. */
	if (!((len == HB_LEN && buf[4] == HB_VERSION) ||
	      (len == HB_V1_LEN && buf[4] == 1)) || get_be32(buf) != HB_MAGIC)
		return HB_DROP_MALFORMED;
	if (buf[5] >= HA_MAX_KEYS)
		return HB_DROP_AUTH;
	k = &keys->keys[buf[5]];
	/* The ship key signs DB transfers only: one who learns it must not get heartbeats. */
	if (k->alg == HA_AUTH_NONE || (keys->ship && buf[5] == keys->ship) ||
	    (k->alg == HA_AUTH_CRC && keys->keys[keys->active].alg != HA_AUTH_CRC))
		return HB_DROP_AUTH;
	maclen = compute_mac(k, buf, off, mac);
	/* The padding after a short MAC is covered too, so no byte of the packet is unchecked. */
	if (!maclen || CRYPTO_memcmp(mac, buf + off, HB_MAC_MAX) != 0)
		return HB_DROP_AUTH;

	memset(msg, 0, sizeof(*msg));
	msg->version = buf[4];
	msg->key_index = buf[5];
	msg->state = buf[6];
	msg->flags = buf[7];
	if (hb_name_get(buf + 8, msg->cluster) || hb_name_get(buf + 40, msg->node))
		return HB_DROP_MALFORMED;
	msg->boot_gen = get_be64(buf + 72);
	msg->seq = get_be64(buf + 80);
	msg->time_ms = get_be64(buf + 88);
	msg->res_running = get_be32(buf + 96);
	msg->res_failed = get_be32(buf + 100);
	msg->db_seq = (int64_t)get_be64(buf + 104);
	msg->repl = buf[112];
	msg->fence_epoch = (uint16_t)(buf[114] << 8 | buf[115]);
	msg->active_since = get_be64(buf + 116);
	/* A LAN address is a unicast one (the group bit clear) or none; its padding zero. */
	if (msg->version >= 2) {
		memcpy(msg->lan_mac, buf + 124, 6);
		if ((msg->lan_mac[0] & 1) || buf[130] || buf[131])
			return HB_DROP_MALFORMED;
	}
	if (buf[113] || msg->repl > HB_REPL_MAX || msg->state >= FSM_NSTATES || msg->seq == 0 ||
	    msg->boot_gen == 0 || (msg->flags & ~HB_F_ALL))
		return HB_DROP_MALFORMED;
	/* one fence role at a time, and an epoch only with it */
	fence = msg->flags & (HB_F_OUTDATE_PEER | HB_F_OUTDATED);
	if (fence == (HB_F_OUTDATE_PEER | HB_F_OUTDATED) || (!fence && msg->fence_epoch))
		return HB_DROP_MALFORMED;
	return HB_OK;
}

static void ring_note(struct hb_window *w, uint64_t seq, unsigned link)
{
	unsigned i = (unsigned)(seq % HB_LINK_RING);

	w->ring_seq[i] = seq;
	w->ring_links[i] = 1u << link;
}

enum hb_drop hb_accept(const struct hb_msg *msg, const char *cluster, const char *self,
		       const char *peer, uint64_t now_ms, unsigned link, struct hb_window *w)
{
	uint64_t skew = msg->time_ms > now_ms ? msg->time_ms - now_ms : now_ms - msg->time_ms;
	unsigned slot;

	if (strcmp(msg->cluster, cluster) != 0)
		return HB_DROP_CLUSTER;
	if (strcmp(msg->node, self) == 0)
		return HB_DROP_SELF;
	if (strcmp(msg->node, peer) != 0)
		return HB_DROP_NODE;
	if (skew > HB_MAX_SKEW_MS || msg->boot_gen < w->gen)
		return HB_DROP_STALE;
	/* The generation is the sender's start time (us): one past our clock by more than the
	 * skew is no restart, and following it would make the real peer's packets stale until
	 * it restarts after that time. */
	if (msg->boot_gen / 1000 > now_ms + HB_MAX_SKEW_MS)
		return HB_DROP_STALE;
	link %= HB_MAX_LINKS;
	if (msg->boot_gen > w->gen) {
		/* The peer restarted: a new generation opens a fresh window. */
		memset(w, 0, sizeof(*w));
		w->gen = msg->boot_gen;
		w->top = msg->seq;
		w->bits = 1;
		ring_note(w, msg->seq, link);
		return HB_OK;
	}
	if (msg->seq > w->top) {
		uint64_t shift = msg->seq - w->top;

		w->bits = shift >= HB_WINDOW ? 0 : w->bits << shift;
		w->bits |= 1;
		w->top = msg->seq;
		ring_note(w, msg->seq, link);
		return HB_OK;
	}
	if (w->top - msg->seq >= HB_WINDOW)
		return HB_DROP_REPLAY;
	if ((w->bits >> (w->top - msg->seq)) & 1) {
		slot = (unsigned)(msg->seq % HB_LINK_RING);
		if (w->ring_seq[slot] == msg->seq && !(w->ring_links[slot] & (1u << link))) {
			w->ring_links[slot] |= 1u << link;
			return HB_DROP_DUP;
		}
		return HB_DROP_REPLAY;
	}
	w->bits |= (uint64_t)1 << (w->top - msg->seq);
	ring_note(w, msg->seq, link);
	return HB_OK;
}
