/* A plain file or block device exported as it is (standalone `--lun IQN=FILE[,ro]`).
 * FUA writes use RWF_DSYNC, FLUSH is fdatasync. UNMAP punches a hole in a regular file (the
 * space goes back to the filesystem; reads then return zeros, which LBPRZ 0 allows); block
 * devices and read-only files are not thin, so UNMAP is refused there with -EOPNOTSUPP and
 * the SCSI layer does not advertise it. */
#include "vdisk-server/store/store.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/log.h"
#include "vdisk-server/store/store_io.h"
#include "vdisk-server/store/store_pool.h"

struct raw_store {
	struct store st;
	struct store_pool *pool;
	int fd;
	unsigned inflight;	/* loop thread only */
	unsigned unmaps;	/* loop thread only: in flight, their hole punching holds the lock */
};

static void raw_run(struct pool_job *job)
{
	struct raw_store *rs = (struct raw_store *)job->st;
	struct store_req *req = job->req;

	switch (req->op) {
	case STORE_OP_READ:
		req->result = sio_preadv(rs->fd, req->iov, req->iovcnt, req->offset, req->length);
		break;
	case STORE_OP_WRITE:
		req->result = sio_pwritev(rs->fd, req->iov, req->iovcnt, req->offset, req->length,
					  req->flags & STORE_FUA ? RWF_DSYNC : 0);
		break;
	case STORE_OP_FLUSH:
		req->result = sio_fdatasync(rs->fd);
		break;
	case STORE_OP_UNMAP:
		req->result = sio_punch(rs->fd, req->offset, req->length);
		break;
	}
}

/* A small read the page cache can serve at once is done on the loop thread. */
static int raw_try_now(struct pool_job *job)
{
	struct raw_store *rs = (struct raw_store *)job->st;
	struct store_req *req = job->req;
	int rc;

	if (req->op != STORE_OP_READ || req->length > POOL_INLINE_MAX)
		return -EAGAIN;
	rc = sio_preadv_nowait(rs->fd, req->iov, req->iovcnt, req->offset, req->length);
	if (rc == -EAGAIN)
		return rc;
	req->result = rc;
	return 0;
}

static void raw_complete(struct pool_job *job)
{
	struct raw_store *rs = (struct raw_store *)job->st;
	struct store_req *req = job->req;

	pool_job_put(rs->pool, job);
	rs->inflight--;
	if (req->op == STORE_OP_UNMAP)
		rs->unmaps--;
	req->done(req);
}

/* A small write, not FUA, no UNMAP in flight: a copy into the page cache (a block
 * device's too). */
static int raw_is_short(const struct pool_job *job)
{
	const struct raw_store *rs = (const struct raw_store *)job->st;
	const struct store_req *req = job->req;

	return req->op == STORE_OP_WRITE && !(req->flags & STORE_FUA) &&
	       req->length <= POOL_INLINE_MAX && !rs->unmaps;
}

static const struct pool_ops raw_jobs = {
	.run = raw_run, .complete = raw_complete, .try_now = raw_try_now,
	.is_short = raw_is_short,
};

static int raw_submit(struct store *st, struct store_req *req)
{
	struct raw_store *rs = (struct raw_store *)st;
	int rc = pool_submit(rs->pool, st, req, &raw_jobs);

	if (!rc) {
		rs->inflight++;
		if (req->op == STORE_OP_UNMAP)
			rs->unmaps++;
	}
	return rc;
}

/* Holes in a thin file are unmapped; everything else is mapped. */
static int raw_lba_status(struct store *st, uint64_t offset, int *mapped, uint64_t *run)
{
	struct raw_store *rs = (struct raw_store *)st;
	off_t data, hole;

	if (offset >= st->size)
		return -EINVAL;
	*mapped = 1;
	*run = st->size - offset;
	if (!st->thin)
		return 0;
	data = lseek(rs->fd, (off_t)offset, SEEK_DATA);
	if (data < 0 && errno != ENXIO)
		return 0;	/* the filesystem cannot tell: report mapped */
	if (data < 0 || (uint64_t)data >= st->size) {
		*mapped = 0;
		return 0;
	}
	if ((uint64_t)data > offset) {
		*mapped = 0;
		*run = (uint64_t)data - offset;
		return 0;
	}
	hole = lseek(rs->fd, (off_t)offset, SEEK_HOLE);
	if (hole > (off_t)offset && (uint64_t)hole < st->size)
		*run = (uint64_t)hole - offset;
	return 0;
}

static int raw_read_extents(struct store *st, uint64_t offset, uint64_t length,
			    struct store_extent *ext, int max)
{
	struct raw_store *rs = (struct raw_store *)st;

	if (offset % STORE_BLOCK_SIZE || length % STORE_BLOCK_SIZE || length > st->size ||
	    offset > st->size - length)
		return -EINVAL;
	if (max < 1)
		return -E2BIG;
	ext[0] = (struct store_extent){ rs->fd, offset, length };
	return 1;
}

static int raw_reset(struct store *st)
{
	(void)st;
	return -EOPNOTSUPP;
}

static void raw_close(struct store *st)
{
	struct raw_store *rs = (struct raw_store *)st;

	if (rs->inflight)
		log_err("store: closing a raw store with %u requests in flight", rs->inflight);
	close(rs->fd);
	free(rs);
}

static const struct store_ops raw_ops = {
	.submit = raw_submit,
	.lba_status = raw_lba_status,
	.reset = raw_reset,
	.close = raw_close,
	.read_extents = raw_read_extents,
};

int store_raw_open(struct store_pool *pool, const char *path, int read_only, struct store **out)
{
	struct raw_store *rs;
	struct stat sb;
	uint64_t size;
	int rc;

	rs = calloc(1, sizeof(*rs));
	if (!rs)
		return -ENOMEM;
	rs->pool = pool;
	rs->fd = open(path, (read_only ? O_RDONLY : O_RDWR) | O_CLOEXEC);
	if (rs->fd < 0) {
		rc = -errno;
		log_err("store: %s: %m", path);
		goto out_free_store;
	}
	rc = fstat(rs->fd, &sb) < 0 ? -errno : sio_fd_size(rs->fd, &size);
	if (rc) {
		log_err("store: %s: not a regular file or block device", path);
		goto out_close_fd;
	}
	size -= size % STORE_BLOCK_SIZE;
	if (!size) {
		rc = -EINVAL;
		log_err("store: %s: smaller than one %u-byte block", path, STORE_BLOCK_SIZE);
		goto out_close_fd;
	}
	rs->st.ops = &raw_ops;
	rs->st.size = size;
	rs->st.read_only = read_only;
	rs->st.thin = !read_only && S_ISREG(sb.st_mode);
	*out = &rs->st;
	return 0;

out_close_fd:
	close(rs->fd);
out_free_store:
	free(rs);
	return rc;
}
