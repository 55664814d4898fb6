#include "vdisk-server/mirror/mirror_decide.h"

#include "vdisk-server/mirror/mirror_meta.h"

enum mirror_verdict mirror_decide(const struct mirror_decide_in *in)
{
	const struct mirror_side *o = &in->ours;
	const struct mp_state *p = &in->peer;

	if (!in->base_same)
		return MV_BASE_DIFFERS;
	/* which of the two holds the client's disk is not ours to guess, and discarding the
	 * peer's could lose the only copy */
	if (!in->full_sync && o->peer_gen == 0 && (o->flags & MIRROR_NEVER_SYNCED) &&
	    p->gen != 0 && !(p->flags & MIRROR_INCONSISTENT))
		return MV_SPLIT_UNSYNCED;
	if (in->full_sync || p->gen == 0 || o->peer_gen == 0)
		return MV_FULL_RESYNC;
	if (p->gen == o->gen || p->gen == o->peer_gen)
		return p->nset ? MV_FETCH_BITMAP : MV_RESYNC;
	if (p->flags & MIRROR_INCONSISTENT)
		return MV_FULL_INCONSISTENT;
	return MV_SPLIT_BRAIN;
}

const char *mirror_verdict_name(enum mirror_verdict v)
{
	static const char *const names[] = {
		[MV_BASE_DIFFERS] = "base differs", [MV_SPLIT_UNSYNCED] = "split (unsynced copy)",
		[MV_FULL_RESYNC] = "full resync", [MV_FULL_INCONSISTENT] = "full (inconsistent)",
		[MV_FETCH_BITMAP] = "fetch bitmap", [MV_RESYNC] = "resync",
		[MV_SPLIT_BRAIN] = "split brain",
	};

	return (unsigned)v < sizeof(names) / sizeof(names[0]) ? names[v] : "?";
}
