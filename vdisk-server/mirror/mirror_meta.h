/* The mirror's persistent state for one client disk, beside its overlay: PATH.mirror.
 *
 * As DRBD keeps it: a data generation id, the generation the peer is known to hold (the last
 * point where both were in sync), a flag for a copy that is the target of an unfinished
 * resync, and a bitmap with one bit per mirror chunk. A set bit means "this chunk may differ
 * from the peer's copy": written while the peer was away (dirty), or being written when the
 * process stopped (the activity log: a bit is set before a write is submitted and cleared
 * lazily once it is on both sides). Both servers keep one per client; which role it plays
 * depends on which server is active.
 *
 * Bits are set in the file before the write they cover is submitted (a pwrite of one word, in
 * the page cache, so a kill -9 loses nothing); mirror_meta_sync() makes them durable, which
 * FLUSH and FUA writes call first. Clearing is written back lazily by mirror_meta_writeback(). */
#ifndef VDISK_MIRROR_META_H
#define VDISK_MIRROR_META_H

#include <stddef.h>
#include <stdint.h>

#define MIRROR_CHUNK_SHIFT 16u			/* 64 KiB: docs/mirror.md says why */
#define MIRROR_CHUNK (1u << MIRROR_CHUNK_SHIFT)

enum {
	MIRROR_INCONSISTENT = 1u << 0,	/* a resync into this copy did not finish */
	MIRROR_NEVER_SYNCED = 1u << 1,	/* started here as a new copy, never in sync with a
					 * peer's since (cleared by a resync or a reset) */
};

struct mirror_meta {
	int fd;
	uint64_t size;		/* of the disk, bytes */
	uint64_t nchunks;
	uint64_t gen;		/* generation of this copy's data */
	uint64_t peer_gen;	/* generation the peer holds; 0: unknown (full sync) */
	uint32_t flags;
	uint64_t *bits;		/* in memory: the truth; file: a superset until written back */
	uint64_t *file_bits;	/* what the file holds now */
	uint64_t *clearable;	/* activity bits a peer flush in flight will make clearable */
	uint64_t *recent;	/* chunks marked since the last snapshot: kept (hot) */
	uint64_t nset;		/* bits set in bits */
	uint64_t written;	/* bit words written to the file, ever */
	uint64_t synced;	/* how many of them an fdatasync has made durable */
};

/* Opens or creates path for a disk of size bytes. A new file gets new_flags, a random
 * generation (0 with MIRROR_INCONSISTENT: a copy of nothing yet), peer_gen 0 and no bit
 * set, in one header write. -EINVAL for a file that is not a mirror state file or belongs
 * to a disk of another size (named in the log). */
int mirror_meta_open(const char *path, uint64_t size, uint32_t new_flags, struct mirror_meta *m);
void mirror_meta_close(struct mirror_meta *m);

/* Writes gen, peer_gen and flags (fdatasync'd: a generation change must not be lost). */
int mirror_meta_set_gen(struct mirror_meta *m, uint64_t gen, uint64_t peer_gen, uint32_t flags);
/* A fresh random generation id (never 0). */
uint64_t mirror_meta_new_gen(void);

/* Marks every chunk of [offset, offset + length) dirty, in memory and in the file. */
int mirror_meta_mark(struct mirror_meta *m, uint64_t offset, uint64_t length);
/* The activity log: sets the chunks' bits in the file only, before a mirrored write is
 * submitted, so that a copy that stops with the write half done is resynced there. */
int mirror_meta_mark_active(struct mirror_meta *m, uint64_t offset, uint64_t length);
static inline int mirror_meta_test(const struct mirror_meta *m, uint64_t chunk)
{
	return (int)((m->bits[chunk / 64] >> (chunk % 64)) & 1u);
}
void mirror_meta_clear(struct mirror_meta *m, uint64_t chunk);
/* ORs n little-endian bitmap words (a peer's, from word first on) into ours: dirty. */
int mirror_meta_merge(struct mirror_meta *m, uint64_t first, const uint8_t *words, size_t n);
void mirror_meta_clear_all(struct mirror_meta *m);
/* The first set bit at or after chunk, or nchunks when none. */
uint64_t mirror_meta_next(const struct mirror_meta *m, uint64_t chunk);
/* Clears in the file the bits that are clear in memory and for whose chunk busy() says no
 * write is in flight (set bits are written at once by the marks). */
int mirror_meta_writeback(struct mirror_meta *m, int (*busy)(void *arg, uint64_t chunk),
			  void *arg);
/* The activity log and the peer's page cache: an activity bit may only be cleared once the
 * peer has flushed the write it covers. snapshot notes the bits that are clearable when a
 * peer flush sent now completes (a later mark takes its chunk out again): those of chunks not
 * written since the previous snapshot, so a chunk written all the time keeps its bit instead
 * of costing a state-file write after every flush (DRBD keeps hot extents active for the
 * same reason); clear_snapshot
 * then clears them in the file. activity_dirty, when the peer is lost, makes every activity
 * bit dirty: those writes may be only in the peer's page cache. */
/* returns the bits noted; chunks busy() says are being written are left out */
uint64_t mirror_meta_snapshot(struct mirror_meta *m, int (*busy)(void *arg, uint64_t chunk),
			      void *arg);
int mirror_meta_clear_snapshot(struct mirror_meta *m, int (*busy)(void *arg, uint64_t chunk),
			       void *arg);
void mirror_meta_activity_dirty(struct mirror_meta *m);
/* Activity bits still in the file (writes the peer may not have flushed). */
uint64_t mirror_meta_active(const struct mirror_meta *m);
/* fdatasync when bits were set since the last one. */
int mirror_meta_sync(struct mirror_meta *m);
/* The same in two halves, for an fdatasync run elsewhere (a worker): whether one is needed,
 * and, once one that began after mirror_meta_unsynced() said so has succeeded, the record that
 * it covered what was written up to then (point: mirror_meta_unsynced's answer). */
static inline uint64_t mirror_meta_unsynced(const struct mirror_meta *m)
{
	return m->written == m->synced ? 0 : m->written;
}
void mirror_meta_synced(struct mirror_meta *m, uint64_t point);

#endif
