/* What the two vdiskds say to each other on a replication session, beyond plain SCSI writes:
 * a vendor-specific command (operation code C0h; SPC-4 leaves C0h-FFh to vendors) with four
 * service actions, answered only by replica LUs (replica_lu.c), which only the replica
 * listener serves. The active (source) asks the replica for its generation state and activity
 * bitmap, tells it where a resync stands, and discards its overlay when the client's overlay
 * was reset.
 *
 * CDB (16 bytes): [0] C0h, [1] service action, [2..9] argument (big-endian; GET BITMAP: the
 * first 64-bit word), [10..13] allocation / parameter list length, [14..15] zero. */
#ifndef VDISK_MIRROR_PROTO_H
#define VDISK_MIRROR_PROTO_H

#include <stddef.h>
#include <stdint.h>

#define MP_OPCODE 0xC0

enum mp_action {
	MP_GET_STATE = 1,	/* Data-In: the replica's state (mp_state_encode) */
	MP_GET_BITMAP = 2,	/* Data-In: bitmap words from the given one, little-endian */
	MP_SET_STATE = 3,	/* Data-Out: a state; gen, peer_gen, flags and fingerprint used */
	MP_RESET = 4,		/* discard the replica's overlay and its bitmap */
	MP_WRITE_BATCH = 5,	/* Data-Out: several writes in one command (below) */
};

#define MP_STATE_LEN 96u
#define MP_FINGERPRINT_LEN 32u
#define MP_BITMAP_MAX (1u << 20)	/* bytes per GET BITMAP */

enum {
	MP_SET_CLEAR_BITMAP = 1u << 16,	/* SET STATE: the replica now equals the source */
};

/* One copy's state as the wire carries it. */
struct mp_state {
	uint64_t gen;
	uint64_t peer_gen;
	uint32_t flags;		/* MIRROR_INCONSISTENT, MP_SET_CLEAR_BITMAP */
	uint64_t size;		/* the disk's, bytes */
	uint64_t nchunks;
	uint64_t nset;		/* bits set in the replica's bitmap */
	uint8_t fingerprint[MP_FINGERPRINT_LEN];	/* of the base image: mirror_fingerprint */
};

/* WRITE BATCH: the argument is the number of writes; the parameter list is that many 16-byte
 * records (LBA[8] in 512-byte blocks, block count[4], flags[4], big-endian), then the data of
 * every record in record order. One command instead of one per write: at queue depth 32 the
 * per-command cost on both servers (PDU, system calls, wake-ups) is most of a mirrored write's
 * (docs/mirror.md). The source never has two overlapping writes in flight, so the records
 * never overlap and the replica may apply them in any order; it refuses a batch where they do. */
#define MP_BATCH_REC_LEN 16u
#define MP_BATCH_MAX 64u		/* records per batch */
#define MP_BATCH_BYTES 262144u		/* the whole parameter list: our FirstBurstLength, so
					 * a batch goes without waiting for an R2T */
enum {
	MP_REC_FUA = 1u << 0,		/* durable when the batch completes */
};

struct mp_batch_rec {
	uint64_t lba;
	uint32_t nblk;
	uint32_t flags;
};

void mp_batch_rec_encode(const struct mp_batch_rec *r, uint8_t out[MP_BATCH_REC_LEN]);
/* Parses a WRITE BATCH's parameter list of count records for a disk of disk_blocks 512-byte
 * blocks into recs[count] (count <= MP_BATCH_MAX): -EINVAL unless every record is inside the
 * disk, non-empty, with known flags, none overlaps another, and len is exactly the records
 * plus their data. */
int mp_batch_parse(const uint8_t *buf, size_t len, uint64_t count, uint64_t disk_blocks,
		   struct mp_batch_rec *recs);

void mp_cdb(uint8_t cdb[16], enum mp_action action, uint64_t arg, uint32_t len);
void mp_state_encode(const struct mp_state *s, uint8_t out[MP_STATE_LEN]);
/* Parses what a peer sent: -EINVAL unless len is MP_STATE_LEN with the magic and version and
 * the counts are consistent. */
int mp_state_decode(const uint8_t *buf, size_t len, struct mp_state *s);

/* A fingerprint of a base image: SHA-256 over its size and 64 4 KiB blocks spread over it.
 * Two different images (another version, another install) differ there in practice; it is
 * not a proof of equality, which `vdiskctl image sync` gives. 0 or a negative errno. */
int mirror_fingerprint(const char *path, uint8_t out[MP_FINGERPRINT_LEN]);

#endif
