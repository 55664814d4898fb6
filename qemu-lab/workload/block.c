/* Building and judging the workload's sequence-numbered blocks. */
#include "block.h"

#include <errno.h>

static void put64(uint8_t *p, uint64_t v)
{
	for (int i = 0; i < 8; i++)
		p[i] = (uint8_t)(v >> (8 * i));
}

static uint64_t get64(const uint8_t *p)
{
	uint64_t v = 0;

	for (int i = 7; i >= 0; i--)
		v = v << 8 | p[i];
	return v;
}

/* The payload is a stream derived from the header, so a block that is ours but was torn or
 * mixed with another write is caught even where the CRC alone could be rewritten. */
static uint64_t pattern_seed(uint64_t run_id, uint64_t lba, uint64_t seq)
{
	uint64_t s = run_id ^ (lba * 0x9e3779b97f4a7c15ULL) ^ (seq * 0xbf58476d1ce4e5b9ULL);

	return s ? s : 1;	/* xorshift never leaves zero */
}

static uint64_t xorshift64(uint64_t *s)
{
	*s ^= *s << 13;
	*s ^= *s >> 7;
	*s ^= *s << 17;
	return *s;
}

void ql_block_fill(uint8_t *buf, uint64_t run_id, uint64_t lba, uint64_t seq)
{
	uint64_t s = pattern_seed(run_id, lba, seq);

	put64(buf, QL_BLOCK_MAGIC);
	put64(buf + 8, seq);
	put64(buf + 16, lba);
	put64(buf + 24, run_id);
	for (size_t off = QL_HDR_LEN; off < QL_CRC_OFF; off += 4) {
		uint64_t r = xorshift64(&s);
		for (int i = 0; i < 4; i++)
			buf[off + i] = (uint8_t)(r >> (8 * i));
	}
	uint32_t crc = ql_crc32(0, buf, QL_CRC_OFF);
	for (int i = 0; i < 4; i++)
		buf[QL_CRC_OFF + i] = (uint8_t)(crc >> (8 * i));
}

static int all_zero(const uint8_t *buf)
{
	for (size_t i = 0; i < QL_BLOCK_SIZE; i++)
		if (buf[i])
			return 0;
	return 1;
}

static int pattern_holds(const uint8_t *buf, uint64_t run_id, uint64_t lba, uint64_t seq)
{
	uint64_t s = pattern_seed(run_id, lba, seq);

	for (size_t off = QL_HDR_LEN; off < QL_CRC_OFF; off += 4) {
		uint64_t r = xorshift64(&s);
		for (int i = 0; i < 4; i++)
			if (buf[off + i] != (uint8_t)(r >> (8 * i)))
				return 0;
	}
	return 1;
}

enum ql_verdict ql_block_check(const uint8_t *buf, uint64_t run_id, uint64_t lba,
			       uint64_t want_seq, uint64_t *got_seq)
{
	*got_seq = 0;
	if (all_zero(buf))
		return QL_ZERO;
	if (get64(buf) != QL_BLOCK_MAGIC)
		return QL_BAD_MAGIC;
	uint32_t crc = (uint32_t)buf[QL_CRC_OFF] | (uint32_t)buf[QL_CRC_OFF + 1] << 8 |
		       (uint32_t)buf[QL_CRC_OFF + 2] << 16 | (uint32_t)buf[QL_CRC_OFF + 3] << 24;
	if (ql_crc32(0, buf, QL_CRC_OFF) != crc)
		return QL_CORRUPT;
	uint64_t seq = get64(buf + 8);
	*got_seq = seq;
	if (get64(buf + 24) != run_id)
		return QL_WRONG_RUN;
	if (get64(buf + 16) != lba)
		return QL_WRONG_LBA;
	if (!pattern_holds(buf, run_id, lba, seq))
		return QL_CORRUPT;
	if (seq < want_seq)
		return QL_STALE;
	if (seq > want_seq)
		return QL_FUTURE;
	return QL_OK;
}

const char *ql_verdict_name(enum ql_verdict v)
{
	switch (v) {
	case QL_OK: return "ok";
	case QL_ZERO: return "zeros";
	case QL_BAD_MAGIC: return "foreign data";
	case QL_CORRUPT: return "corrupt";
	case QL_WRONG_RUN: return "from an earlier run";
	case QL_WRONG_LBA: return "misplaced";
	case QL_STALE: return "stale";
	case QL_FUTURE: return "newer than written";
	}
	return "unknown";
}

uint64_t ql_write_lba(uint64_t seq, uint64_t nblocks)
{
	return (seq - 1) % nblocks;
}

uint64_t ql_sweep_lba(uint64_t seq, uint64_t nblocks)
{
	return ql_write_lba(seq + 1, nblocks);
}

uint32_t ql_crc32(uint32_t crc, const void *data, size_t len)
{
	const uint8_t *p = data;

	/* Bitwise: the workload checksums a few hundred KiB every few seconds, far from any
	 * cost that would justify a table. */
	crc = ~crc;
	while (len--) {
		crc ^= *p++;
		for (int k = 0; k < 8; k++)
			crc = (crc >> 1) ^ (0xedb88320U & -(crc & 1));
	}
	return ~crc;
}

int ql_parse_crc(const char *text, size_t len, uint32_t *out)
{
	uint32_t v = 0;

	if (len == 9 && text[8] == '\n')
		len = 8;
	if (len != 8)
		return -EINVAL;
	for (size_t i = 0; i < 8; i++) {
		char c = text[i];
		unsigned d;
		if (c >= '0' && c <= '9')
			d = (unsigned)(c - '0');
		else if (c >= 'a' && c <= 'f')
			d = (unsigned)(c - 'a' + 10);
		else if (c >= 'A' && c <= 'F')
			d = (unsigned)(c - 'A' + 10);
		else
			return -EINVAL;
		v = v << 4 | d;
	}
	*out = v;
	return 0;
}
