/* Private to the store: how a store hands blocking work to the worker pool. A job runs once on
 * some worker thread, then its completion runs on the event loop thread. Jobs come from the
 * pool's own free list, so the hot path allocates nothing once the list has grown to the
 * deepest queue seen. */
#ifndef VDISK_STORE_POOL_H
#define VDISK_STORE_POOL_H

#include <stddef.h>

#include "vdisk-server/store/store.h"

struct pool_job;

/* What a store does with its jobs. */
struct pool_ops {
	void (*run)(struct pool_job *job);	/* on a worker thread: the blocking part */
	void (*complete)(struct pool_job *job);	/* on the loop thread, after run */
	/* Optional, loop thread: a chance to do the work at once without blocking; returns 0
	 * with req->result set, or -EAGAIN to leave it to a worker. */
	int (*try_now)(struct pool_job *job);
	/* Optional, loop thread: whether run is a short copy into the page cache (a write that
	 * allocates nothing and waits for no disk). Short jobs of one store submitted back to
	 * back are held until the loop round ends and then run by one worker in turn, their
	 * completions coming back together: waking a worker and waking the loop cost this
	 * machine about 7 us a job, more than such a copy (2 us), and writes to one file take
	 * its inode lock one at a time anyway. A short job whose request has STORE_LOOP_OK
	 * runs on the loop thread instead, at once. Only a hint: run must still do the whole
	 * job. */
	int (*is_short)(const struct pool_job *job);
};

struct pool_job {
	const struct pool_ops *ops;
	struct store *st;
	struct store_req *req;
	struct pool_job *next;		/* the queue's or a list's link */
	struct pool_job *group;		/* the rest of its group, run by the same worker */
};

/* Loop thread, from a store's complete: gives the job back to the pool's free list. */
void pool_job_put(struct store_pool *pool, struct pool_job *job);

/* Reads up to this size are first tried on the loop thread from the page cache: for them the
 * hop to a worker and back costs more than the copy. Larger ones stay in the workers, which
 * copy in parallel while the loop thread sends. Writes up to this size may be short jobs. */
#define POOL_INLINE_MAX (64u * 1024)

/* A group of short jobs is queued when it has this many, not to delay the first too long. */
#define POOL_GROUP_MAX 64

/* Loop thread: the common front of every store's submit. Checks req against st (alignment,
 * range, iov length, writes and unmaps on a read-only store, unmaps on a store that is not
 * thin). Then ops->try_now gets its chance; otherwise ops->run is queued for a worker, held
 * in the round's group when ops->is_short says so (or run here: STORE_LOOP_OK and whole
 * pages). A refused request gets its result set. Every completion runs later on the loop,
 * never inside this call. Returns 0, or -ENOMEM when no job could be had (req->done will
 * then not be called). */
int pool_submit(struct store_pool *pool, struct store *st, struct store_req *req,
		const struct pool_ops *ops);

/* Worker thread: a buffer of at least size bytes owned by the calling worker and kept for its
 * life (copy-up chunks). NULL when out of memory. */
void *pool_scratch(size_t size);

#endif
