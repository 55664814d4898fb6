/* The workload's on-disk block: what it writes to the raw partition and how a block read back
 * is judged. Pure functions only, so the host's unit tests run the same judging code the guest
 * runs. */
#ifndef QEMU_LAB_BLOCK_H
#define QEMU_LAB_BLOCK_H

#include <stddef.h>
#include <stdint.h>

#define QL_BLOCK_SIZE 4096
#define QL_BLOCK_MAGIC 0x31304b4c424c5451ULL	/* "QTLBLK01" read little-endian */

/* Layout (little-endian): magic u64, seq u64, lba u64, run id u64, then a pattern derived from
 * all four, and the CRC-32 of everything before it in the last 4 bytes. */
#define QL_HDR_LEN 32
#define QL_CRC_OFF (QL_BLOCK_SIZE - 4)

enum ql_verdict {
	QL_OK,
	QL_ZERO,	/* all zeros: an acknowledged write that never reached the disk */
	QL_BAD_MAGIC,	/* not one of ours at all */
	QL_CORRUPT,	/* ours, but the CRC or the pattern does not hold */
	QL_WRONG_RUN,	/* written by an earlier boot of the workload */
	QL_WRONG_LBA,	/* our block, at the wrong place */
	QL_STALE,	/* an older sequence number than the last acknowledged write */
	QL_FUTURE,	/* a newer sequence number than we ever wrote there */
};

void ql_block_fill(uint8_t *buf, uint64_t run_id, uint64_t lba, uint64_t seq);

/* Judges buf as the block at lba whose last acknowledged write had sequence want_seq. On a
 * block that carries a sequence number, *got_seq receives it (0 otherwise). */
enum ql_verdict ql_block_check(const uint8_t *buf, uint64_t run_id, uint64_t lba,
			       uint64_t want_seq, uint64_t *got_seq);

const char *ql_verdict_name(enum ql_verdict v);

/* Where write number seq (1, 2, ...) of a run goes on a partition of nblocks blocks. */
uint64_t ql_write_lba(uint64_t seq, uint64_t nblocks);

/* The block the sweep reads after write seq: the one the next write overwrites, so every block
 * is judged once more just before it is overwritten, and after a failover every block
 * acknowledged before it is read again within nblocks writes. */
uint64_t ql_sweep_lba(uint64_t seq, uint64_t nblocks);

/* CRC-32 (IEEE 802.3, as zlib and gzip compute it); start with crc = 0. */
uint32_t ql_crc32(uint32_t crc, const void *data, size_t len);

/* Parses the expected checksum file's text: 8 hex digits, optionally followed by a newline.
 * Returns 0, or -EINVAL for anything else. */
int ql_parse_crc(const char *text, size_t len, uint32_t *out);

#endif
