/* The block store behind a logical unit: the lowest layer of vdiskd. The SCSI layer above sees
 * only this header; the overlay (and later the synchronous mirror, as a store stacked on the
 * overlay) live behind it. Layering as tgt does: transport -> iSCSI -> SCSI -> store; this
 * layer includes nothing from the ones above.
 *
 * Requests are asynchronous: store_submit() queues a request and returns at once; blocking
 * disk work runs in a worker pool, and req->done is called later from the event loop thread
 * (completions are posted back through an eventfd), never from inside store_submit(). */
#ifndef VDISK_STORE_H
#define VDISK_STORE_H

#include <stdint.h>
#include <sys/uio.h>

#include "common/evloop.h"

#define STORE_BLOCK_SIZE 512u

enum store_op {
	STORE_OP_READ,
	STORE_OP_WRITE,
	STORE_OP_FLUSH,		/* make every completed write durable (SYNCHRONIZE CACHE) */
	STORE_OP_UNMAP,		/* drop [offset, offset+length): reads return the base again */
};

enum store_flags {
	STORE_FUA = 1 << 0,	/* this write is durable when it completes */
	/* If this write is short (store_pool.h) and covers whole pages, the submitting loop
	 * thread may do it itself. It can then still wait when the kernel throttles writers of
	 * dirty pages (up to about 200 ms at a time), holding up everything else on the loop:
	 * only for a loop that serves no client, the replica's (replica_lu.c). */
	STORE_LOOP_OK = 1 << 1,
};

struct store;

struct store_req {
	enum store_op op;
	unsigned flags;
	uint64_t offset;	/* bytes, a multiple of STORE_BLOCK_SIZE */
	uint64_t length;	/* bytes, a multiple of STORE_BLOCK_SIZE */
	struct iovec *iov;	/* READ fills it, WRITE takes data from it; owned by the caller */
	int iovcnt;
	int result;		/* OUT: 0, or -EIO, -ENOSPC (out of space), -EROFS, -EINVAL,
			 * -EOPNOTSUPP (UNMAP when not thin) */
	void (*done)(struct store_req *req);	/* called on the event loop thread */
	void *priv;		/* the caller's */
	struct store_req *next;	/* the store's own queue link while in flight */
};

/* One piece of the image as a range of an open file, for zero-copy sends. */
struct store_extent {
	int fd;			/* the store's; do not close */
	uint64_t offset;	/* in that file */
	uint64_t length;
};

struct store_ops {
	/* Returns 0 when req is taken: req->done is then called exactly once, also for a
	 * request the store refuses (bad range -EINVAL, read-only -EROFS, UNMAP on a store that
	 * is not thin -EOPNOTSUPP: all in req->result). A negative errno (-ENOMEM) means req was
	 * not taken and done will not be called. Loop thread only. */
	int (*submit)(struct store *st, struct store_req *req);
	/* GET LBA STATUS: whether the range starting at offset is mapped (written in the
	 * overlay) and how many bytes from offset share that state. Synchronous, cheap. */
	int (*lba_status)(struct store *st, uint64_t offset, int *mapped, uint64_t *run);
	/* Discards every overlay chunk (restore mode at a new boot); -EBUSY while requests are
	 * in flight. Raw stores return -EOPNOTSUPP. */
	int (*reset)(struct store *st);
	void (*close)(struct store *st);	/* only with no request in flight */
	/* Optional (NULL: not offered). Where the bytes [offset, offset + length) live now, as
	 * up to max file ranges in image order, so a READ can be sent with sendfile/splice
	 * instead of being copied into a buffer. Synchronous and cheap; the answer holds until
	 * a write or UNMAP to the range completes, so send at once. The pages may not be in
	 * the page cache: sendfile from them can block on the disk, which the loop thread must
	 * not (check first, e.g. preadv2 with RWF_NOWAIT, or use STORE_OP_READ). Returns the
	 * number of extents, -EINVAL for a bad range, -E2BIG when more than max are needed. */
	int (*read_extents)(struct store *st, uint64_t offset, uint64_t length,
			    struct store_extent *ext, int max);
};

struct store {
	const struct store_ops *ops;
	uint64_t size;		/* bytes */
	int read_only;
	int thin;		/* UNMAP supported (overlay) */
};

/* The worker pool that runs blocking disk work for every store of a process. */
struct store_pool;
int store_pool_new(struct evloop *loop, unsigned nthreads, struct store_pool **out);
/* Runs what is queued and stops the workers: from then on no job touches a store, so that a
 * process that exits with requests in flight (vdiskd) may close its stores. Their
 * completions are never delivered: those stores close as not clean (their next open checks
 * their chunks). store_pool_free does it too. */
void store_pool_stop(struct store_pool *pool);
void store_pool_free(struct store_pool *pool);

/* A plain file or block device exported as it is (standalone `--lun IQN=FILE[,ro]`). */
int store_raw_open(struct store_pool *pool, const char *path, int read_only,
		   struct store **out);
/* FLUSH alone, as fdatasync(fd) on a worker, for a file that is not a disk (the mirror's
 * state file). fd stays the caller's, open until the store is closed. */
int store_fsync_open(struct store_pool *pool, int fd, struct store **out);

/* A read-only base image shared by every client of that image (opened once, refcounted)
 * plus the client's copy-on-write overlay: overlay_path.data (sparse) and overlay_path.map
 * (the persistent allocation map). Created when missing. */
int store_overlay_open(struct store_pool *pool, const char *base_path, const char *overlay_path,
		       struct store **out);

/* The name of what an overlay was made over (in --db mode its image's): an overlay means
 * nothing over another base. The first call records name in the map; later ones compare. A
 * map that records another name (copied into was) answers -ESTALE and changes nothing,
 * unless replace: then name is recorded (after the caller reset the overlay). 0, or a
 * negative errno (-EINVAL: st is not an overlay). Maps from before this record nothing. */
int store_overlay_base(struct store *st, const char *name, int replace, char *was, size_t len);

static inline int store_submit(struct store *st, struct store_req *req)
{
	return st->ops->submit(st, req);
}

static inline void store_close(struct store *st)
{
	st->ops->close(st);
}

#endif
