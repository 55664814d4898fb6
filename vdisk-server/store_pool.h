/* Private to the store: how a store hands blocking work to the worker pool. A job runs once on
 * some worker thread, then its completion runs on the event loop thread. Jobs come from the
 * pool's own free list, so the hot path allocates nothing once the list has grown to the
 * deepest queue seen. */
#ifndef VDISK_STORE_POOL_H
#define VDISK_STORE_POOL_H

#include <stddef.h>

#include "vdisk-server/store.h"

struct pool_job {
	void (*run)(struct pool_job *job);	/* on a worker thread: the blocking part */
	void (*complete)(struct pool_job *job);	/* on the loop thread, after run */
	struct store *st;
	struct store_req *req;
	struct pool_job *next;
};

/* Loop thread only. NULL when out of memory. */
struct pool_job *pool_job_get(struct store_pool *pool);
void pool_job_put(struct store_pool *pool, struct pool_job *job);

/* Loop thread: job->run on a worker, then job->complete on the loop. */
void pool_queue(struct store_pool *pool, struct pool_job *job);
/* Loop thread: job->complete on the loop in a later round, without running anything, so a
 * request refused at once still completes outside store_submit(). */
void pool_post(struct store_pool *pool, struct pool_job *job);

/* Loop thread: the common front of every store's submit. Checks req against st (alignment,
 * range, iov length, writes and unmaps on a read-only store, unmaps on a store that is not
 * thin), then queues run for it; a refused request gets its result set and is posted, so its
 * completion still runs later on the loop. Returns 0, or -ENOMEM when no job could be had
 * (req->done will then not be called). */
int pool_submit(struct store_pool *pool, struct store *st, struct store_req *req,
		void (*run)(struct pool_job *), void (*complete)(struct pool_job *));

/* Worker thread: a buffer of at least size bytes owned by the calling worker and kept for its
 * life (copy-up chunks). NULL when out of memory. */
void *pool_scratch(size_t size);

#endif
