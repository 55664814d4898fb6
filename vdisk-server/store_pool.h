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

/* Loop thread, from a store's complete: gives the job back to the pool's free list. */
void pool_job_put(struct store_pool *pool, struct pool_job *job);

/* Reads up to this size are first tried on the loop thread from the page cache: for them the
 * hop to a worker and back costs more than the copy. Larger ones stay in the workers, which
 * copy in parallel while the loop thread sends. */
#define POOL_INLINE_MAX (64u * 1024)

/* Loop thread: the common front of every store's submit. Checks req against st (alignment,
 * range, iov length, writes and unmaps on a read-only store, unmaps on a store that is not
 * thin). Then try_now (may be NULL) gets a chance to do the work at once without blocking:
 * it returns 0 with req->result set, or -EAGAIN; otherwise run is queued for a worker. A
 * refused request gets its result set. Every completion runs later on the loop, never inside
 * this call. Returns 0, or -ENOMEM when no job could be had (req->done will then not be
 * called). */
int pool_submit(struct store_pool *pool, struct store *st, struct store_req *req,
		void (*run)(struct pool_job *), void (*complete)(struct pool_job *),
		int (*try_now)(struct pool_job *));

/* Worker thread: a buffer of at least size bytes owned by the calling worker and kept for its
 * life (copy-up chunks). NULL when out of memory. */
void *pool_scratch(size_t size);

#endif
