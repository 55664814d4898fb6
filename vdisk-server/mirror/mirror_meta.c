/* The mirror state file; see mirror_meta.h. Layout, little-endian: a 4 KiB header (below, then
 * zeros) and one bit per chunk in 64-bit words. */
#include "vdisk-server/mirror/mirror_meta.h"

#include <endian.h>
#include <errno.h>
#include <fcntl.h>
#include <isa-l/crc.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>
#include <unistd.h>

#include "common/log.h"
#include "vdisk-server/store/store_io.h"

#define MM_MAGIC "VDMIRR01"
#define MM_VERSION 1u
#define MM_HDR_SIZE 4096u

struct mm_header {
	char magic[8];
	uint32_t version;
	uint32_t chunk_shift;
	uint64_t size;
	uint64_t nchunks;
	uint64_t gen;
	uint64_t peer_gen;
	uint32_t flags;
	uint32_t crc;		/* crc32c of the bytes before it */
};

static size_t words_of(uint64_t nchunks)
{
	return (size_t)((nchunks + 63) / 64);
}

uint64_t mirror_meta_new_gen(void)
{
	uint64_t g = 0;

	while (g == 0) {
		if (getrandom(&g, sizeof(g), 0) != (ssize_t)sizeof(g)) {
			struct timespec ts;

			/* getrandom only fails before the pool is seeded: still unique enough */
			clock_gettime(CLOCK_REALTIME, &ts);
			g = (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
		}
	}
	return g;
}

static int write_header(struct mirror_meta *m)
{
	struct mm_header h;
	int rc;

	memset(&h, 0, sizeof(h));
	memcpy(h.magic, MM_MAGIC, sizeof(h.magic));
	h.version = htole32(MM_VERSION);
	h.chunk_shift = htole32(MIRROR_CHUNK_SHIFT);
	h.size = htole64(m->size);
	h.nchunks = htole64(m->nchunks);
	h.gen = htole64(m->gen);
	h.peer_gen = htole64(m->peer_gen);
	h.flags = htole32(m->flags);
	h.crc = htole32(crc32_iscsi((unsigned char *)&h, offsetof(struct mm_header, crc), 0));
	rc = sio_pwritev(m->fd, &(struct iovec){ &h, sizeof(h) }, 1, 0, sizeof(h), 0);
	return rc ? rc : sio_fdatasync(m->fd);
}

static int read_header(struct mirror_meta *m, const char *path)
{
	struct mm_header h;
	ssize_t n = pread(m->fd, &h, sizeof(h), 0);

	if (n < 0)
		return -errno;
	if (n != (ssize_t)sizeof(h) || memcmp(h.magic, MM_MAGIC, sizeof(h.magic)) != 0 ||
	    le32toh(h.crc) != crc32_iscsi((unsigned char *)&h, offsetof(struct mm_header, crc), 0)) {
		log_err("mirror: %s is not a mirror state file (or its header is damaged)", path);
		return -EINVAL;
	}
	if (le32toh(h.version) != MM_VERSION || le32toh(h.chunk_shift) != MIRROR_CHUNK_SHIFT) {
		log_err("mirror: %s: version %u, chunk shift %u not supported", path,
			le32toh(h.version), le32toh(h.chunk_shift));
		return -EINVAL;
	}
	if (le64toh(h.size) != m->size || le64toh(h.nchunks) != m->nchunks) {
		log_err("mirror: %s belongs to a disk of %llu bytes, this one has %llu", path,
			(unsigned long long)le64toh(h.size), (unsigned long long)m->size);
		return -EINVAL;
	}
	m->gen = le64toh(h.gen);
	m->peer_gen = le64toh(h.peer_gen);
	m->flags = le32toh(h.flags);
	return 0;
}

static int write_word(struct mirror_meta *m, size_t w)
{
	uint64_t le = htole64(m->file_bits[w]);

	int rc = sio_pwritev(m->fd, &(struct iovec){ &le, sizeof(le) }, 1,
			     MM_HDR_SIZE + w * sizeof(le), sizeof(le), 0);

	if (rc)
		return rc;
	m->written++;
	return 0;
}

static uint64_t popcount_all(const uint64_t *bits, size_t words)
{
	uint64_t n = 0;

	for (size_t i = 0; i < words; i++)
		n += (uint64_t)__builtin_popcountll(bits[i]);
	return n;
}

int mirror_meta_open(const char *path, uint64_t size, uint32_t new_flags, struct mirror_meta *m)
{
	size_t words, bytes;
	off_t len;
	int rc;

	memset(m, 0, sizeof(*m));
	m->size = size;
	m->nchunks = (size + MIRROR_CHUNK - 1) >> MIRROR_CHUNK_SHIFT;
	words = words_of(m->nchunks);
	bytes = words * sizeof(uint64_t);
	m->fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0640);
	if (m->fd < 0) {
		rc = -errno;
		log_err("mirror: %s: %s", path, strerror(-rc));
		return rc;
	}
	m->bits = calloc(words ? words : 1, sizeof(uint64_t));
	m->file_bits = calloc(words ? words : 1, sizeof(uint64_t));
	m->clearable = calloc(words ? words : 1, sizeof(uint64_t));
	m->recent = calloc(words ? words : 1, sizeof(uint64_t));
	if (!m->bits || !m->file_bits || !m->clearable || !m->recent) {
		rc = -ENOMEM;
		goto out_free;
	}
	len = lseek(m->fd, 0, SEEK_END);
	if (len < 0) {
		rc = -errno;
		goto out_free;
	}
	if (len == 0) {
		m->flags = new_flags;
		m->gen = new_flags & MIRROR_INCONSISTENT ? 0 : mirror_meta_new_gen();
		if (ftruncate(m->fd, (off_t)(MM_HDR_SIZE + bytes)) < 0) {
			rc = -errno;
			goto out_free;
		}
		rc = write_header(m);
		if (rc < 0)
			goto out_free;
	} else {
		rc = read_header(m, path);
		if (rc < 0)
			goto out_free;
		if (pread(m->fd, m->file_bits, bytes, MM_HDR_SIZE) != (ssize_t)bytes) {
			log_err("mirror: %s is shorter than its bitmap", path);
			rc = -EINVAL;
			goto out_free;
		}
		for (size_t i = 0; i < words; i++)
			m->file_bits[i] = le64toh(m->file_bits[i]);
		if (m->nchunks % 64)	/* no bit past the end, whatever the file says */
			m->file_bits[words - 1] &= (1ull << (m->nchunks % 64)) - 1;
		/* every bit the file holds is a chunk that may differ: dirty until resynced */
		memcpy(m->bits, m->file_bits, bytes);
		m->nset = popcount_all(m->bits, words);
	}
	return 0;
out_free:
	free(m->bits);
	free(m->file_bits);
	free(m->clearable);
	free(m->recent);
	close(m->fd);
	m->fd = -1;
	return rc;
}

void mirror_meta_close(struct mirror_meta *m)
{
	if (m->fd < 0)
		return;
	mirror_meta_sync(m);
	close(m->fd);
	free(m->bits);
	free(m->file_bits);
	free(m->clearable);
	free(m->recent);
	m->fd = -1;
}

int mirror_meta_set_gen(struct mirror_meta *m, uint64_t gen, uint64_t peer_gen, uint32_t flags)
{
	m->gen = gen;
	m->peer_gen = peer_gen;
	m->flags = flags;
	return write_header(m);
}

/* Sets the bits of the range in the file (and in memory too when dirty): one pwrite per
 * 64-chunk word that changed. */
static int mark(struct mirror_meta *m, uint64_t offset, uint64_t length, int dirty)
{
	uint64_t first, last;
	int rc = 0, changed = 0;

	if (length == 0 || offset >= m->size)
		return 0;
	first = offset >> MIRROR_CHUNK_SHIFT;
	last = (offset + length - 1) >> MIRROR_CHUNK_SHIFT;
	if (last >= m->nchunks)
		last = m->nchunks - 1;
	for (uint64_t c = first; c <= last; c++) {
		size_t w = (size_t)(c / 64);
		uint64_t bit = 1ull << (c % 64);

		if (dirty && !(m->bits[w] & bit)) {
			m->bits[w] |= bit;
			m->nset++;
		}
		m->clearable[w] &= ~bit;	/* written again: not covered by that flush */
		if (!dirty)	/* a dirty bit goes with its resync copy, not with time */
			m->recent[w] |= bit;
		if (!(m->file_bits[w] & bit)) {
			m->file_bits[w] |= bit;
			changed = 1;
		}
		if (changed && (c == last || c % 64 == 63)) {
			int r = write_word(m, w);

			if (r < 0)
				rc = r;
			changed = 0;
		}
	}
	return rc;
}

int mirror_meta_mark(struct mirror_meta *m, uint64_t offset, uint64_t length)
{
	return mark(m, offset, length, 1);
}

int mirror_meta_mark_active(struct mirror_meta *m, uint64_t offset, uint64_t length)
{
	return mark(m, offset, length, 0);
}

void mirror_meta_clear(struct mirror_meta *m, uint64_t chunk)
{
	size_t w = (size_t)(chunk / 64);
	uint64_t bit = 1ull << (chunk % 64);

	if (chunk < m->nchunks && (m->bits[w] & bit)) {
		m->bits[w] &= ~bit;
		m->nset--;
	}
}

int mirror_meta_merge(struct mirror_meta *m, uint64_t first, const uint8_t *words, size_t n)
{
	size_t total = words_of(m->nchunks);
	int rc = 0;

	for (size_t i = 0; i < n && first + i < total; i++) {
		size_t w = (size_t)(first + i);
		uint64_t v;

		memcpy(&v, words + i * 8, 8);
		v = le64toh(v);
		if (w == total - 1 && m->nchunks % 64)
			v &= (1ull << (m->nchunks % 64)) - 1;
		m->nset += (uint64_t)__builtin_popcountll(v & ~m->bits[w]);
		m->bits[w] |= v;
		if (v & ~m->file_bits[w]) {
			m->file_bits[w] |= v;
			if (write_word(m, w) < 0)
				rc = -EIO;
		}
	}
	return rc;
}

void mirror_meta_clear_all(struct mirror_meta *m)
{
	memset(m->bits, 0, words_of(m->nchunks) * sizeof(uint64_t));
	m->nset = 0;
}

uint64_t mirror_meta_next(const struct mirror_meta *m, uint64_t chunk)
{
	size_t words = words_of(m->nchunks);

	while (chunk < m->nchunks) {
		size_t w = (size_t)(chunk / 64);
		uint64_t v = m->bits[w] >> (chunk % 64);

		if (v)
			return chunk + (uint64_t)__builtin_ctzll(v);
		chunk = (uint64_t)(w + 1) * 64;
		if (w + 1 >= words)
			break;
	}
	return m->nchunks;
}

int mirror_meta_writeback(struct mirror_meta *m, int (*busy)(void *arg, uint64_t chunk),
			  void *arg)
{
	size_t words = words_of(m->nchunks);
	int rc = 0;

	for (size_t w = 0; w < words; w++) {
		uint64_t extra = m->file_bits[w] & ~m->bits[w], keep = 0;

		if (!extra)
			continue;
		for (uint64_t v = extra; v; v &= v - 1) {
			unsigned b = (unsigned)__builtin_ctzll(v);

			if (busy && busy(arg, (uint64_t)w * 64 + b))
				keep |= 1ull << b;
		}
		if (extra == keep)
			continue;
		m->file_bits[w] &= ~(extra & ~keep);
		if (write_word(m, w) < 0)
			rc = -EIO;
	}
	return rc;
}

uint64_t mirror_meta_snapshot(struct mirror_meta *m, int (*busy)(void *arg, uint64_t chunk),
			      void *arg)
{
	uint64_t n = 0;

	for (size_t w = 0; w < words_of(m->nchunks); w++) {
		uint64_t c = m->file_bits[w] & ~m->bits[w] & ~m->recent[w];

		/* a write still in flight may reach the peer after the flush sent now */
		for (uint64_t v = c; busy && v; v &= v - 1) {
			unsigned b = (unsigned)__builtin_ctzll(v);

			if (busy(arg, (uint64_t)w * 64 + b))
				c &= ~(1ull << b);
		}
		m->clearable[w] = c;
		m->recent[w] = 0;
		n += (uint64_t)__builtin_popcountll(c);
	}
	return n;
}

uint64_t mirror_meta_active(const struct mirror_meta *m)
{
	uint64_t n = 0;

	for (size_t w = 0; w < words_of(m->nchunks); w++)
		n += (uint64_t)__builtin_popcountll(m->file_bits[w] & ~m->bits[w]);
	return n;
}

int mirror_meta_clear_snapshot(struct mirror_meta *m, int (*busy)(void *arg, uint64_t chunk),
			       void *arg)
{
	int rc = 0;

	for (size_t w = 0; w < words_of(m->nchunks); w++) {
		uint64_t clear = m->clearable[w] & ~m->bits[w];

		m->clearable[w] = 0;
		for (uint64_t v = clear; v; v &= v - 1) {
			unsigned b = (unsigned)__builtin_ctzll(v);

			if (busy && busy(arg, (uint64_t)w * 64 + b))
				clear &= ~(1ull << b);
		}
		if (!(clear & m->file_bits[w]))
			continue;
		m->file_bits[w] &= ~clear;
		if (write_word(m, w) < 0)
			rc = -EIO;
	}
	return rc;
}

void mirror_meta_activity_dirty(struct mirror_meta *m)
{
	size_t words = words_of(m->nchunks);

	for (size_t w = 0; w < words; w++)
		m->bits[w] |= m->file_bits[w];
	m->nset = popcount_all(m->bits, words);
}

int mirror_meta_sync(struct mirror_meta *m)
{
	uint64_t point = mirror_meta_unsynced(m);
	int rc;

	if (!point)
		return 0;
	rc = sio_fdatasync(m->fd);
	if (rc)
		return rc;
	mirror_meta_synced(m, point);
	return 0;
}

void mirror_meta_synced(struct mirror_meta *m, uint64_t point)
{
	if (point > m->synced)
		m->synced = point;
}
