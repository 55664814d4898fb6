/* The mirror's decision at a (re)connect, one row per case: generations (ours, what we knew
 * of the peer's, the peer's), flags, the base, a full sync due, the peer's recorded chunks;
 * and the verdict. */
#include "tests/lib/tap.h"
#include "vdisk-server/mirror/mirror_decide.h"
#include "vdisk-server/mirror/mirror_meta.h"

#define NS MIRROR_NEVER_SYNCED
#define INC MIRROR_INCONSISTENT

int main(void)
{
	static const struct {
		uint64_t gen, peer_gen;
		uint32_t flags;
		uint64_t p_gen;
		uint32_t p_flags;
		uint64_t p_nset;
		int base_same, full_sync;
		enum mirror_verdict want;
		const char *what;
	} v[] = {
		{ 5, 5, 0, 5, 0, 0, 0, 0, MV_BASE_DIFFERS, "another base: before anything else" },
		{ 5, 0, NS, 0, 0, 0, 0, 1, MV_BASE_DIFFERS, "another base even with a sync due" },
		{ 7, 0, NS, 3, 0, 0, 1, 0, MV_SPLIT_UNSYNCED,
		  "ours started here, never synced; the peer's a whole copy: not ours to guess" },
		{ 7, 0, NS, 3, INC, 0, 1, 0, MV_FULL_RESYNC,
		  "ours never synced, the peer's unfinished: copied whole" },
		{ 7, 0, NS, 3, 0, 0, 1, 1, MV_FULL_RESYNC, "the same with a full sync due here" },
		{ 7, 0, NS, 0, 0, 0, 1, 0, MV_FULL_RESYNC, "a new replica (generation 0)" },
		{ 7, 5, 0, 0, 0, 0, 1, 0, MV_FULL_RESYNC, "a discarded replica" },
		{ 7, 0, 0, 5, 0, 0, 1, 0, MV_FULL_RESYNC, "our overlay reset: peer unknown" },
		{ 7, 5, 0, 5, 0, 0, 1, 1, MV_FULL_RESYNC, "a split brain settled for us" },
		{ 7, 7, 0, 7, 0, 0, 1, 0, MV_RESYNC, "in step: our recorded chunks only" },
		{ 8, 7, 0, 7, 0, 0, 1, 0, MV_RESYNC, "we moved on, the peer is where we left it" },
		{ 8, 7, 0, 8, 0, 0, 1, 0, MV_RESYNC, "the peer has our generation" },
		{ 8, 7, 0, 7, 0, 12, 1, 0, MV_FETCH_BITMAP, "the peer recorded chunks: bitmap first" },
		{ 8, 7, 0, 9, INC, 0, 1, 0, MV_FULL_INCONSISTENT,
		  "the peer's an unfinished resync of a generation we do not know" },
		{ 8, 7, 0, 9, 0, 0, 1, 0, MV_SPLIT_BRAIN, "both moved on from where they agreed" },
		{ 8, 7, 0, 9, 0, 40, 1, 0, MV_SPLIT_BRAIN, "the same, whatever the peer recorded" },
	};

	for (size_t i = 0; i < sizeof(v) / sizeof(v[0]); i++) {
		struct mirror_decide_in in = {
			.ours = { v[i].gen, v[i].peer_gen, v[i].flags },
			.peer = { .gen = v[i].p_gen, .flags = v[i].p_flags, .nset = v[i].p_nset },
			.base_same = v[i].base_same, .full_sync = v[i].full_sync,
		};
		enum mirror_verdict got = mirror_decide(&in);

		ok(got == v[i].want, "%s: %s (got %s)", v[i].what, mirror_verdict_name(v[i].want),
		   mirror_verdict_name(got));
	}
	return done_testing();
}
