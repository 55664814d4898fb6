/* A store over a file that is not a disk, offering FLUSH alone: fdatasync of the caller's fd
 * on the worker pool, completed on the loop. The mirror's state file needs it: a FUA write or
 * FLUSH of a hot-standby client makes its bitmap durable first, and on the loop thread that
 * fdatasync would hold every client of the server for a disk flush. Through sio_fdatasync,
 * so the fault hook reaches it as it reaches the stores' own I/O. */
#include "vdisk-server/store/store.h"

#include <errno.h>
#include <stdlib.h>

#include "vdisk-server/store/store_io.h"
#include "vdisk-server/store/store_pool.h"

struct fsync_store {
	struct store st;
	struct store_pool *pool;
	int fd;			/* the caller's */
};

static void fsync_run(struct pool_job *job)
{
	struct fsync_store *fs = (struct fsync_store *)job->st;

	job->req->result = sio_fdatasync(fs->fd);
}

static void fsync_complete(struct pool_job *job)
{
	struct fsync_store *fs = (struct fsync_store *)job->st;
	struct store_req *req = job->req;

	pool_job_put(fs->pool, job);
	req->done(req);
}

static const struct pool_ops fsync_jobs = { .run = fsync_run, .complete = fsync_complete };

static int fsync_submit(struct store *st, struct store_req *req)
{
	struct fsync_store *fs = (struct fsync_store *)st;

	if (req->op != STORE_OP_FLUSH)
		return -EINVAL;
	return pool_submit(fs->pool, st, req, &fsync_jobs);
}

static int fsync_lba_status(struct store *st, uint64_t offset, int *mapped, uint64_t *run)
{
	(void)st, (void)offset, (void)mapped, (void)run;
	return -EINVAL;
}

static int fsync_reset(struct store *st)
{
	(void)st;
	return -EOPNOTSUPP;
}

static void fsync_close(struct store *st)
{
	free(st);
}

static const struct store_ops fsync_ops = {
	.submit = fsync_submit,
	.lba_status = fsync_lba_status,
	.reset = fsync_reset,
	.close = fsync_close,
};

int store_fsync_open(struct store_pool *pool, int fd, struct store **out)
{
	struct fsync_store *fs = calloc(1, sizeof(*fs));

	if (!fs)
		return -ENOMEM;
	fs->st.ops = &fsync_ops;
	fs->pool = pool;
	fs->fd = fd;
	*out = &fs->st;
	return 0;
}
