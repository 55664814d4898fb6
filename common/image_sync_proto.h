/* `vdiskctl image sync` against the peer's vdiskd: what the two say to each other beyond plain
 * SBC. Both programs speak it, so it lives here rather than in either. The CLI logs in to the
 * peer's replica listener, target "<target_iqn>:image.<NAME>", whose LU 0 is the peer's base image
 * file for NAME. It asks for the SHA-256 of every 64 KiB block with a vendor-specific command
 * (operation code C1h; C0h is the mirror's, see vdisk-server/mirror/mirror_proto.h), compares them with
 * its own, and sends only the blocks that differ with WRITE(16), then SYNCHRONIZE CACHE.
 *
 * READ DIGESTS CDB (16 bytes): [0] C1h, [1] service action 01h, [2..9] first block (64 KiB
 * units, big-endian), [10..13] allocation length (big-endian; a multiple of 32, at most
 * IS_MAX_BLOCKS digests), [14] zero, [15] control. Data-In: 32 bytes per block from the first
 * one, as many as asked for or up to the end of the image (the last block may be short:
 * its digest covers the bytes that exist). */
#ifndef COMMON_IMAGE_SYNC_PROTO_H
#define COMMON_IMAGE_SYNC_PROTO_H

#include <stddef.h>
#include <stdint.h>

#define IS_OPCODE 0xC1
#define IS_READ_DIGESTS 0x01
#define IS_BLOCK (64u * 1024)
#define IS_DIGEST_LEN 32u
/* Digests per command: 16 MiB of image to read and hash, a few ms of the peer's loop */
#define IS_MAX_BLOCKS 256u
/* Target name: "<target_iqn>" IS_TARGET_SEP "<image name>" */
#define IS_TARGET_SEP ":image."

/* A parsed READ DIGESTS. */
struct is_req {
	uint64_t first;		/* block */
	uint32_t count;		/* digests to return, 1..IS_MAX_BLOCKS */
};

/* Blocks of an image of size bytes (the last one may be short). */
static inline uint64_t is_nblocks(uint64_t size)
{
	return size / IS_BLOCK + (size % IS_BLOCK != 0);
}

void is_cdb_build(uint8_t cdb[16], uint64_t first, uint32_t count);
/* Checks a READ DIGESTS CDB against an image of size bytes. 0 and *req; -ENOTSUP for another
 * operation code, -EINVAL for a bad field (service action, allocation length, reserved
 * byte; *field is then the byte that is wrong), -ERANGE for a first block past the end. */
int is_cdb_parse(const uint8_t cdb[16], uint64_t size, struct is_req *req, unsigned *field);

/* The image name in a target name "<target_iqn>:image.<name>", or NULL when target is not
 * one (another prefix, empty name, or a name with '/' or a control character). */
const char *is_target_image(const char *target_iqn, const char *target);

/* SHA-256 of len bytes. 0, or -ENOMEM. */
int is_digest(const void *buf, size_t len, uint8_t out[IS_DIGEST_LEN]);

#endif
