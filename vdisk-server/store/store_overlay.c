/* A client's copy-on-write overlay over a shared read-only base image.
 *
 * overlay.data is a sparse file as large as the base; chunk c lives at the same offset as in
 * the base, so a mapped chunk needs no lookup. overlay.map is a 4 KiB header and then one bit
 * per chunk (1 = the chunk lives in overlay.data). A chunk is allocated by writing all of it
 * (the caller's data plus the rest copied from the base) and then the map sector holding its
 * bit, both before the write completes; after that, writes to it are plain pwrites. Both are
 * in the page cache when the write completes, so a kill -9 loses nothing.
 *
 * Durability against power loss is a write-back cache's, as SCSI has it (WCE 1): FUA writes
 * and FLUSH make data and map durable (fdatasync, shared by every worker waiting for one:
 * group commit). Without them the kernel may write a map bit back before the chunk's data;
 * the header's state says whether the overlay was closed cleanly, and opening an unclean one
 * drops every mapped chunk that has a hole in the data file, which is how a chunk whose data
 * never reached the disk looks on ext4 (data=ordered), XFS and btrfs: such a chunk reads the
 * base again, never zeros. docs/image-store.md has the details.
 *
 * Concurrency: workers read the in-memory map without a lock. A write that finds an unmapped
 * chunk in its range takes the chunks' busy bits (all-or-nothing, so never a deadlock) before
 * copying up, and so does UNMAP: two writes to one unallocated chunk never race the copy-up.
 * The in-memory bit changes only after the map sector holding it was written, so a write that
 * sees a bit set and completes is never lost to a kill -9. */
#include "vdisk-server/store/store.h"
#include "vdisk-server/store/store_overlay.h"

#include <endian.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <unistd.h>

#include "common/durable.h"
#include "common/log.h"
#include "vdisk-server/store/store_base.h"
#include "vdisk-server/store/store_io.h"
#include "vdisk-server/store/store_pool.h"
#include "vdisk-server/store/store_sync.h"

#define OV_MAGIC "VDOVMAP1"
#define OV_VERSION 1u
#define OV_HDR_SIZE 4096u
#define OV_BASE_MAX 64u	/* a base's name in the header, with its NUL */
#define OV_SECTOR 512u
#define OV_SECTOR_BITS (OV_SECTOR * 8u)
/* Chunks per UNMAP step: bounds how long one step keeps other writers waiting. */
#define OV_UNMAP_STEP 4096u
/* iovecs per system call when a request is split at chunk boundaries. */
#define OV_IOV_BATCH 64

/* On disk, little-endian, at offset 0 of the map; the rest of the header is zero. */
struct ov_header {
	char magic[8];
	uint32_t version;
	uint32_t chunk_shift;
	uint64_t size;		/* the base's size in bytes when the overlay was made */
	uint64_t nchunks;
	uint32_t state;		/* OV_OPEN from open until a clean close */
	uint32_t reserved;
	char base[OV_BASE_MAX];	/* what it was made over (store_overlay_base); "": not said */
};

#define OV_CLEAN 0u
#define OV_OPEN 1u

struct overlay {
	struct store st;
	struct store_pool *pool;
	struct store_base *base;
	int data_fd;
	int map_fd;
	unsigned shift;
	uint64_t chunk;
	uint64_t nchunks;
	size_t words;		/* map and busy length in 64-bit words, whole map sectors */
	/* Bit per chunk, 1 = in the overlay. Changed only under map_lock, atomically, because
	 * workers read it without the lock. */
	uint64_t *map;
	pthread_mutex_t map_lock;
	/* Bit per chunk being allocated or unmapped. */
	uint64_t *busy;
	pthread_mutex_t busy_lock;
	pthread_cond_t busy_cond;
	struct syncer data_sync;
	struct syncer map_sync;
	unsigned inflight;	/* loop thread only */
	/* loop thread only: UNMAPs in flight, whose hole punching holds the data file's lock
	 * (a write meanwhile is not short), and the only thing that clears map bits while
	 * requests are in flight */
	unsigned unmaps;
};

/* log_limited keeps plain counters; workers share this one under its own lock. */
static struct log_ratelimit punch_rl = LOG_RATELIMIT_INIT(60);
static pthread_mutex_t punch_rl_lock = PTHREAD_MUTEX_INITIALIZER;

static int bit_get(const uint64_t *m, uint64_t i)
{
	return (int)((__atomic_load_n(&m[i / 64], __ATOMIC_ACQUIRE) >> (i % 64)) & 1);
}

static uint64_t chunk_len(const struct overlay *ov, uint64_t c)
{
	uint64_t start = c << ov->shift;

	return ov->st.size - start < ov->chunk ? ov->st.size - start : ov->chunk;
}

static void busy_acquire(struct overlay *ov, uint64_t c0, uint64_t c1)
{
	uint64_t c;

	pthread_mutex_lock(&ov->busy_lock);
	for (c = c0; c <= c1; c++) {
		if (ov->busy[c / 64] >> (c % 64) & 1) {
			pthread_cond_wait(&ov->busy_cond, &ov->busy_lock);
			c = c0 - 1;	/* all or nothing: look at the whole range again */
		}
	}
	for (c = c0; c <= c1; c++)
		ov->busy[c / 64] |= 1ull << (c % 64);
	pthread_mutex_unlock(&ov->busy_lock);
}

static void busy_release(struct overlay *ov, uint64_t c0, uint64_t c1)
{
	uint64_t c;

	pthread_mutex_lock(&ov->busy_lock);
	for (c = c0; c <= c1; c++)
		ov->busy[c / 64] &= ~(1ull << (c % 64));
	pthread_cond_broadcast(&ov->busy_cond);
	pthread_mutex_unlock(&ov->busy_lock);
}

/* Sets (or clears) the bits of chunks c0..c1: the map sectors holding them are written with
 * the new bits first (in the page cache: a kill -9 keeps them), then the in-memory bits
 * change. The caller holds the chunks' busy bits. */
static int map_update(struct overlay *ov, uint64_t c0, uint64_t c1, int set)
{
	uint64_t buf[OV_SECTOR / 8], s, c;
	struct iovec iov = { buf, OV_SECTOR };
	size_t i, w0;
	int rc = 0;

	pthread_mutex_lock(&ov->map_lock);
	for (s = c0 / OV_SECTOR_BITS; s <= c1 / OV_SECTOR_BITS; s++) {
		uint64_t lo = s * OV_SECTOR_BITS, hi = lo + OV_SECTOR_BITS - 1;

		w0 = s * (OV_SECTOR / 8);
		for (i = 0; i < OV_SECTOR / 8; i++)
			buf[i] = ov->map[w0 + i];
		for (c = lo > c0 ? lo : c0; c <= c1 && c <= hi; c++) {
			if (set)
				buf[(c - lo) / 64] |= 1ull << (c % 64);
			else
				buf[(c - lo) / 64] &= ~(1ull << (c % 64));
		}
		for (i = 0; i < OV_SECTOR / 8; i++)
			buf[i] = htole64(buf[i]);
		rc = sio_pwritev(ov->map_fd, &iov, 1, OV_HDR_SIZE + s * OV_SECTOR, OV_SECTOR, 0);
		if (rc)
			break;
	}
	if (rc) {
		pthread_mutex_unlock(&ov->map_lock);
		return rc;
	}
	/* Registered before the bits turn visible: a FUA write that sees a new bit then waits
	 * for a map sync that covers it (syncer_current) before it completes. */
	syncer_register(&ov->map_sync);
	for (c = c0; c <= c1; c++) {
		if (set)
			__atomic_fetch_or(&ov->map[c / 64], 1ull << (c % 64), __ATOMIC_RELEASE);
		else
			__atomic_fetch_and(&ov->map[c / 64], ~(1ull << (c % 64)), __ATOMIC_RELEASE);
	}
	pthread_mutex_unlock(&ov->map_lock);
	return 0;
}

/* Makes every write completed so far durable, data first. */
static int ov_sync(struct overlay *ov)
{
	int rc = syncer_wait(&ov->data_sync, ov->data_fd, syncer_register(&ov->data_sync));

	if (rc)
		return rc;
	return syncer_wait(&ov->map_sync, ov->map_fd, syncer_current(&ov->map_sync));
}

/* Reads or writes [off, off + len) of the image from or to fd, with the bytes skip bytes into
 * the request's iovec. */
static int slice_io(int is_write, int fd, const struct store_req *req, uint64_t skip,
		    uint64_t off, uint64_t len, int flags)
{
	struct iovec part[OV_IOV_BATCH];
	uint64_t got, done = 0;
	int n, rc;

	while (done < len) {
		n = iov_slice(req->iov, req->iovcnt, skip + done, len - done, part, OV_IOV_BATCH,
			      &got);
		if (!got)
			return -EINVAL;
		if (is_write)
			rc = sio_pwritev(fd, part, n, off + done, got, flags);
		else if (flags & RWF_NOWAIT)
			rc = sio_preadv_nowait(fd, part, n, off + done, got);
		else
			rc = sio_preadv(fd, part, n, off + done, got);
		if (rc)
			return rc;
		done += got;
	}
	return 0;
}

/* flags: 0, or RWF_NOWAIT on the loop thread (then -EAGAIN when not all cached). */
static int ov_read(struct overlay *ov, struct store_req *req, int flags)
{
	uint64_t off = req->offset, end = req->offset + req->length, run_end;
	int mapped, rc;

	while (off < end) {
		mapped = bit_get(ov->map, off >> ov->shift);
		run_end = ((off >> ov->shift) + 1) << ov->shift;
		while (run_end < end && bit_get(ov->map, run_end >> ov->shift) == mapped)
			run_end += ov->chunk;
		if (run_end > end)
			run_end = end;
		rc = slice_io(0, mapped ? ov->data_fd : ov->base->fd, req, off - req->offset, off,
			      run_end - off, flags);
		if (rc)
			return rc;
		off = run_end;
	}
	return 0;
}

/* Writes chunk c whole: the request's bytes [ws, we) plus the rest read from the base. */
static int copy_up(struct overlay *ov, struct store_req *req, uint64_t c, uint64_t ws,
		   uint64_t we)
{
	uint64_t start = c << ov->shift, len = chunk_len(ov, c);
	struct iovec iov;
	char *buf;
	int rc;

	buf = pool_scratch(ov->chunk);
	if (!buf)
		return -ENOMEM;
	if (ws > start) {
		iov = (struct iovec){ buf, ws - start };
		rc = sio_preadv(ov->base->fd, &iov, 1, start, ws - start);
		if (rc)
			return rc;
	}
	if (we < start + len) {
		iov = (struct iovec){ buf + (we - start), start + len - we };
		rc = sio_preadv(ov->base->fd, &iov, 1, we, start + len - we);
		if (rc)
			return rc;
	}
	iov_to_buf(req->iov, req->iovcnt, ws - req->offset, we - ws, buf + (ws - start));
	iov = (struct iovec){ buf, len };
	return sio_pwritev(ov->data_fd, &iov, 1, start, len, 0);
}

/* A write with at least one unmapped chunk in its range, holding every chunk's busy bit.
 * Chunks already mapped and chunks the write covers whole go straight from the request's
 * iovec (consecutive ones in one call); partly covered unmapped chunks are copied up. */
static int write_allocating(struct overlay *ov, struct store_req *req, uint64_t first,
			    uint64_t last)
{
	uint64_t end = req->offset + req->length, c, run = req->offset, start, ws, we;
	int fua = req->flags & STORE_FUA, fresh = 0, rc;

	for (c = first; c <= last; c++) {
		start = c << ov->shift;
		ws = req->offset > start ? req->offset : start;
		we = end < start + chunk_len(ov, c) ? end : start + chunk_len(ov, c);
		if (bit_get(ov->map, c))
			continue;
		fresh = 1;
		if (ws == start && we == start + chunk_len(ov, c))
			continue;
		/* Partial: flush the direct run before it, copy it up, start a new run. */
		if (ws > run) {
			rc = slice_io(1, ov->data_fd, req, run - req->offset, run, ws - run, 0);
			if (rc)
				return rc;
		}
		rc = copy_up(ov, req, c, ws, we);
		if (rc)
			return rc;
		run = we;
	}
	if (end > run) {
		rc = slice_io(1, ov->data_fd, req, run - req->offset, run, end - run, 0);
		if (rc)
			return rc;
	}
	if (fresh) {
		rc = map_update(ov, first, last, 1);
		if (rc)
			return rc;
	}
	return fua ? ov_sync(ov) : 0;
}

static int ov_write(struct overlay *ov, struct store_req *req)
{
	uint64_t first = req->offset >> ov->shift;
	uint64_t last = (req->offset + req->length - 1) >> ov->shift, c;
	int fua = req->flags & STORE_FUA, rc;

	if (syncer_failed(&ov->data_sync) || syncer_failed(&ov->map_sync))
		return -EIO;
	for (c = first; c <= last && bit_get(ov->map, c); c++)
		;
	if (c > last) {
		/* Every chunk is in the overlay: the hot path, one pwritev. */
		rc = slice_io(1, ov->data_fd, req, 0, req->offset, req->length,
			      fua ? RWF_DSYNC : 0);
		if (!rc && fua)
			rc = syncer_wait(&ov->map_sync, ov->map_fd, syncer_current(&ov->map_sync));
		return rc;
	}
	busy_acquire(ov, first, last);
	rc = write_allocating(ov, req, first, last);
	busy_release(ov, first, last);
	return rc;
}

static int any_mapped(const struct overlay *ov, uint64_t c0, uint64_t c1)
{
	uint64_t c;

	for (c = c0; c < c1; c++) {
		if (c % 64 == 0 && c + 64 <= c1 && !__atomic_load_n(&ov->map[c / 64],
								    __ATOMIC_ACQUIRE)) {
			c += 63;
			continue;
		}
		if (bit_get(ov->map, c))
			return 1;
	}
	return 0;
}

/* Drops the chunks the range covers whole; a partly covered chunk stays as it is (LBPRZ 0
 * lets it keep its data). The map sectors are written before the holes are punched; after a
 * power loss either change may be missing, and both ways the chunk reads the base (a hole
 * under a set bit is dropped at open) or, if neither reached the disk, its old data, as for
 * any write not covered by a FLUSH. */
static int ov_unmap(struct overlay *ov, struct store_req *req)
{
	uint64_t end = req->offset + req->length;
	uint64_t c0 = (req->offset + ov->chunk - 1) >> ov->shift;
	uint64_t c1 = end == ov->st.size ? ov->nchunks : end >> ov->shift;
	uint64_t c, next, pstart, pend;
	int rc;

	if (syncer_failed(&ov->map_sync))
		return -EIO;
	for (c = c0; c < c1; c = next) {
		next = c1 - c > OV_UNMAP_STEP ? c + OV_UNMAP_STEP : c1;
		if (!any_mapped(ov, c, next))
			continue;
		busy_acquire(ov, c, next - 1);
		rc = map_update(ov, c, next - 1, 0);
		if (!rc) {
			pstart = c << ov->shift;
			pend = next << ov->shift < ov->st.size ? next << ov->shift : ov->st.size;
			if (sio_punch(ov->data_fd, pstart, pend - pstart)) {
				pthread_mutex_lock(&punch_rl_lock);
				log_limited(&punch_rl, LOG_WARNING,
					    "store: overlay: cannot punch a hole, space stays used");
				pthread_mutex_unlock(&punch_rl_lock);
			}
		}
		busy_release(ov, c, next - 1);
		if (rc)
			return rc;
	}
	return 0;
}

static void ov_run(struct pool_job *job)
{
	struct overlay *ov = (struct overlay *)job->st;
	struct store_req *req = job->req;

	switch (req->op) {
	case STORE_OP_READ:
		req->result = ov_read(ov, req, 0);
		break;
	case STORE_OP_WRITE:
		req->result = ov_write(ov, req);
		break;
	case STORE_OP_FLUSH:
		req->result = ov_sync(ov);
		break;
	case STORE_OP_UNMAP:
		req->result = ov_unmap(ov, req);
		break;
	}
	if (req->result == -ENOMEM)
		req->result = -EIO;	/* the SCSI layer knows medium errors, not our memory */
}

/* A small read the page cache can serve at once (base pages shared by every client of the
 * image usually are) is done on the loop thread. */
static int ov_try_now(struct pool_job *job)
{
	struct overlay *ov = (struct overlay *)job->st;
	struct store_req *req = job->req;
	int rc;

	if (req->op != STORE_OP_READ || req->length > POOL_INLINE_MAX)
		return -EAGAIN;
	rc = ov_read(ov, req, RWF_NOWAIT);
	if (rc == -EAGAIN)
		return rc;
	req->result = rc;
	return 0;
}

/* A write into chunks the overlay already holds, not FUA, no UNMAP in flight: one pwritev
 * into the page cache. With no UNMAP in flight nothing can unmap those chunks before the
 * write runs, so ov_write takes its one-pwritev path for it. */
static int ov_is_short(const struct pool_job *job)
{
	const struct overlay *ov = (const struct overlay *)job->st;
	const struct store_req *req = job->req;
	uint64_t c, last;

	if (req->op != STORE_OP_WRITE || (req->flags & STORE_FUA) ||
	    req->length > POOL_INLINE_MAX || ov->unmaps)
		return 0;
	last = (req->offset + req->length - 1) >> ov->shift;
	for (c = req->offset >> ov->shift; c <= last; c++)
		if (!bit_get(ov->map, c))
			return 0;
	return 1;
}

static void ov_complete(struct pool_job *job)
{
	struct overlay *ov = (struct overlay *)job->st;
	struct store_req *req = job->req;

	pool_job_put(ov->pool, job);
	ov->inflight--;
	if (req->op == STORE_OP_UNMAP)
		ov->unmaps--;
	req->done(req);
}

static const struct pool_ops ov_jobs = {
	.run = ov_run, .complete = ov_complete, .try_now = ov_try_now, .is_short = ov_is_short,
};

static int ov_submit(struct store *st, struct store_req *req)
{
	struct overlay *ov = (struct overlay *)st;
	int rc = pool_submit(ov->pool, st, req, &ov_jobs);

	if (!rc) {
		ov->inflight++;
		if (req->op == STORE_OP_UNMAP)
			ov->unmaps++;
	}
	return rc;
}

static int ov_lba_status(struct store *st, uint64_t offset, int *mapped, uint64_t *run)
{
	struct overlay *ov = (struct overlay *)st;
	uint64_t c, end;
	int m;

	if (offset >= st->size)
		return -EINVAL;
	c = offset >> ov->shift;
	m = bit_get(ov->map, c);
	for (c++; c < ov->nchunks; c++) {
		uint64_t w = __atomic_load_n(&ov->map[c / 64], __ATOMIC_ACQUIRE);
		if (c % 64 == 0 && w == (m ? ~0ull : 0)) {
			c += 63;
			continue;
		}
		if ((int)(w >> (c % 64) & 1) != m)
			break;
	}
	end = c << ov->shift;
	*mapped = m;
	*run = (end < st->size ? end : st->size) - offset;
	return 0;
}

/* The runs ov_read would read, as file ranges: chunks in the overlay from the data file, the
 * others from the base (which never changes under a reader). */
static int ov_read_extents(struct store *st, uint64_t offset, uint64_t length,
			   struct store_extent *ext, int max)
{
	struct overlay *ov = (struct overlay *)st;
	uint64_t off = offset, end = offset + length, run_end;
	int mapped, n = 0;

	if (offset % STORE_BLOCK_SIZE || length % STORE_BLOCK_SIZE || length > st->size ||
	    offset > st->size - length)
		return -EINVAL;
	while (off < end) {
		if (n == max)
			return -E2BIG;
		mapped = bit_get(ov->map, off >> ov->shift);
		run_end = ((off >> ov->shift) + 1) << ov->shift;
		while (run_end < end && bit_get(ov->map, run_end >> ov->shift) == mapped)
			run_end += ov->chunk;
		if (run_end > end)
			run_end = end;
		ext[n++] = (struct store_extent){ mapped ? ov->data_fd : ov->base->fd, off,
						  run_end - off };
		off = run_end;
	}
	return n;
}

/* Restore mode: the map is cleared durably first, then the data file is emptied; a crash in
 * between leaves stale data that no bit points at. Runs on the loop thread: a client's boot
 * is the moment, one map write and one fdatasync. */
static int ov_reset(struct store *st)
{
	struct overlay *ov = (struct overlay *)st;
	int rc;

	if (ov->inflight)
		return -EBUSY;
	memset(ov->map, 0, ov->words * 8);
	rc = sio_pwritev(ov->map_fd, &(struct iovec){ ov->map, ov->words * 8 }, 1, OV_HDR_SIZE,
			 ov->words * 8, 0);
	if (!rc)
		rc = sio_fdatasync(ov->map_fd);
	if (rc) {
		log_err("store: overlay reset: cannot clear the map: %s", strerror(-rc));
		return rc;
	}
	if (ftruncate(ov->data_fd, 0) < 0 || ftruncate(ov->data_fd, (off_t)st->size) < 0) {
		log_warn("store: overlay reset: cannot empty the data file: %m");
		return 0;	/* the map is clear: reads return the base, only space stays used */
	}
	return 0;
}

static void ov_free(struct overlay *ov)
{
	if (ov->map_fd >= 0)
		close(ov->map_fd);
	if (ov->data_fd >= 0)
		close(ov->data_fd);
	if (ov->base)
		store_base_put(ov->base);
	syncer_destroy(&ov->map_sync);
	syncer_destroy(&ov->data_sync);
	pthread_cond_destroy(&ov->busy_cond);
	pthread_mutex_destroy(&ov->busy_lock);
	pthread_mutex_destroy(&ov->map_lock);
	free(ov->busy);
	free(ov->map);
	free(ov);
}

static int ov_set_state(struct overlay *ov, uint32_t state)
{
	uint32_t le = htole32(state);
	struct iovec iov = { &le, sizeof(le) };
	int rc;

	rc = sio_pwritev(ov->map_fd, &iov, 1, offsetof(struct ov_header, state), sizeof(le), 0);
	return rc ? rc : sio_fdatasync(ov->map_fd);
}

/* After an unclean close: a mapped chunk with a hole in the data file lost data the kernel
 * had not written back when the power went (its map sector got there first); the chunk was
 * allocated by writes no FLUSH covered, so it goes back to reading the base. */
static int ov_recover(struct overlay *ov, const char *overlay_path)
{
	uint64_t c = 0, bad = 0, start, end, pos, dropped_from = UINT64_MAX;
	off_t hole, data;
	int rc;

	while (c < ov->nchunks) {
		if (!bit_get(ov->map, c)) {
			c++;
			continue;
		}
		start = c << ov->shift;
		while (c < ov->nchunks && bit_get(ov->map, c))
			c++;
		end = c << ov->shift < ov->st.size ? c << ov->shift : ov->st.size;
		for (pos = start; pos < end; pos = (uint64_t)data) {
			hole = lseek(ov->data_fd, (off_t)pos, SEEK_HOLE);
			if (hole < 0)
				return -errno;
			if ((uint64_t)hole >= end)
				break;
			data = lseek(ov->data_fd, hole, SEEK_DATA);
			if (data < 0 || (uint64_t)data > end)
				data = (off_t)end;
			/* Chunks [hole, data) touches: at least the one holding the hole. */
			rc = map_update(ov, (uint64_t)hole >> ov->shift,
					((uint64_t)data - 1) >> ov->shift, 0);
			if (rc)
				return rc;
			bad += (((uint64_t)data - 1) >> ov->shift) - ((uint64_t)hole >> ov->shift) + 1;
			if (dropped_from == UINT64_MAX)
				dropped_from = (uint64_t)hole >> ov->shift;
			if (((uint64_t)data & (ov->chunk - 1)) && (uint64_t)data < end)
				data = (off_t)((((uint64_t)data >> ov->shift) + 1) << ov->shift);
		}
	}
	if (bad) {
		log_warn("store: overlay %s was not closed cleanly: %llu chunks (first %llu) lost "
			 "data never flushed and read the base again", overlay_path,
			 (unsigned long long)bad, (unsigned long long)dropped_from);
		rc = sio_fdatasync(ov->map_fd);
		if (rc)
			return rc;
	}
	return 0;
}

/* A clean close: everything durable, then the state says so, and the next open need not
 * look for lost chunks. On any failure the state stays OV_OPEN. */
static void ov_close(struct store *st)
{
	struct overlay *ov = (struct overlay *)st;

	if (ov->inflight)
		log_err("store: closing an overlay with %u requests in flight", ov->inflight);
	else if (ov_sync(ov) || ov_set_state(ov, OV_CLEAN))
		log_warn("store: overlay not closed cleanly; the next open checks its chunks");
	ov_free(ov);
}

static const struct store_ops overlay_ops = {
	.submit = ov_submit,
	.lba_status = ov_lba_status,
	.reset = ov_reset,
	.close = ov_close,
	.read_extents = ov_read_extents,
};

/* A new overlay: an empty sparse data file, then the map written under a temporary name and
 * renamed into place, so a crash leaves either no map (made again next time) or a whole one. */
static int ov_create(struct overlay *ov, const char *data_path, const char *map_path)
{
	char tmp[PATH_MAX];
	struct ov_header h;
	char *hdr;
	int fd, rc;

	fd = open(data_path, O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	if (fd < 0)
		return -errno;
	rc = ftruncate(fd, (off_t)ov->st.size) < 0 ? -errno : 0;
	close(fd);
	if (rc)
		return rc;
	if ((size_t)snprintf(tmp, sizeof(tmp), "%s.tmp", map_path) >= sizeof(tmp))
		return -ENAMETOOLONG;
	hdr = calloc(1, OV_HDR_SIZE);
	if (!hdr)
		return -ENOMEM;
	memcpy(h.magic, OV_MAGIC, sizeof(h.magic));
	h.version = htole32(OV_VERSION);
	h.chunk_shift = htole32(ov->shift);
	h.size = htole64(ov->st.size);
	h.nchunks = htole64(ov->nchunks);
	h.state = htole32(OV_CLEAN);
	h.reserved = 0;
	memset(h.base, 0, sizeof(h.base));
	memcpy(hdr, &h, sizeof(h));
	fd = open(tmp, O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	if (fd < 0) {
		rc = -errno;
		goto out_free_hdr;
	}
	if (pwrite(fd, hdr, OV_HDR_SIZE, 0) != OV_HDR_SIZE ||
	    ftruncate(fd, (off_t)(OV_HDR_SIZE + ov->words * 8)) < 0) {
		rc = errno ? -errno : -EIO;
		goto out_unlink_tmp;
	}
	/* Allocated now, so a full disk later fails a chunk's data write, not its map sector. */
	rc = posix_fallocate(fd, 0, (off_t)(OV_HDR_SIZE + ov->words * 8));
	if (rc && rc != EOPNOTSUPP && rc != EINVAL) {
		rc = -rc;
		goto out_unlink_tmp;
	}
	if (fdatasync(fd) < 0) {
		rc = -errno;
		goto out_unlink_tmp;
	}
	if (rename(tmp, map_path) < 0) {
		rc = -errno;
		goto out_unlink_tmp;
	}
	close(fd);
	free(hdr);
	return fsync_dir_of(map_path);

out_unlink_tmp:
	close(fd);
	unlink(tmp);
out_free_hdr:
	free(hdr);
	return rc;
}

/* Checks an existing map against the base and loads its bits; names the problem. *unclean
 * says whether the overlay was not closed cleanly. */
static int ov_load(struct overlay *ov, const char *map_path, int *unclean)
{
	struct ov_header h;
	uint64_t fsize, i;
	ssize_t n;

	n = pread(ov->map_fd, &h, sizeof(h), 0);
	if (n != (ssize_t)sizeof(h) || memcmp(h.magic, OV_MAGIC, sizeof(h.magic))) {
		log_err("store: overlay map %s: not an overlay map (bad magic)", map_path);
		return -EINVAL;
	}
	if (le32toh(h.version) != OV_VERSION) {
		log_err("store: overlay map %s: version %u, this vdiskd reads %u", map_path,
			le32toh(h.version), OV_VERSION);
		return -EINVAL;
	}
	if (le32toh(h.chunk_shift) < 12 || le32toh(h.chunk_shift) > 22) {
		log_err("store: overlay map %s: chunk size 2^%u out of range", map_path,
			le32toh(h.chunk_shift));
		return -EINVAL;
	}
	if (le64toh(h.size) != ov->st.size) {
		log_err("store: overlay map %s: made for a base of %llu bytes, the base has %llu",
			map_path, (unsigned long long)le64toh(h.size),
			(unsigned long long)ov->st.size);
		return -EINVAL;
	}
	*unclean = le32toh(h.state) != OV_CLEAN;
	ov->shift = le32toh(h.chunk_shift);
	ov->chunk = 1ull << ov->shift;
	ov->nchunks = (ov->st.size + ov->chunk - 1) >> ov->shift;
	if (le64toh(h.nchunks) != ov->nchunks) {
		log_err("store: overlay map %s: %llu chunks, the size says %llu", map_path,
			(unsigned long long)le64toh(h.nchunks), (unsigned long long)ov->nchunks);
		return -EINVAL;
	}
	ov->words = (ov->nchunks + OV_SECTOR_BITS - 1) / OV_SECTOR_BITS * (OV_SECTOR / 8);
	if (sio_fd_size(ov->map_fd, &fsize) || fsize < OV_HDR_SIZE + ov->words * 8) {
		log_err("store: overlay map %s: truncated", map_path);
		return -EINVAL;
	}
	ov->map = calloc(ov->words, 8);
	ov->busy = calloc(ov->words, 8);
	if (!ov->map || !ov->busy)
		return -ENOMEM;
	n = pread(ov->map_fd, ov->map, ov->words * 8, OV_HDR_SIZE);
	if (n != (ssize_t)(ov->words * 8)) {
		log_err("store: overlay map %s: cannot read the bitmap", map_path);
		return -EIO;
	}
	for (i = 0; i < ov->words; i++)
		ov->map[i] = le64toh(ov->map[i]);
	/* Bits past the last chunk mean nothing; keep them clear so word scans stay simple. */
	for (i = ov->nchunks; i < ov->words * 64; i++)
		ov->map[i / 64] &= ~(1ull << (i % 64));
	return 0;
}

int store_overlay_open_chunk(struct store_pool *pool, const char *base_path,
			     const char *overlay_path, unsigned chunk, struct store **out)
{
	char data_path[PATH_MAX], map_path[PATH_MAX];
	struct overlay *ov;
	uint64_t dsize;
	int rc, unclean;

	if (chunk < STORE_OVERLAY_MIN_CHUNK || chunk > STORE_OVERLAY_MAX_CHUNK ||
	    (chunk & (chunk - 1)))
		return -EINVAL;
	if ((size_t)snprintf(data_path, sizeof(data_path), "%s.data", overlay_path) >=
	    sizeof(data_path) ||
	    (size_t)snprintf(map_path, sizeof(map_path), "%s.map", overlay_path) >=
	    sizeof(map_path) - 4)
		return -ENAMETOOLONG;
	ov = calloc(1, sizeof(*ov));
	if (!ov)
		return -ENOMEM;
	ov->pool = pool;
	ov->data_fd = ov->map_fd = -1;
	pthread_mutex_init(&ov->map_lock, NULL);
	pthread_mutex_init(&ov->busy_lock, NULL);
	pthread_cond_init(&ov->busy_cond, NULL);
	syncer_init(&ov->data_sync);
	syncer_init(&ov->map_sync);
	rc = store_base_get(base_path, &ov->base);
	if (rc) {
		ov->base = NULL;
		goto out_free;
	}
	ov->st.ops = &overlay_ops;
	ov->st.size = ov->base->size;
	ov->st.thin = 1;
	ov->shift = (unsigned)__builtin_ctz(chunk);
	ov->chunk = chunk;
	ov->nchunks = (ov->st.size + chunk - 1) >> ov->shift;
	ov->words = (ov->nchunks + OV_SECTOR_BITS - 1) / OV_SECTOR_BITS * (OV_SECTOR / 8);

	ov->map_fd = open(map_path, O_RDWR | O_CLOEXEC);
	if (ov->map_fd < 0 && errno == ENOENT) {
		rc = ov_create(ov, data_path, map_path);
		if (rc) {
			log_err("store: overlay %s: cannot create: %s", overlay_path, strerror(-rc));
			goto out_free;
		}
		ov->map_fd = open(map_path, O_RDWR | O_CLOEXEC);
	}
	if (ov->map_fd < 0) {
		rc = -errno;
		log_err("store: overlay map %s: %m", map_path);
		goto out_free;
	}
	/* Two stores on one overlay would each trust their own map: refuse the second. */
	if (flock(ov->map_fd, LOCK_EX | LOCK_NB) < 0) {
		rc = errno == EWOULDBLOCK ? -EBUSY : -errno;
		log_err("store: overlay %s: already open", overlay_path);
		goto out_free;
	}
	rc = ov_load(ov, map_path, &unclean);
	if (rc)
		goto out_free;
	ov->data_fd = open(data_path, O_RDWR | O_CLOEXEC);
	if (ov->data_fd < 0) {
		rc = -errno;
		log_err("store: overlay data %s: %m", data_path);
		goto out_free;
	}
	if (sio_fd_size(ov->data_fd, &dsize) || dsize < ov->st.size) {
		rc = -EINVAL;
		log_err("store: overlay data %s: shorter than the base", data_path);
		goto out_free;
	}
	if (unclean) {
		rc = ov_recover(ov, overlay_path);
		if (rc)
			goto out_free;
	}
	/* Durable before any write: a map bit the kernel writes back early is then always
	 * looked at by the next open. */
	rc = ov_set_state(ov, OV_OPEN);
	if (rc) {
		log_err("store: overlay %s: cannot mark it open: %s", overlay_path, strerror(-rc));
		goto out_free;
	}
	*out = &ov->st;
	return 0;

out_free:
	ov_free(ov);
	return rc;
}

int store_overlay_base(struct store *st, const char *name, int replace, char *was, size_t len)
{
	struct overlay *ov = (struct overlay *)st;
	char rec[OV_BASE_MAX] = "";
	struct iovec iov = { rec, sizeof(rec) };
	int rc;

	if (st->ops != &overlay_ops)
		return -EINVAL;
	if (strlen(name) >= sizeof(rec))
		return -ENAMETOOLONG;
	rc = sio_preadv(ov->map_fd, &iov, 1, offsetof(struct ov_header, base), sizeof(rec));
	if (rc)
		return rc;
	rec[sizeof(rec) - 1] = '\0';
	if (was)
		snprintf(was, len, "%s", rec);
	if (strcmp(rec, name) == 0)
		return 0;
	if (*rec && !replace)
		return -ESTALE;
	memset(rec, 0, sizeof(rec));
	memcpy(rec, name, strlen(name));
	rc = sio_pwritev(ov->map_fd, &iov, 1, offsetof(struct ov_header, base), sizeof(rec), 0);
	return rc ? rc : sio_fdatasync(ov->map_fd);
}

int store_overlay_open(struct store_pool *pool, const char *base_path, const char *overlay_path,
		       struct store **out)
{
	return store_overlay_open_chunk(pool, base_path, overlay_path, STORE_OVERLAY_CHUNK, out);
}
