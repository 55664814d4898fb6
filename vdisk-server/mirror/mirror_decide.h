/* The mirror's decision when it has the peer's state after a (re)connect: what to do with
 * the two copies of a client's disk. A pure function of the two sides' generations and
 * flags, so every case has a row in a table test (tests/unit/test_mirror_decide.c), as the
 * failover's state machine has (standby/fsm.c). Why each case is decided so: docs/mirror.md,
 * "When it comes back: the handshake". */
#ifndef VDISK_MIRROR_DECIDE_H
#define VDISK_MIRROR_DECIDE_H

#include <stdint.h>

#include "vdisk-server/mirror/mirror_proto.h"

enum mirror_verdict {
	MV_BASE_DIFFERS,	/* the peer's base image is another: not mirrored */
	MV_SPLIT_UNSYNCED,	/* ours was started here without the peer's, which holds writes */
	MV_FULL_RESYNC,		/* a new or discarded replica, our overlay reset, or a split
				 * brain settled for us: the replica is reset and copied whole */
	MV_FULL_INCONSISTENT,	/* the peer's copy is an unfinished resync of an unknown
				 * generation: never served, so copying it whole loses nothing */
	MV_FETCH_BITMAP,	/* the generations agree and the peer recorded chunks of its
				 * own: its bitmap first, then the resync */
	MV_RESYNC,		/* the generations agree: our recorded chunks only */
	MV_SPLIT_BRAIN,		/* both copies took writes while apart */
};

struct mirror_side {
	uint64_t gen;		/* this copy's generation */
	uint64_t peer_gen;	/* the generation it last knew the other to hold; 0 unknown */
	uint32_t flags;		/* MIRROR_NEVER_SYNCED, MIRROR_INCONSISTENT (mirror_meta.h) */
};

struct mirror_decide_in {
	struct mirror_side ours;
	struct mp_state peer;	/* as the peer sent it */
	int base_same;		/* size, chunks and the base's fingerprint agree */
	int full_sync;		/* a full resync is due here (a reset or a settled split) */
};

enum mirror_verdict mirror_decide(const struct mirror_decide_in *in);
const char *mirror_verdict_name(enum mirror_verdict v);

#endif
