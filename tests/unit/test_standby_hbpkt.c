/* Heartbeat packets: round trip for every algorithm and both versions; forged, tampered,
 * replayed, stale, wrong-cluster, truncated and foreign packets are dropped with the right
 * reason; the version a node sends through a rolling upgrade. */
#include <string.h>

#include "common/log.h"
#include "standby/hbpkt.h"
#include "tests/lib/tap.h"

#define NOW 1790000000000ull
#define LAN_MAC "\x02\x00\x5e\x10\x20\x30"

static struct ha_authkeys keys_with(enum ha_auth_alg alg, const char *key)
{
	struct ha_authkeys ak;

	memset(&ak, 0, sizeof(ak));
	ak.active = 1;
	ak.keys[1].alg = alg;
	ak.keys[1].keylen = strlen(key);
	memcpy(ak.keys[1].key, key, strlen(key));
	return ak;
}

static struct hb_msg base_msg(uint64_t gen, uint64_t seq)
{
	struct hb_msg m;

	memset(&m, 0, sizeof(m));
	m.key_index = 1;
	m.state = 1;
	m.flags = HB_F_HOLDING;
	strcpy(m.cluster, "lab");
	strcpy(m.node, "alpha");
	m.boot_gen = gen;
	m.seq = seq;
	m.time_ms = NOW;
	m.res_running = 0x5;
	m.res_failed = 0x2;
	m.db_seq = 77;
	m.repl = HB_REPL_IN_SYNC;
	memcpy(m.lan_mac, LAN_MAC, 6);
	return m;
}

/* decode + accept as node "beta" whose peer is "alpha" */
static enum hb_drop rx(const uint8_t *buf, size_t len, const struct ha_authkeys *ak,
		       struct hb_window *w, struct hb_msg *out)
{
	enum hb_drop d = hb_decode(buf, len, ak, out);

	return d != HB_OK ? d : hb_accept(out, "lab", "beta", "alpha", NOW, 0, w);
}

static void test_roundtrip(void)
{
	static const enum ha_auth_alg algs[] = { HA_AUTH_SHA256, HA_AUTH_SHA1, HA_AUTH_MD5,
						 HA_AUTH_CRC };
	size_t i;

	for (i = 0; i < 4; i++) {
		struct ha_authkeys ak = keys_with(algs[i], algs[i] == HA_AUTH_CRC ? "" : "k3y");
		struct hb_msg m = base_msg(1000, 1), got;
		struct hb_window w = { 0 };
		uint8_t buf[HB_LEN];

		is_int(hb_encode(&m, &ak, buf), HB_LEN, "%s: encode", ha_auth_alg_name(algs[i]));
		is_int(rx(buf, HB_LEN, &ak, &w, &got), HB_OK, "%s: accepted",
		       ha_auth_alg_name(algs[i]));
		is_str(got.node, "alpha", "%s: node", ha_auth_alg_name(algs[i]));
		ok(got.boot_gen == 1000 && got.seq == 1 && got.time_ms == NOW && got.state == 1 &&
		   got.flags == HB_F_HOLDING && got.res_running == 5 && got.res_failed == 2 &&
		   got.db_seq == 77 && got.repl == HB_REPL_IN_SYNC && got.version == 2 &&
		   memcmp(got.lan_mac, LAN_MAC, 6) == 0,
		   "%s: every field survives", ha_auth_alg_name(algs[i]));
	}
}

/* Version 1, as a standbyd from before the LAN address sends it: 156 bytes, accepted, its
 * LAN address unknown; and the length goes with the version byte. */
static void test_version1(void)
{
	struct ha_authkeys ak = keys_with(HA_AUTH_SHA256, "k3y");
	struct hb_msg m = base_msg(1000, 1), got;
	struct hb_window w = { 0 };
	uint8_t buf[HB_LEN], mac[6];

	m.version = 1;
	is_int(hb_encode(&m, &ak, buf), HB_V1_LEN, "version 1 encodes to %d bytes", HB_V1_LEN);
	is_int(buf[4], 1, "version byte 1");
	is_int(rx(buf, HB_V1_LEN, &ak, &w, &got), HB_OK, "version 1 accepted");
	ok(got.version == 1 && got.db_seq == 77 && got.active_since == 0,
	   "version 1 fields survive");
	is_int(hb_lan_mac(&got, mac), 0, "a version 1 sender's LAN address is unknown");
	is_int(rx(buf, HB_LEN, &ak, &w, &got), HB_DROP_MALFORMED,
	       "version 1 byte at version 2's length: malformed");
	m = base_msg(1000, 2);
	hb_encode(&m, &ak, buf);
	is_int(rx(buf, HB_V1_LEN, &ak, &w, &got), HB_DROP_MALFORMED,
	       "version 2 cut to version 1's length: malformed");
	is_int(rx(buf, HB_LEN, &ak, &w, &got), HB_OK, "version 2 accepted");
	is_int(hb_lan_mac(&got, mac), 1, "version 2 carries the LAN address");
	ok(memcmp(mac, LAN_MAC, 6) == 0, "the address itself");
	m = base_msg(1000, 3);
	memset(m.lan_mac, 0, 6);
	hb_encode(&m, &ak, buf);
	is_int(rx(buf, HB_LEN, &ak, &w, &got), HB_OK, "version 2 without a LAN address accepted");
	is_int(hb_lan_mac(&got, mac), 0, "and its address is unknown");
}

/* Which version a node sends (hb_tx_version), and two nodes applying the rule to each other
 * through a rolling upgrade, one heartbeat each per 500 ms: an old peer is answered in version
 * 1 (with a version 2 probe every HB_V2_PROBE_MS); once it restarts new, having heard only
 * version 1 from us, both settle on version 2 within one probe interval and stay there. */
static void test_tx_version(void)
{
	struct node {
		unsigned old;
		uint64_t gen, peer_gen, peer_v2_gen, probe_ms;
		unsigned sent, v1_sent, dropped;
	} x, y;
	uint64_t probe = 0, now;
	int round, flips = 0;
	unsigned last = 0, old_dropped = 0;

	is_int(hb_tx_version(0, 0, 1000, &probe), 2, "nobody heard yet: version 2");
	is_int(hb_tx_version(5, 5, 1000, &probe), 2, "the peer spoke version 2: 2");
	is_int(hb_tx_version(5, 0, 1000, &probe), 1, "only version 1 from the peer: 1");
	is_int(probe, 1000, "the probe interval starts then");
	is_int(hb_tx_version(5, 0, 1000 + HB_V2_PROBE_MS - 1, &probe), 1, "1 until it ends");
	is_int(hb_tx_version(5, 0, 1000 + HB_V2_PROBE_MS, &probe), 2, "then one version 2 probe");
	is_int(probe, 1000 + HB_V2_PROBE_MS, "the probe's time kept");
	is_int(hb_tx_version(6, 5, 1001 + HB_V2_PROBE_MS, &probe), 1,
	       "restarted, only version 1 since: 1 again");
	x = (struct node){ 0, 100, 0, 0, 0, 0, 0, 0 };
	y = (struct node){ 1, 200, 0, 0, 0, 0, 0, 0 };	/* y still runs the old standbyd */
	for (round = 0; round < 200; round++) {
		struct node *s = round % 2 ? &y : &x, *r = round % 2 ? &x : &y;
		unsigned v;

		now = 1000000 + (uint64_t)round * 250;
		if (round == 60) {	/* y upgraded and restarted; x is about to speak 1 to it */
			old_dropped = y.dropped;
			y = (struct node){ 0, 300, 100, 0, 0, 0, 0, 0 };
		}
		v = s->old ? 1 : hb_tx_version(s->peer_gen, s->peer_v2_gen, now, &s->probe_ms);
		s->sent = v;
		s->v1_sent += v == 1;
		if (r->old && v != 1) {
			r->dropped++;	/* an old node drops version 2 as malformed */
			continue;
		}
		r->peer_gen = s->gen;
		if (v == 2)
			r->peer_v2_gen = s->gen;
		if (round >= 140 && s == &x) {
			flips += last && v != last;
			last = v;
		}
	}
	is_int(x.sent, 2, "x speaks version 2 after the upgrade");
	is_int(y.sent, 2, "so does y");
	is_int(flips, 0, "and neither goes back to version 1");
	ok(x.v1_sent >= 25, "x answered the old y in version 1 (%u packets)", x.v1_sent);
	is_int(old_dropped, 2, "the old y dropped 2 of x's packets in 15 s: the first, and a "
	       "version 2 probe after %u s", HB_V2_PROBE_MS / 1000);
	ok(y.v1_sent > 0, "y, new, spoke version 1 at first (%u packets), having heard only that",
	   y.v1_sent);
}

static void test_forged(void)
{
	struct ha_authkeys ak = keys_with(HA_AUTH_SHA256, "right"),
			   bad = keys_with(HA_AUTH_SHA256, "wrong");
	struct hb_msg m = base_msg(1000, 1), got;
	struct hb_window w = { 0 };
	uint8_t buf[HB_LEN];
	size_t i;

	hb_encode(&m, &bad, buf);
	is_int(rx(buf, HB_LEN, &ak, &w, &got), HB_DROP_AUTH, "wrong key: bad_auth");
	hb_encode(&m, &ak, buf);
	for (i = 0; i < HB_LEN; i += 7) {
		uint8_t t[HB_LEN];
		enum hb_drop d;

		memcpy(t, buf, HB_LEN);
		t[i] ^= 0x10;
		d = rx(t, HB_LEN, &ak, &w, &got);
		ok(d == HB_DROP_AUTH || (i < 5 && d == HB_DROP_MALFORMED),
		   "bit flipped at byte %zu dropped (%s)", i, hb_drop_name(d));
	}
	{
		struct ha_authkeys mixed = ak;
		struct ha_authkeys crc = keys_with(HA_AUTH_CRC, "");

		/* A crc key listed beside an active sha256 one must not open a door. */
		mixed.keys[2].alg = HA_AUTH_CRC;
		m.key_index = 2;
		crc.keys[2].alg = HA_AUTH_CRC;
		hb_encode(&m, &crc, buf);
		is_int(rx(buf, HB_LEN, &mixed, &w, &got), HB_DROP_AUTH,
		       "crc-signed packet refused while the active key is sha256");
		m.key_index = 9;
		is_int(hb_encode(&m, &ak, buf), -22, "encode with an undefined key fails");
		m.key_index = 1;
		hb_encode(&m, &ak, buf);
		buf[5] = 9;
		is_int(rx(buf, HB_LEN, &ak, &w, &got), HB_DROP_AUTH, "undefined key index: bad_auth");
		buf[5] = 200;
		is_int(rx(buf, HB_LEN, &ak, &w, &got), HB_DROP_AUTH, "key index past table: bad_auth");
	}
	{
		/* The ship key signs DB transfers only, never a heartbeat. */
		struct ha_authkeys shipper = ak, rxkeys = ak;

		shipper.keys[3] = bad.keys[1];
		shipper.active = 3;
		rxkeys.keys[3] = bad.keys[1];
		m.key_index = 3;
		hb_encode(&m, &shipper, buf);
		is_int(rx(buf, HB_LEN, &rxkeys, &w, &got), HB_OK, "key 3 as a heartbeat key: accepted");
		rxkeys.ship = 3;
		m.seq = 2;
		hb_encode(&m, &shipper, buf);
		is_int(rx(buf, HB_LEN, &rxkeys, &w, &got), HB_DROP_AUTH,
		       "key 3 as the ship key: a heartbeat signed with it is bad_auth");
		m.key_index = 1;
	}
}

static void test_malformed(void)
{
	struct ha_authkeys ak = keys_with(HA_AUTH_SHA256, "k");
	struct hb_msg m = base_msg(1000, 1), got;
	struct hb_window w = { 0 };
	uint8_t buf[HB_LEN + 1];
	size_t n;

	hb_encode(&m, &ak, buf);
	for (n = 0; n < HB_LEN; n += 29)
		is_int(rx(buf, n, &ak, &w, &got), HB_DROP_MALFORMED, "truncated to %zu: malformed", n);
	is_int(rx(buf, HB_LEN - 1, &ak, &w, &got), HB_DROP_MALFORMED, "one byte short: malformed");
	is_int(rx(buf, HB_LEN + 1, &ak, &w, &got), HB_DROP_MALFORMED, "one byte long: malformed");
	buf[4] = 3;
	is_int(rx(buf, HB_LEN, &ak, &w, &got), HB_DROP_MALFORMED, "version 3: malformed");
	m = base_msg(1000, 1);
	m.lan_mac[0] = 0x03;
	hb_encode(&m, &ak, buf);
	is_int(rx(buf, HB_LEN, &ak, &w, &got), HB_DROP_MALFORMED,
	       "a multicast LAN address: malformed");
	m = base_msg(1000, 1);
	hb_encode(&m, &ak, buf);
	buf[131] = 1;
	hb_sign(buf, HB_LEN, &ak, 1);
	is_int(rx(buf, HB_LEN, &ak, &w, &got), HB_DROP_MALFORMED,
	       "the LAN address's padding not zero: malformed");
	is_int(hb_sign(buf, HB_LEN - 1, &ak, 1), -22, "signing an odd length fails");
	/* Signed but with nonsense fields: only a key holder can send these. */
	m = base_msg(1000, 0);
	hb_encode(&m, &ak, buf);
	is_int(rx(buf, HB_LEN, &ak, &w, &got), HB_DROP_MALFORMED, "sequence 0: malformed");
	m = base_msg(1000, 1);
	m.repl = 9;
	hb_encode(&m, &ak, buf);
	is_int(rx(buf, HB_LEN, &ak, &w, &got), HB_DROP_MALFORMED, "replication 9: malformed");
	m = base_msg(1000, 1);
	m.node[0] = '\0';
	hb_encode(&m, &ak, buf);
	is_int(rx(buf, HB_LEN, &ak, &w, &got), HB_DROP_MALFORMED, "empty node: malformed");
	m = base_msg(1000, 1);
	strcpy(m.node, "al pha");
	hb_encode(&m, &ak, buf);
	is_int(rx(buf, HB_LEN, &ak, &w, &got), HB_DROP_MALFORMED, "blank in node: malformed");
	m = base_msg(1000, 1);
	m.flags = 0x80;
	hb_encode(&m, &ak, buf);
	is_int(rx(buf, HB_LEN, &ak, &w, &got), HB_DROP_MALFORMED, "unknown flag: malformed");
}

static void test_fields(void)
{
	struct ha_authkeys ak = keys_with(HA_AUTH_SHA256, "k");
	struct hb_msg m, got;
	struct hb_window w = { 0 };
	uint8_t buf[HB_LEN];

	m = base_msg(1000, 1);
	strcpy(m.cluster, "other");
	hb_encode(&m, &ak, buf);
	is_int(rx(buf, HB_LEN, &ak, &w, &got), HB_DROP_CLUSTER, "other cluster: wrong_cluster");
	m = base_msg(1000, 1);
	strcpy(m.node, "gamma");
	hb_encode(&m, &ak, buf);
	is_int(rx(buf, HB_LEN, &ak, &w, &got), HB_DROP_NODE, "third node: unknown_node");
	m = base_msg(1000, 1);
	strcpy(m.node, "beta");
	hb_encode(&m, &ak, buf);
	is_int(rx(buf, HB_LEN, &ak, &w, &got), HB_DROP_SELF, "own packet: own");
	m = base_msg(1000, 1);
	m.time_ms = NOW - HB_MAX_SKEW_MS - 1;
	hb_encode(&m, &ak, buf);
	is_int(rx(buf, HB_LEN, &ak, &w, &got), HB_DROP_STALE, "old clock: stale");
	m.time_ms = NOW + HB_MAX_SKEW_MS + 1;
	hb_encode(&m, &ak, buf);
	is_int(rx(buf, HB_LEN, &ak, &w, &got), HB_DROP_STALE, "future clock: stale");
	is_int(w.gen, 0, "dropped packets leave the window alone");
}

static void test_replay(void)
{
	struct ha_authkeys ak = keys_with(HA_AUTH_SHA256, "k");
	struct hb_window w = { 0 };
	struct hb_msg m, got;
	uint8_t p5[HB_LEN], buf[HB_LEN];
	uint64_t s;

	for (s = 1; s <= 10; s++) {
		m = base_msg(1000, s);
		hb_encode(&m, &ak, buf);
		if (s == 5)
			memcpy(p5, buf, HB_LEN);
		if (s != 7 && rx(buf, HB_LEN, &ak, &w, &got) != HB_OK)
			ok(0, "sequence %llu accepted", (unsigned long long)s);
	}
	is_int(w.top, 10, "window top follows the sequence");
	is_int(rx(buf, HB_LEN, &ak, &w, &got), HB_DROP_REPLAY, "last packet again: replayed");
	is_int(rx(p5, HB_LEN, &ak, &w, &got), HB_DROP_REPLAY, "old packet again: replayed");
	m = base_msg(1000, 7);
	hb_encode(&m, &ak, buf);
	is_int(rx(buf, HB_LEN, &ak, &w, &got), HB_OK, "late but unseen 7 accepted (reordering)");
	is_int(rx(buf, HB_LEN, &ak, &w, &got), HB_DROP_REPLAY, "7 again: replayed");
	m = base_msg(1000, 200);
	hb_encode(&m, &ak, buf);
	is_int(rx(buf, HB_LEN, &ak, &w, &got), HB_OK, "jump ahead accepted");
	m = base_msg(1000, 200 - HB_WINDOW);
	hb_encode(&m, &ak, buf);
	is_int(rx(buf, HB_LEN, &ak, &w, &got), HB_DROP_REPLAY, "behind the window: replayed");
	m = base_msg(1000, 200 - HB_WINDOW + 1);
	hb_encode(&m, &ak, buf);
	is_int(rx(buf, HB_LEN, &ak, &w, &got), HB_OK, "window's oldest slot accepted");
	m = base_msg(2000, 1);
	hb_encode(&m, &ak, buf);
	is_int(rx(buf, HB_LEN, &ak, &w, &got), HB_OK, "new boot generation restarts the sequence");
	is_int(w.gen, 2000, "window follows the generation");
	is_int(rx(p5, HB_LEN, &ak, &w, &got), HB_DROP_STALE,
	       "previous generation's packet: stale");
}

/* A boot generation is the sender's start time in microseconds: one further ahead of our
 * clock than the allowed skew cannot be real, and once accepted it would make every real
 * packet of the peer stale (a lower generation) until the peer restarted after it. */
static void test_future_generation(void)
{
	struct ha_authkeys ak = keys_with(HA_AUTH_SHA256, "k");
	struct hb_window w = { 0 };
	struct hb_msg m, got;
	uint8_t buf[HB_LEN];

	m = base_msg(NOW * 1000 - 5000000, 1);
	hb_encode(&m, &ak, buf);
	is_int(rx(buf, HB_LEN, &ak, &w, &got), HB_OK, "the peer, started 5 s ago");
	m = base_msg((NOW + HB_MAX_SKEW_MS + 1) * 1000, 1);
	hb_encode(&m, &ak, buf);
	is_int(rx(buf, HB_LEN, &ak, &w, &got), HB_DROP_STALE,
	       "a generation past our clock + skew: stale");
	m = base_msg(UINT64_MAX, 1);
	hb_encode(&m, &ak, buf);
	is_int(rx(buf, HB_LEN, &ak, &w, &got), HB_DROP_STALE, "the largest generation: stale");
	is_int(w.gen, NOW * 1000 - 5000000, "the window keeps the real generation");
	m = base_msg(NOW * 1000 - 5000000, 2);
	hb_encode(&m, &ak, buf);
	is_int(rx(buf, HB_LEN, &ak, &w, &got), HB_OK, "the real peer's next packet is accepted");
	m = base_msg((NOW + HB_MAX_SKEW_MS) * 1000, 1);
	hb_encode(&m, &ak, buf);
	is_int(rx(buf, HB_LEN, &ak, &w, &got), HB_OK,
	       "a restart by a peer whose clock is ahead by the whole skew is accepted");
}

static void test_links(void)
{
	struct ha_authkeys ak = keys_with(HA_AUTH_SHA256, "k");
	struct hb_window w = { 0 };
	struct hb_msg m = base_msg(1000, 5), got;
	uint8_t buf[HB_LEN];

	hb_encode(&m, &ak, buf);
	hb_decode(buf, HB_LEN, &ak, &got);
	is_int(hb_accept(&got, "lab", "beta", "alpha", NOW, 0, &w), HB_OK, "first copy on link 0");
	is_int(hb_accept(&got, "lab", "beta", "alpha", NOW, 1, &w), HB_DROP_DUP,
	       "same packet by link 1: duplicate, not a replay");
	is_int(hb_accept(&got, "lab", "beta", "alpha", NOW, 1, &w), HB_DROP_REPLAY,
	       "again by link 1: replayed");
	is_int(hb_accept(&got, "lab", "beta", "alpha", NOW, 0, &w), HB_DROP_REPLAY,
	       "again by link 0: replayed");
	m = base_msg(1000, 5 + HB_LINK_RING);
	hb_encode(&m, &ak, buf);
	hb_decode(buf, HB_LEN, &ak, &got);
	is_int(hb_accept(&got, "lab", "beta", "alpha", NOW, 0, &w), HB_OK, "later packet");
	m = base_msg(1000, 5);
	hb_encode(&m, &ak, buf);
	hb_decode(buf, HB_LEN, &ak, &got);
	is_int(hb_accept(&got, "lab", "beta", "alpha", NOW, 2, &w), HB_DROP_REPLAY,
	       "an old packet by a new link is a replay, not a duplicate");
}

int main(void)
{
	log_init("test", 0, LOG_ERR);
	test_roundtrip();
	test_version1();
	test_tx_version();
	test_forged();
	test_malformed();
	test_fields();
	test_replay();
	test_future_generation();
	test_links();
	return done_testing();
}
