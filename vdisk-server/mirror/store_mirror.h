/* The synchronous mirror: a store stacked on a hot-standby client's overlay that sends every
 * write, UNMAP and FLUSH to the same client's replica on the peer vdiskd (libiscsi, async, in
 * the event loop) and completes it only when both sides have (DRBD's protocol C). Reads are
 * the overlay's. Writes that overlap one in flight wait for it, so both copies apply them in
 * the same order.
 *
 * When the peer is gone or does not answer within the timeout, writes go on locally and their
 * chunks are recorded in the persistent bitmap (mirror_meta.h); when it is back, a handshake of
 * generation ids decides: resync only the recorded chunks (plus the peer's own activity log),
 * a full resync (a new or discarded replica), or nothing at all when both sides took writes
 * apart (split brain: the admin decides). docs/mirror.md has the protocol. */
#ifndef VDISK_STORE_MIRROR_H
#define VDISK_STORE_MIRROR_H

#include <stdint.h>

#include "common/evloop.h"
#include "vdisk-server/mirror/mirror_fence.h"
#include "vdisk-server/mirror/mirror_meta.h"
#include "vdisk-server/mirror/mirror_proto.h"
#include "vdisk-server/store/store.h"

#define MIRROR_NAME_MAX 224

struct mirror_config {
	char peer[80];			/* the peer's replica listener, "ADDR:PORT" */
	char target[MIRROR_NAME_MAX];	/* the target name clients log in to */
	char chap_user[64];		/* the pair secret (CHAP) */
	char chap_secret[128];
	unsigned timeout_ms;		/* no answer for this long: the peer is gone */
	/* Shared by every mirror of the server: the peer answered the last handshake. While
	 * it is set, a mirror that is still connecting holds writes (at most timeout_ms)
	 * instead of acknowledging them locally: a disk opened with the peer up gets no
	 * write the peer lacks. Cleared by any peer loss and by a takeover. */
	int *peer_up;
	uint64_t rate_bps;		/* resync bandwidth cap, bytes/s; 0 none */
	/* Tests only (vdiskd --test-fault), at the next resync's last step (SET STATE):
	 * MIRROR_FAULT_CRASH_AT_ANSWER: the process exits at once when the peer's answer comes
	 * (the peer applied it; nothing here knows); MIRROR_FAULT_LOSE_REQUEST: the step is
	 * not sent and the connection drops, once. Shared by every mirror of the server. */
	int *fault;
	/* Shared by every mirror of the server: writes the peer lacks are acknowledged only
	 * once it is fenced (mirror_fence.h). NULL: at once. */
	struct mirror_fence *fence;
	/* The worker pool: the state file's fdatasync, which a FUA write or a FLUSH needs
	 * first, runs there. NULL: on the loop thread (the unit tests' stores have no pool). */
	struct store_pool *pool;
};

enum {
	MIRROR_FAULT_CRASH_AT_ANSWER = 1,
	MIRROR_FAULT_LOSE_REQUEST = 2,
};

enum mirror_state {
	MIRROR_CONNECTING,	/* writes are recorded until the handshake is done */
	MIRROR_SYNCING,		/* connected, writes mirrored, recorded chunks being copied */
	MIRROR_IN_SYNC,
	MIRROR_DEGRADED,	/* peer gone: writes recorded, reconnecting */
	MIRROR_SPLIT_BRAIN,	/* both took writes apart: nothing copied until resolved */
	MIRROR_BASE_DIFFERS,	/* the peer's base image is not ours: not mirrored */
};

struct mirror_status {
	enum mirror_state state;
	uint64_t dirty;			/* chunks that may differ from the peer */
	uint64_t resync_done, resync_total;	/* chunks, this resync */
	uint64_t eta_s;
	uint64_t gen, peer_gen;
	uint64_t mirrored, failures;	/* writes sent to the peer, peer losses */
	uint64_t unflushed;		/* chunks whose writes the peer has not flushed yet */
	uint64_t batches, batched;	/* WRITE BATCH commands sent, the writes they carried */
	unsigned held;			/* writes done apart from the peer, held for the fence */
	char down_why[128];		/* why the peer was lost last; "" before any loss */
};

const char *mirror_state_name(enum mirror_state s);

/* Stacks a mirror on local (which it then owns, with meta) for the client whose initiator name
 * is initiator; name is for the log. on_state(arg) runs after every state change. */
int store_mirror_open(struct evloop *loop, struct store *local, struct mirror_meta *meta,
		      const struct mirror_config *cfg, const char *initiator, const char *name,
		      const uint8_t fingerprint[MP_FINGERPRINT_LEN],
		      void (*on_state)(void *arg), void *arg, struct store **out);
void store_mirror_status(struct store *st, struct mirror_status *out);
/* Split brain settled in favour of this copy: the peer's is discarded and fully resynced.
 * -EINVAL when not in split brain. */
int store_mirror_keep_local(struct store *st);
/* This server is no longer the active one: writes held for the fence fail (nothing of them
 * was acknowledged; the peer that took over lacks them). */
void store_mirror_drop_held(struct store *st);
/* The carrier of the link to the peer (common/linkwatch.h): lost, the peer is given up at
 * once instead of after the timeout; back, a reconnect is tried at the next tick. */
void store_mirror_link(struct store *st, int up);

#endif
