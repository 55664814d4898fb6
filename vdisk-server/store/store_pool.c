/* The worker pool: N threads take jobs from two queues and run the blocking disk calls; each
 * finished job goes on a completion list and the loop thread is woken through an eventfd only
 * when that list goes from empty to non-empty, so a burst of completions costs one wakeup.
 * Short jobs (store_pool.h) of one store submitted back to back form a group, queued as one
 * entry when the loop round ends: one worker woken, one completion post.
 *
 * Groups of short jobs have a queue of their own, which workers serve first: a copy into the
 * page cache takes microseconds, and it must not wait behind the slow jobs (FUA writes,
 * flushes, reads from the disk) another client has queued, 32 deep from one initiator. The
 * order between the two kinds was never a promise: workers run jobs side by side anyway, and
 * what must be ordered is ordered above the store (the SCSI layer, the mirror). Nor can short
 * jobs starve slow ones: one loop thread makes them, each with a PDU's worth of work, far
 * slower than a worker runs them (a copy of about 2 us, store_pool.h). */
#include "vdisk-server/store/store.h"
#include "vdisk-server/store/store_pool.h"

#include <errno.h>
#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include "common/log.h"

#define POOL_MAX_THREADS 64
#define POOL_SLAB_JOBS 64

struct pool_slab {
	struct pool_slab *next;
	struct pool_job jobs[POOL_SLAB_JOBS];
};

/* A FIFO of jobs (linked by ->next), under the pool's lock. */
struct job_queue {
	struct pool_job *head, *tail;
};

static void queue_push(struct job_queue *q, struct pool_job *job)
{
	job->next = NULL;
	if (q->tail)
		q->tail->next = job;
	else
		q->head = job;
	q->tail = job;
}

/* The oldest job, or NULL. */
static struct pool_job *queue_pop(struct job_queue *q)
{
	struct pool_job *job = q->head;

	if (job) {
		q->head = job->next;
		if (!q->head)
			q->tail = NULL;
	}
	return job;
}

struct store_pool {
	struct evloop *loop;
	/* Submission queue, shared with the workers. */
	pthread_mutex_t lock;
	pthread_cond_t cond;
	struct job_queue fast;			/* groups of short jobs: taken first */
	struct job_queue slow;			/* every other job */
	unsigned idle;
	int stopping;
	/* Completion list, filled by workers, drained by the loop. */
	pthread_mutex_t done_lock;
	struct pool_job *done_head, *done_tail;
	int efd;
	struct ev_io efd_io;
	/* Jobs done on the loop thread (try_now), completed when the loop round ends: no
	 * system call, and done never runs inside store_submit(). */
	struct pool_job *now_head, *now_tail;
	struct ev_defer now_defer;
	/* The open group of short jobs (linked by ->group), queued when the round ends. */
	struct pool_job *group_head, *group_tail;
	unsigned group_len;
	struct ev_defer group_defer;
	uint64_t page;			/* the page cache's page size */
	/* Loop thread only. */
	struct pool_job *free_jobs;
	struct pool_slab *slabs;
	pthread_t threads[POOL_MAX_THREADS];
	unsigned nthreads;
};

static __thread void *scratch;
static __thread size_t scratch_size;

void *pool_scratch(size_t size)
{
	void *p;

	if (size <= scratch_size)
		return scratch;
	/* Page aligned so the copy-up buffer also suits O_DIRECT should a store ever use it. */
	if (posix_memalign(&p, 4096, size))
		return NULL;
	free(scratch);
	scratch = p;
	scratch_size = size;
	return p;
}

/* Loop thread only. NULL when out of memory. */
static struct pool_job *pool_job_get(struct store_pool *pool)
{
	struct pool_job *job = pool->free_jobs;

	if (!job) {
		struct pool_slab *slab = malloc(sizeof(*slab));
		unsigned i;

		if (!slab)
			return NULL;
		slab->next = pool->slabs;
		pool->slabs = slab;
		for (i = 0; i < POOL_SLAB_JOBS; i++) {
			slab->jobs[i].next = pool->free_jobs;
			pool->free_jobs = &slab->jobs[i];
		}
		job = pool->free_jobs;
	}
	pool->free_jobs = job->next;
	job->next = NULL;
	return job;
}

void pool_job_put(struct store_pool *pool, struct pool_job *job)
{
	job->next = pool->free_jobs;
	pool->free_jobs = job;
}

/* Posts job and the rest of its group, in order, with one lock and at most one wakeup. */
static void post_done(struct store_pool *pool, struct pool_job *job)
{
	struct pool_job *last = job;
	uint64_t one = 1;
	int was_empty;

	for (; last->group; last = last->group)
		last->next = last->group;
	last->next = NULL;
	pthread_mutex_lock(&pool->done_lock);
	was_empty = !pool->done_head;
	if (pool->done_tail)
		pool->done_tail->next = job;
	else
		pool->done_head = job;
	pool->done_tail = last;
	pthread_mutex_unlock(&pool->done_lock);
	/* An eventfd write only fails when the counter would overflow, which the loop's reads
	 * make impossible; the wakeup is then already pending anyway. */
	if (was_empty && write(pool->efd, &one, sizeof(one)) < 0)
		log_debug("store pool: eventfd write: %m");
}

/* Loop thread: job->ops->run on a worker, then job->ops->complete on the loop; the same for
 * the rest of its group, on the same worker. fast: a group of short jobs. */
static void pool_queue(struct store_pool *pool, struct pool_job *job, int fast)
{
	pthread_mutex_lock(&pool->lock);
	queue_push(fast ? &pool->fast : &pool->slow, job);
	if (pool->idle)
		pthread_cond_signal(&pool->cond);
	pthread_mutex_unlock(&pool->lock);
}

static int req_check(const struct store *st, const struct store_req *req)
{
	uint64_t iov_len = 0;
	int i;

	if (req->op == STORE_OP_FLUSH)
		return 0;
	if (req->offset % STORE_BLOCK_SIZE || req->length % STORE_BLOCK_SIZE ||
	    req->length > st->size || req->offset > st->size - req->length)
		return -EINVAL;
	switch (req->op) {
	case STORE_OP_READ:
		break;
	case STORE_OP_WRITE:
		if (st->read_only)
			return -EROFS;
		break;
	case STORE_OP_UNMAP:
		if (st->read_only)
			return -EROFS;
		return st->thin ? 0 : -EOPNOTSUPP;
	default:
		return -EINVAL;
	}
	if (req->iovcnt < 0 || (req->iovcnt && !req->iov))
		return -EINVAL;
	for (i = 0; i < req->iovcnt; i++)
		iov_len += req->iov[i].iov_len;
	return iov_len < req->length ? -EINVAL : 0;
}

static void now_ready(struct ev_defer *d)
{
	struct store_pool *pool = d->arg;
	struct pool_job *job = pool->now_head, *next;

	pool->now_head = pool->now_tail = NULL;
	for (; job; job = next) {
		next = job->next;
		job->ops->complete(job);
	}
}

static void group_flush(struct store_pool *pool)
{
	struct pool_job *head = pool->group_head;

	if (!head)
		return;
	pool->group_head = pool->group_tail = NULL;
	pool->group_len = 0;
	pool_queue(pool, head, 1);
}

static void group_ready(struct ev_defer *d)
{
	group_flush(d->arg);
}

/* Adds a short job to the open group, which must hold the same store's jobs only. */
static void group_add(struct store_pool *pool, struct pool_job *job)
{
	if (pool->group_head && pool->group_head->st != job->st)
		group_flush(pool);
	ev_defer(pool->loop, &pool->group_defer);
	if (pool->group_tail)
		pool->group_tail->group = job;
	else
		pool->group_head = job;
	pool->group_tail = job;
	if (++pool->group_len == POOL_GROUP_MAX)
		group_flush(pool);
}

static void post_now(struct store_pool *pool, struct pool_job *job)
{
	ev_defer(pool->loop, &pool->now_defer);
	job->next = NULL;
	if (pool->now_tail)
		pool->now_tail->next = job;
	else
		pool->now_head = job;
	pool->now_tail = job;
}

int pool_submit(struct store_pool *pool, struct store *st, struct store_req *req,
		const struct pool_ops *ops)
{
	struct pool_job *job = pool_job_get(pool);

	if (!job)
		return -ENOMEM;
	job->ops = ops;
	job->st = st;
	job->req = req;
	job->group = NULL;
	req->result = req_check(st, req);
	if (req->result || (req->op != STORE_OP_FLUSH && !req->length)) {
		post_now(pool, job);
	} else if (ops->try_now && ops->try_now(job) == 0) {
		post_now(pool, job);	/* done at once, completed when the round ends */
	} else if (ops->is_short && ops->is_short(job)) {
		/* whole pages only: a part of a page that is not cached would be read first */
		if (!(req->flags & STORE_LOOP_OK) || req->offset % pool->page ||
		    req->length % pool->page) {
			group_add(pool, job);
		} else {
			ops->run(job);
			post_now(pool, job);
		}
	} else {
		/* the open group goes now rather than at the round's end: it was first */
		group_flush(pool);
		pool_queue(pool, job, 0);
	}
	return 0;
}

static void *worker(void *arg)
{
	struct store_pool *pool = arg;
	struct pool_job *job;

	for (;;) {
		pthread_mutex_lock(&pool->lock);
		while (!pool->fast.head && !pool->slow.head && !pool->stopping) {
			pool->idle++;
			pthread_cond_wait(&pool->cond, &pool->lock);
			pool->idle--;
		}
		job = queue_pop(&pool->fast);
		if (!job)
			job = queue_pop(&pool->slow);
		pthread_mutex_unlock(&pool->lock);
		if (!job)
			break;		/* stopping, nothing left */
		for (struct pool_job *g = job; g; g = g->group)
			g->ops->run(g);
		post_done(pool, job);
	}
	free(scratch);
	scratch = NULL;
	scratch_size = 0;
	return NULL;
}

/* Loop thread: reset the eventfd first, then take the list, so a job posted in between
 * leaves the eventfd readable for the next round instead of being missed. */
static void completions_ready(struct ev_io *io, uint32_t events)
{
	struct store_pool *pool = io->arg;
	struct pool_job *job, *next;
	uint64_t n;

	(void)events;
	if (read(pool->efd, &n, sizeof(n)) < 0 && errno != EAGAIN)
		log_debug("store pool: eventfd read: %m");
	pthread_mutex_lock(&pool->done_lock);
	job = pool->done_head;
	pool->done_head = pool->done_tail = NULL;
	pthread_mutex_unlock(&pool->done_lock);
	for (; job; job = next) {
		next = job->next;
		job->ops->complete(job);
	}
}

static void stop_workers(struct store_pool *pool)
{
	unsigned i;

	pthread_mutex_lock(&pool->lock);
	pool->stopping = 1;
	pthread_cond_broadcast(&pool->cond);
	pthread_mutex_unlock(&pool->lock);
	for (i = 0; i < pool->nthreads; i++)
		pthread_join(pool->threads[i], NULL);
	pool->nthreads = 0;
}

int store_pool_new(struct evloop *loop, unsigned nthreads, struct store_pool **out)
{
	struct store_pool *pool;
	int rc;

	if (nthreads < 1 || nthreads > POOL_MAX_THREADS)
		return -EINVAL;
	pool = calloc(1, sizeof(*pool));
	if (!pool)
		return -ENOMEM;
	pool->loop = loop;
	ev_defer_init(&pool->now_defer, now_ready, pool);
	ev_defer_init(&pool->group_defer, group_ready, pool);
	pool->page = (uint64_t)sysconf(_SC_PAGESIZE);
	pthread_mutex_init(&pool->lock, NULL);
	pthread_cond_init(&pool->cond, NULL);
	pthread_mutex_init(&pool->done_lock, NULL);
	pool->efd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	if (pool->efd < 0) {
		rc = -errno;
		goto out_free_pool;
	}
	rc = ev_io_add(loop, &pool->efd_io, pool->efd, EPOLLIN, completions_ready, pool);
	if (rc)
		goto out_close_efd;
	while (pool->nthreads < nthreads) {
		rc = -pthread_create(&pool->threads[pool->nthreads], NULL, worker, pool);
		if (rc)
			goto out_stop_workers;
		pool->nthreads++;
	}
	*out = pool;
	return 0;

out_stop_workers:
	stop_workers(pool);
	ev_io_del(loop, &pool->efd_io);
out_close_efd:
	close(pool->efd);
out_free_pool:
	pthread_mutex_destroy(&pool->done_lock);
	pthread_cond_destroy(&pool->cond);
	pthread_mutex_destroy(&pool->lock);
	free(pool);
	return rc;
}

void store_pool_stop(struct store_pool *pool)
{
	if (pool)
		stop_workers(pool);
}

void store_pool_free(struct store_pool *pool)
{
	struct pool_slab *slab, *next;

	if (!pool)
		return;
	/* A group still held (the loop stopped inside a round) is dropped, not run: its stores
	 * may be closed by now. */
	pool->group_head = pool->group_tail = NULL;
	stop_workers(pool);
	ev_defer_cancel(pool->loop, &pool->group_defer);
	ev_defer_cancel(pool->loop, &pool->now_defer);
	ev_io_del(pool->loop, &pool->efd_io);
	close(pool->efd);
	for (slab = pool->slabs; slab; slab = next) {
		next = slab->next;
		free(slab);
	}
	pthread_mutex_destroy(&pool->done_lock);
	pthread_cond_destroy(&pool->cond);
	pthread_mutex_destroy(&pool->lock);
	free(pool);
}
