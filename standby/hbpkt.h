/* The heartbeat packet: fixed layout, network byte order, version 2, then an HMAC over every
 * byte before it. Receiving checks, in this order: exact length and framing, the MAC
 * (constant-time), then the fields (cluster, sender, time, replay window); nothing reaches
 * the state machine before all of that passed.
 *
 *   off size field
 *     0    4 magic "SBHB"
 *     4    1 version (2; 1 from a standbyd before the LAN address, see below)
 *     5    1 key index (authkeys N)
 *     6    1 sender's state (enum fsm_state)
 *     7    1 flags (HB_F_*)
 *     8   32 cluster name, NUL padded
 *    40   32 sender node name, NUL padded
 *    72    8 boot generation (sender's start time, microseconds since the epoch)
 *    80    8 sequence number within that generation, from 1
 *    88    8 sender's wall clock, milliseconds since the epoch
 *    96    4 resources running (bit i = haresources entry i)
 *   100    4 resources failed
 *   104    8 DB change sequence (data version)
 *   112    1 replication state (enum hb_repl)
 *   113    1 zero
 *   114    2 fence epoch: with HB_F_OUTDATE_PEER the request's, with HB_F_OUTDATED the one
 *            acknowledged (standby/fence.h); 0 with neither
 *   116    8 active since (sender's wall clock, ms; 0 when not active): on a split brain the
 *            node that took the role last keeps it, since clients followed its GARPs last
 *   124    6 the sender's LAN address: the Ethernet address of the interface its service
 *            address goes on (haresources' first IPaddr), all zero without one; a unicast
 *            address. The takeover's ARP probe counts an answer from it only (daemon.c).
 *   130    2 zero
 *   132   32 MAC: HMAC-SHA256/SHA1/MD5 or CRC32, zero padded
 *
 * Version 1 (156 bytes) is the same without bytes 124-131: its MAC starts at 124. A receiver
 * takes both, so a pair can be upgraded one node at a time; a version 1 sender's LAN address
 * is unknown. Which version to send is hb_tx_version's rule: the peer's, and version 2 now
 * and then. */
#ifndef STANDBY_HBPKT_H
#define STANDBY_HBPKT_H

#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include "standby/config.h"

#define HB_MAGIC	0x53424842u	/* "SBHB" */
#define HB_VERSION	2
#define HB_MAC_OFF	132
#define HB_MAC_MAX	32
#define HB_LEN		(HB_MAC_OFF + HB_MAC_MAX)	/* the longest: buffers are this size */
#define HB_V1_MAC_OFF	124
#define HB_V1_LEN	(HB_V1_MAC_OFF + HB_MAC_MAX)

/* How far a sender's clock may be from ours before its packet counts as stale. */
#define HB_MAX_SKEW_MS	30000
#define HB_WINDOW	64	/* replay window, packets */
#define HB_LINK_RING	8	/* recent packets whose arrival links are remembered */
#define HB_MAX_LINKS	32

enum {
	HB_F_YIELD   = 1 << 0,	/* does not want the role (after release, resource failure) */
	HB_F_WANT    = 1 << 1,	/* asks the active peer to hand the role over */
	HB_F_HOLDING = 1 << 2,	/* has the service address configured */
	/* Fencing (standby/fence.h). Both nodes must know these bits: an older receiver drops
	 * the packet as malformed. */
	HB_F_OUTDATE_PEER = 1 << 3,	/* acknowledges writes the receiver's copy lacks */
	HB_F_OUTDATED = 1 << 4,		/* the sender's copy is marked outdated */
};
#define HB_F_ALL (HB_F_YIELD | HB_F_WANT | HB_F_HOLDING | HB_F_OUTDATE_PEER | HB_F_OUTDATED)

/* The data side's replication state, as vdiskd's status reports it ("mirror STATE"). A new
 * value needs both nodes upgraded: an older receiver drops it as malformed. */
enum hb_repl { HB_REPL_UNKNOWN = 0, HB_REPL_IN_SYNC, HB_REPL_SYNCING, HB_REPL_DEGRADED,
	       HB_REPL_SPLIT_BRAIN };
#define HB_REPL_MAX HB_REPL_SPLIT_BRAIN

struct hb_msg {
	uint8_t version;	/* 1 or 2; to hb_encode, 0 means HB_VERSION */
	uint8_t key_index;
	uint8_t state;
	uint8_t flags;
	char cluster[HA_NAME_MAX];
	char node[HA_NAME_MAX];
	uint64_t boot_gen;
	uint64_t seq;
	uint64_t time_ms;
	uint32_t res_running, res_failed;
	int64_t db_seq;
	uint8_t repl;
	uint16_t fence_epoch;
	uint64_t active_since;
	uint8_t lan_mac[6];	/* version 2; all zero: none, or unknown (version 1) */
};

/* Why a packet was dropped; each has a counter in status. */
enum hb_drop {
	HB_OK = 0,
	HB_DROP_MALFORMED,	/* length, magic, version, padding, field syntax */
	HB_DROP_AUTH,		/* unknown key or MAC mismatch */
	HB_DROP_CLUSTER,	/* another cluster's packet */
	HB_DROP_NODE,		/* sender is not our peer */
	HB_DROP_STALE,		/* clock too far off, or an older boot generation */
	HB_DROP_REPLAY,		/* sequence already seen or behind the window */
	HB_DROP_SELF,		/* our own packet looped back: not counted as bad */
	HB_DROP_DUP,		/* a copy of a recent packet that came by another link: normal */
	HB_DROP_NKINDS
};

const char *hb_drop_name(enum hb_drop why);

/* The wall clock in milliseconds: heartbeats carry it (the replay window, the peer's clock
 * offset). */
static inline uint64_t hb_wall_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

/* Name fields (cluster, node) of HA_NAME_MAX bytes, shared with DB shipping's header. put:
 * NUL padded, truncated. get: printable, NUL padded, not empty; 0 or -EINVAL. */
void hb_name_put(uint8_t *p, const char *s);
int hb_name_get(const uint8_t *p, char *out);
const char *hb_repl_name(enum hb_repl r);

/* Replay protection for one peer: its current boot generation, the highest sequence seen and
 * a bitmap of the HB_WINDOW sequences below it. */
struct hb_window {
	uint64_t gen;
	uint64_t top;
	uint64_t bits;		/* bit i: top - i was seen */
	/* The same packet goes out on every link, so a second copy by another link is no
	 * replay; by the same link it is. */
	uint64_t ring_seq[HB_LINK_RING];
	uint32_t ring_links[HB_LINK_RING];
};

/* Writes msg into out[HB_LEN] in msg->version's layout, signed with
 * keys->keys[msg->key_index]. Returns the packet's length (HB_LEN, HB_V1_LEN for version 1)
 * or -EINVAL (undefined key). */
int hb_encode(const struct hb_msg *msg, const struct ha_authkeys *keys, uint8_t *out);

/* (Re)computes the MAC of buf[len] in place with key key_index; len is HB_LEN or HB_V1_LEN.
 * Returns len or -EINVAL. */
int hb_sign(uint8_t *buf, size_t len, const struct ha_authkeys *keys, unsigned key_index);

/* While answering an old peer in version 1, a version 2 heartbeat goes out this often: a
 * new peer that heard only our version 1 so far learns we speak 2 (else two new nodes that
 * first heard each other's version 1 would stay there). The old peer drops it as malformed:
 * one packet in this time, below the burst it reports. */
#define HB_V2_PROBE_MS	10000

/* The version to send: 1 while the peer's current boot generation (peer_gen, 0 if never
 * heard) has sent nothing but version 1 (peer_v2_gen: the last generation that sent a version
 * 2 packet), so an old peer keeps hearing us during a rolling upgrade, except for one version
 * 2 packet every HB_V2_PROBE_MS (*probe_ms: when the last went, 0 at first: the interval
 * starts then; updated); else HB_VERSION. A peer that spoke 2 once is spoken 2 to for its
 * whole generation. */
unsigned hb_tx_version(uint64_t peer_gen, uint64_t peer_v2_gen, uint64_t now_ms,
		       uint64_t *probe_ms);

/* 1 if msg carries a LAN address (version 2, not all zero), which it copies to mac. */
int hb_lan_mac(const struct hb_msg *msg, uint8_t mac[6]);

/* Checks length, framing and MAC only; fills *msg. Accepts a crc-signed packet only when the
 * active key is crc, so a listed-but-unused crc key cannot be used to forge; never one signed
 * with the ship key (DB shipping's own). */
enum hb_drop hb_decode(const uint8_t *buf, size_t len, const struct ha_authkeys *keys,
		       struct hb_msg *msg);

/* Checks the authenticated fields against who we are and the window, and advances the window
 * when the packet is accepted. A boot generation further ahead of now_ms than the allowed
 * skew is stale. link: index (< HB_MAX_LINKS) of the link it came by. */
enum hb_drop hb_accept(const struct hb_msg *msg, const char *cluster, const char *self,
		       const char *peer, uint64_t now_ms, unsigned link, struct hb_window *w);

#endif
