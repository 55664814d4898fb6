/* Raw store and worker pool: data round trips through the pool, completions arrive on the loop
 * thread and never inside store_submit(), refusals (alignment, range, read-only, not thin) come
 * back as results, injected I/O errors and a full disk become -EIO and -ENOSPC, UNMAP punches
 * holes that GET LBA STATUS then reports. Small writes submitted back to back run as one group
 * on one worker, in order; FUA writes do not, and neither does a group past POOL_GROUP_MAX.
 * With STORE_LOOP_OK the loop thread does a small write itself, never a FUA one. */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/evloop.h"
#include "tests/lib/tap.h"
#include "vdisk-server/store/store.h"
#include "vdisk-server/store/store_io.h"
#include "vdisk-server/store/store_pool.h"

#define IMG_SIZE (1u << 20)

static struct evloop *loop;
static pthread_t loop_thread;
static int outstanding, in_submit, done_in_submit, done_off_loop;

static void req_done(struct store_req *req)
{
	(void)req;
	if (in_submit)
		done_in_submit++;
	if (!pthread_equal(pthread_self(), loop_thread))
		done_off_loop++;
	if (--outstanding == 0)
		ev_stop(loop);
}

static int submit(struct store *st, struct store_req *req)
{
	int rc;

	req->done = req_done;
	req->result = 12345;
	in_submit = 1;
	rc = store_submit(st, req);
	in_submit = 0;
	if (!rc)
		outstanding++;
	return rc;
}

static void drain(void)
{
	if (outstanding)
		evloop_run(loop);
}

/* Submits one request and waits for it; returns its result. */
static int one(struct store *st, enum store_op op, unsigned flags, uint64_t off, uint64_t len,
	       void *buf)
{
	struct iovec iov = { buf, len };
	struct store_req req = { .op = op, .flags = flags, .offset = off, .length = len,
				 .iov = &iov, .iovcnt = buf ? 1 : 0 };
	int rc = submit(st, &req);

	if (rc)
		return rc;
	drain();
	return req.result;
}

static int fault_rc;
static enum store_io_kind fault_kind;

static int fault(void *arg, enum store_io_kind kind, int fd, uint64_t off, uint64_t len)
{
	(void)arg; (void)fd; (void)off; (void)len;
	return kind == fault_kind ? fault_rc : 0;
}

static char path[] = "/tmp/test_store_raw.XXXXXX";

static void test_round_trip(struct store *st)
{
	static char a[8192], b[4096], c[12288];
	struct iovec wv[2] = { { a, sizeof(a) }, { b, sizeof(b) } };
	struct store_req w = { .op = STORE_OP_WRITE, .offset = 4096, .length = sizeof(c),
			       .iov = wv, .iovcnt = 2 };

	memset(a, 'a', sizeof(a));
	memset(b, 'b', sizeof(b));
	is_int(submit(st, &w), 0, "write with two iovecs queued");
	drain();
	is_int(w.result, 0, "write completes");
	is_int(one(st, STORE_OP_READ, 0, 4096, sizeof(c), c), 0, "read back");
	ok(memcmp(c, a, sizeof(a)) == 0 && memcmp(c + sizeof(a), b, sizeof(b)) == 0,
	   "read returns what the two iovecs wrote");
	is_int(one(st, STORE_OP_WRITE, STORE_FUA, 0, 512, a), 0, "FUA write");
	is_int(one(st, STORE_OP_FLUSH, 0, 0, 0, NULL), 0, "flush");
	is_int(one(st, STORE_OP_READ, 0, 0, 0, NULL), 0, "zero-length read completes");

	/* Small reads are tried from the page cache on the loop thread; evicted pages make
	 * that attempt fail with EAGAIN and a worker must then read them. */
	{
		int fd = open(path, O_RDONLY);
		ok(fd >= 0 && posix_fadvise(fd, 0, 0, POSIX_FADV_DONTNEED) == 0,
		   "evict the image from the page cache");
		close(fd);
	}
	memset(c, 0, sizeof(c));
	is_int(one(st, STORE_OP_READ, 0, 4096, 8192, c), 0, "small read of evicted pages");
	ok(memcmp(c, a, 8192) == 0, "falls back to a worker and returns the data");
	is_int(one(st, STORE_OP_READ, 0, 4096, 8192, c), 0, "small read, now cached");
	ok(memcmp(c, a, 8192) == 0, "served at once, same data");
}

static const struct {
	const char *name;
	enum store_op op;
	uint64_t off, len, iovlen;
	int want;
} refusals[] = {
	{ "unaligned offset", STORE_OP_READ, 100, 512, 512, -EINVAL },
	{ "unaligned length", STORE_OP_WRITE, 0, 100, 512, -EINVAL },
	{ "past the end", STORE_OP_READ, IMG_SIZE - 512, 1024, 1024, -EINVAL },
	{ "offset past the end", STORE_OP_READ, IMG_SIZE + 512, 512, 512, -EINVAL },
	{ "wrapping offset", STORE_OP_READ, UINT64_MAX - 511, 1024, 1024, -EINVAL },
	{ "iovec shorter than length", STORE_OP_WRITE, 0, 4096, 512, -EINVAL },
	{ "unknown op", (enum store_op)42, 0, 512, 512, -EINVAL },
};

static void test_refusals(struct store *st)
{
	static char buf[4096];
	struct store_req req[sizeof(refusals) / sizeof(refusals[0])];
	struct iovec iov[sizeof(refusals) / sizeof(refusals[0])];
	unsigned i;

	for (i = 0; i < sizeof(refusals) / sizeof(refusals[0]); i++) {
		iov[i] = (struct iovec){ buf, refusals[i].iovlen };
		req[i] = (struct store_req){ .op = refusals[i].op, .offset = refusals[i].off,
					     .length = refusals[i].len, .iov = &iov[i],
					     .iovcnt = 1 };
		is_int(submit(st, &req[i]), 0, "%s: submit accepts it", refusals[i].name);
	}
	drain();
	for (i = 0; i < sizeof(refusals) / sizeof(refusals[0]); i++)
		is_int(req[i].result, refusals[i].want, "%s: refused", refusals[i].name);
}

static void test_faults(struct store *st)
{
	static char buf[4096];

	store_io_set_fault(fault, NULL);
	fault_kind = STORE_IO_READ;
	fault_rc = -EIO;
	is_int(one(st, STORE_OP_READ, 0, 0, 4096, buf), -EIO, "injected read error -> -EIO");
	fault_kind = STORE_IO_WRITE;
	fault_rc = -ENOSPC;
	is_int(one(st, STORE_OP_WRITE, 0, 0, 4096, buf), -ENOSPC, "full disk -> -ENOSPC");
	fault_kind = STORE_IO_SYNC;
	fault_rc = -EIO;
	is_int(one(st, STORE_OP_FLUSH, 0, 0, 0, NULL), -EIO, "flush error -> -EIO");
	store_io_set_fault(NULL, NULL);
	is_int(one(st, STORE_OP_READ, 0, 0, 4096, buf), 0, "reads work again without the fault");
}

/* Which worker ran each write, in the order they ran (the fault hook sees every disk call). */
static pthread_mutex_t seen_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_t seen_thread[256];
static uint64_t seen_off[256];
static unsigned nseen, seen_sleep_us;

static int seen(void *arg, enum store_io_kind kind, int fd, uint64_t off, uint64_t len)
{
	(void)arg; (void)fd; (void)len;
	if (kind != STORE_IO_WRITE)
		return 0;
	pthread_mutex_lock(&seen_lock);
	if (nseen < 256) {
		seen_thread[nseen] = pthread_self();
		seen_off[nseen++] = off;
	}
	pthread_mutex_unlock(&seen_lock);
	if (seen_sleep_us)
		usleep(seen_sleep_us);
	return 0;
}

/* Submits n 4 KiB writes back to back in one loop round and waits for all of them; returns
 * how many of them ran on the first one's worker. */
static unsigned burst(struct store *st, unsigned n, unsigned flags, int *bad)
{
	static char bufs[POOL_GROUP_MAX + 8][4096];
	struct iovec iov[POOL_GROUP_MAX + 8];
	struct store_req req[POOL_GROUP_MAX + 8];
	unsigned i, same = 0;

	nseen = 0;
	for (i = 0; i < n; i++) {
		memset(bufs[i], 'A' + i % 26, 4096);
		iov[i] = (struct iovec){ bufs[i], 4096 };
		req[i] = (struct store_req){ .op = STORE_OP_WRITE, .flags = flags,
					     .offset = (uint64_t)i * 4096, .length = 4096,
					     .iov = &iov[i], .iovcnt = 1 };
		submit(st, &req[i]);
	}
	drain();
	for (i = 0; i < n; i++)
		*bad += req[i].result != 0;
	for (i = 0; i < nseen; i++)
		same += pthread_equal(seen_thread[i], seen_thread[0]);
	return same;
}

static void test_groups(struct store *st)
{
	static char buf[4096];
	unsigned i, in_order = 1;
	int bad = 0;

	store_io_set_fault(seen, NULL);
	is_int(burst(st, 16, 0, &bad), 16, "16 small writes in one round run on one worker");
	is_int(nseen, 16, "each of them once");
	for (i = 0; i < nseen; i++)
		in_order &= seen_off[i] == (uint64_t)i * 4096;
	ok(in_order, "in the order they were submitted");
	is_int(bad, 0, "and all succeed");
	is_int(one(st, STORE_OP_READ, 0, 15 * 4096, 4096, buf), 0, "the last one reads back");
	ok(buf[0] == 'A' + 15 && buf[4095] == 'A' + 15, "with its data");

	/* a worker blocked in one of them must not hold up the others */
	seen_sleep_us = 20000;
	ok(burst(st, 8, STORE_FUA, &bad) < 8, "FUA writes are spread over the workers");
	seen_sleep_us = 2000;
	ok(burst(st, POOL_GROUP_MAX + 8, 0, &bad) <= POOL_GROUP_MAX,
	   "a group holds at most POOL_GROUP_MAX writes");
	seen_sleep_us = 0;
	is_int(bad, 0, "every write succeeds");

	/* STORE_LOOP_OK: a short write is done by the loop thread itself, a FUA one is not */
	burst(st, 4, STORE_LOOP_OK, &bad);
	ok(nseen == 4 && pthread_equal(seen_thread[0], loop_thread) &&
	   pthread_equal(seen_thread[3], loop_thread),
	   "small writes the loop may do run on the loop thread");
	burst(st, 1, STORE_LOOP_OK | STORE_FUA, &bad);
	ok(nseen == 1 && !pthread_equal(seen_thread[0], loop_thread),
	   "a FUA write still goes to a worker");
	{
		/* a part of a page, or any write while an UNMAP punches: a worker's */
		struct iovec iov = { buf, 512 };
		struct store_req part = { .op = STORE_OP_WRITE, .flags = STORE_LOOP_OK,
					  .offset = 512, .length = 512, .iov = &iov, .iovcnt = 1 };
		struct store_req unmap = { .op = STORE_OP_UNMAP, .offset = 64 * 4096,
					   .length = 4096 };
		struct store_req whole = { .op = STORE_OP_WRITE, .flags = STORE_LOOP_OK,
					   .offset = 0, .length = 4096,
					   .iov = &(struct iovec){ buf, 4096 }, .iovcnt = 1 };

		nseen = 0;
		submit(st, &part);
		drain();
		ok(part.result == 0 && nseen == 1 && !pthread_equal(seen_thread[0], loop_thread),
		   "a write of part of a page goes to a worker");
		nseen = 0;
		submit(st, &unmap);
		submit(st, &whole);
		drain();
		ok(unmap.result == 0 && whole.result == 0 && nseen == 1 &&
		   !pthread_equal(seen_thread[0], loop_thread),
		   "a whole-page write while an UNMAP is in flight goes to a worker");
	}
	is_int(bad, 0, "and they succeed");
	is_int(one(st, STORE_OP_READ, 0, 3 * 4096, 4096, buf), 0, "read back");
	ok(buf[0] == 'A' + 3, "what the loop wrote");
	store_io_set_fault(NULL, NULL);
}

/* Short jobs first: the one worker blocked in a FUA write, another FUA write queued behind it,
 * then a small write. The small write's group is queued when the loop round ends, before
 * the timer that releases the worker fires in a later round; the worker must then take it
 * before the queued FUA write. */
static pthread_mutex_t hold_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t hold_cv = PTHREAD_COND_INITIALIZER;
static int held_release;
static uint64_t ran_off[8];
static unsigned nran;

static int hold_first(void *arg, enum store_io_kind kind, int fd, uint64_t off, uint64_t len)
{
	(void)arg; (void)fd; (void)len;
	if (kind != STORE_IO_WRITE)
		return 0;
	pthread_mutex_lock(&hold_lock);
	if (nran < 8)
		ran_off[nran++] = off;
	pthread_cond_broadcast(&hold_cv);
	while (off == 0 && !held_release)
		pthread_cond_wait(&hold_cv, &hold_lock);
	pthread_mutex_unlock(&hold_lock);
	return 0;
}

static void release_fn(struct ev_timer *t)
{
	(void)t;
	pthread_mutex_lock(&hold_lock);
	held_release = 1;
	pthread_cond_broadcast(&hold_cv);
	pthread_mutex_unlock(&hold_lock);
}

static void test_short_first(void)
{
	static char buf[3][4096];
	struct store_pool *pool;
	struct store *st;
	struct store_req req[3];
	struct iovec iov[3];
	struct ev_timer release;
	static const uint64_t off[3] = { 0, 8192, 16384 };
	static const unsigned flags[3] = { STORE_FUA, STORE_FUA, 0 };

	if (store_pool_new(loop, 1, &pool) < 0 || store_raw_open(pool, path, 0, &st) < 0) {
		ok(0, "a pool of one worker");
		return;
	}
	store_io_set_fault(hold_first, NULL);
	for (int i = 0; i < 3; i++) {
		iov[i] = (struct iovec){ buf[i], 4096 };
		req[i] = (struct store_req){ .op = STORE_OP_WRITE, .flags = flags[i],
					     .offset = off[i], .length = 4096, .iov = &iov[i],
					     .iovcnt = 1 };
		submit(st, &req[i]);
		/* the first must be running, not merely queued, before the others come */
		pthread_mutex_lock(&hold_lock);
		while (i == 0 && nran == 0)
			pthread_cond_wait(&hold_cv, &hold_lock);
		pthread_mutex_unlock(&hold_lock);
	}
	ev_timer_init(&release, release_fn, NULL);
	ev_timer_arm(loop, &release, 1);
	drain();
	store_io_set_fault(NULL, NULL);
	ok(req[0].result == 0 && req[1].result == 0 && req[2].result == 0 && nran == 3,
	   "a FUA write, another, a small write: all done");
	ok(ran_off[0] == 0 && ran_off[1] == 16384 && ran_off[2] == 8192,
	   "the small write ran before the FUA write queued ahead of it");
	store_close(st);
	store_pool_free(pool);
}

static void test_unmap(struct store *st)
{
	static char buf[65536], zero[65536];
	uint64_t run;
	int mapped;

	ok(st->thin, "a writable regular file is thin");
	memset(buf, 'x', sizeof(buf));
	is_int(one(st, STORE_OP_WRITE, 0, 65536, sizeof(buf), buf), 0, "write 64 KiB");
	is_int(st->ops->lba_status(st, 65536, &mapped, &run), 0, "lba_status");
	ok(mapped && run >= 65536, "written range is mapped");
	is_int(one(st, STORE_OP_UNMAP, 0, 65536, 65536, NULL), 0, "unmap 64 KiB");
	is_int(one(st, STORE_OP_READ, 0, 65536, sizeof(buf), buf), 0, "read unmapped range");
	ok(memcmp(buf, zero, sizeof(zero)) == 0, "an unmapped range reads zeros");
	is_int(st->ops->lba_status(st, 65536, &mapped, &run), 0, "lba_status after unmap");
	ok(!mapped && run >= 65536, "unmapped range reported deallocated");
	is_int(st->ops->lba_status(st, IMG_SIZE, &mapped, &run), -EINVAL,
	       "lba_status past the end refused");
	is_int(st->ops->reset(st), -EOPNOTSUPP, "a raw store has nothing to reset");
	{
		struct store_extent ext[2];
		is_int(st->ops->read_extents(st, 4096, 8192, ext, 2), 1, "read_extents: one");
		ok(ext[0].offset == 4096 && ext[0].length == 8192 && ext[0].fd >= 0,
		   "the same range of the file");
		is_int(st->ops->read_extents(st, IMG_SIZE - 512, 1024, ext, 2), -EINVAL,
		       "read_extents past the end refused");
		is_int(st->ops->read_extents(st, 0, 512, ext, 0), -E2BIG, "no room: -E2BIG");
	}
}

static void test_queue_depth(struct store *st)
{
	static char bufs[64][4096];
	struct iovec iov[64];
	struct store_req req[64];
	int i, bad = 0;

	for (i = 0; i < 64; i++) {
		memset(bufs[i], i, 4096);
		iov[i] = (struct iovec){ bufs[i], 4096 };
		req[i] = (struct store_req){ .op = STORE_OP_WRITE, .offset = (uint64_t)i * 4096,
					     .length = 4096, .iov = &iov[i], .iovcnt = 1 };
		submit(st, &req[i]);
	}
	drain();
	for (i = 0; i < 64; i++) {
		bad += req[i].result != 0;
		memset(bufs[i], 0, 4096);
		req[i].op = STORE_OP_READ;
		submit(st, &req[i]);
	}
	drain();
	for (i = 0; i < 64; i++)
		bad += req[i].result != 0 || bufs[i][0] != i || bufs[i][4095] != i;
	is_int(bad, 0, "64 writes then 64 reads in flight at once all round trip");
}

int main(void)
{
	struct store_pool *pool;
	struct store *st, *ro;
	static char buf[4096];
	int fd;

	loop = evloop_new();
	loop_thread = pthread_self();
	is_int(store_pool_new(loop, 0, &pool), -EINVAL, "a pool needs a thread");
	is_int(store_pool_new(loop, 4, &pool), 0, "pool with 4 workers");
	fd = mkstemp(path);
	ok(fd >= 0 && write(fd, "x", 1) == 1, "tiny image");
	is_int(store_raw_open(pool, path, 0, &st), -EINVAL, "an image under one block is refused");
	is_int(store_raw_open(pool, "/nonexistent/img", 0, &st), -ENOENT, "missing image");
	ok(ftruncate(fd, IMG_SIZE) == 0, "1 MiB image");
	close(fd);
	is_int(store_raw_open(pool, path, 0, &st), 0, "open read-write");
	is_int(st->size, IMG_SIZE, "size");
	test_round_trip(st);
	test_refusals(st);
	test_faults(st);
	test_groups(st);
	test_unmap(st);
	test_queue_depth(st);
	test_short_first();
	is_int(done_in_submit, 0, "done never called inside store_submit");
	is_int(done_off_loop, 0, "done always called on the loop thread");

	is_int(store_raw_open(pool, path, 1, &ro), 0, "open read-only");
	ok(ro->read_only && !ro->thin, "read-only store is neither writable nor thin");
	is_int(one(ro, STORE_OP_READ, 0, 0, 4096, buf), 0, "read-only store reads");
	is_int(one(ro, STORE_OP_WRITE, 0, 0, 4096, buf), -EROFS, "write refused with -EROFS");
	is_int(one(ro, STORE_OP_UNMAP, 0, 0, 4096, NULL), -EROFS, "unmap refused with -EROFS");
	store_close(ro);
	store_close(st);
	store_pool_free(pool);
	evloop_free(loop);
	unlink(path);
	return done_testing();
}
