/* Private to the synchronous mirror, four files in layers, each calling only those below it:
 *   store_mirror.c     the store: the client's operations, the tick, the store's life;
 *   mirror_resync.c    the login, the handshake of generations, the resync copies;
 *   mirror_inflight.c  the in-flight list that orders operations, their completion, the
 *                      mirror's state, the peer's loss;
 *   mirror_peer.c      the session: libiscsi in the loop and the commands that carry the
 *                      operations.
 * A lower one reports up only through function pointers the store sets: the session through
 * mr->events (an operation answered, the session lost), the in-flight list through mr->hooks
 * (waiting operations may start, an operation completed). Everything runs on the loop
 * thread: the overlay's completions come back to it, and libiscsi is driven by the loop
 * (ev_io on its socket, iscsi_service on every event).
 *
 * Every operation that changes data is a "mop" on the in-flight list until both sides have
 * answered; a new one that overlaps a listed one waits in a FIFO. Resync copies are mops too,
 * so a client write never races the copy of its chunk. */
#ifndef VDISK_MIRROR_INTERNAL_H
#define VDISK_MIRROR_INTERNAL_H

#include <stdint.h>
#include <sys/uio.h>

#include "vdisk-server/mirror/mirror_fence.h"
#include "vdisk-server/mirror/store_mirror.h"

struct iscsi_context;
struct scsi_task;

#define TICK_MS 250
#define RECONNECT_MS 1000
#define CONNECT_LIMIT_MS 10000		/* TCP connect and login; writes are recorded meanwhile */
#define BASE_RETRY_MS 5000		/* another base image: until vdiskctl image sync */
#define WRITEBACK_MS 1000
#define COPIES_MAX 8			/* resync copies in flight */
#define RESET_WAIT_MS 5000		/* copies held for a reset the client may not retry */
#define UNMAP_DESC_MAX 64u		/* per UNMAP command, as our target accepts */
#define UNMAP_DESC_BLOCKS 65536u

enum mop_kind { MOP_WRITE, MOP_FLUSH, MOP_COPY };

struct mirror;

struct mop {
	struct mirror *mr;
	enum mop_kind kind;
	struct store_req *req;		/* the caller's; NULL for a copy */
	struct store_req local;
	uint64_t off, len;		/* WRITE/UNMAP/COPY range */
	int local_pending, peer_pending, local_only;
	/* FUA or FLUSH: waiting for the state file's fdatasync, then it starts; mirrored and
	 * conn say whether it was marked for the peer, on which connection */
	int record_pending, mirrored;
	unsigned conn;
	struct mop *rnext;		/* waiting for that fdatasync (rec_now, rec_next) */
	int apart;			/* the peer did not take it: acknowledged once fenced */
	int held;			/* done here, waiting for the fence to be acknowledged */
	int result;
	uint64_t start_ms;
	uint64_t chunk;			/* COPY */
	uint8_t *buf;			/* COPY */
	struct iovec iov;		/* COPY */
	struct mop *prev, *next;	/* in flight */
	struct mop *wnext;		/* waiting */
	struct mop *snext;		/* queued for the peer (mr_queue_write) */
};

/* The private data of one libiscsi command. */
struct pcb {
	struct mirror *mr;
	unsigned conn;
	struct mop *mop;
	struct mop **mops;	/* a WRITE BATCH's, nmops of them (in out) */
	unsigned nmops;
	uint8_t *out;		/* parameter data libiscsi sends from, until the answer */
	struct scsi_task *task;	/* ours to free: a cancelled command's callback gets NULL */
};

/* What the session reports (mirror_peer.c calls, store_mirror.c answers). */
struct mirror_peer_events {
	/* The peer answered every command it had of m (m->peer_pending is 0 again). */
	void (*answered)(struct mop *m);
	/* The session is lost (why, for the log): no answer still on its way counts. */
	void (*lost)(struct mirror *mr, const char *why);
};

/* What the in-flight list asks of the store above it (mirror_inflight.c calls,
 * store_mirror.c answers). */
struct mirror_store_hooks {
	/* Operations waiting for the handshake or an overlapping one may start now. */
	void (*run_waiters)(struct mirror *mr);
	/* An operation completed: the waiters, the resync's next copies, or the free of a
	 * closing mirror. mr may be gone when it returns. */
	void (*after_done)(struct mirror *mr);
};

struct mirror {
	struct store st;		/* first: the SCSI layer's handle */
	const struct mirror_peer_events *events;
	const struct mirror_store_hooks *hooks;
	struct store *local;
	struct mirror_meta *meta;
	struct store *meta_sync;	/* the state file's fdatasync off the loop; NULL: on it */
	/* One such fdatasync at a time (a group commit: it covers every write before it, and
	 * one per FUA write would fill the disk workers the other clients need): the request
	 * in flight, what the state file had written when it began, the operations it
	 * covers, and those that came after it began and need the next one. */
	struct store_req meta_req;
	int meta_syncing;
	uint64_t meta_point;
	struct mop *rec_now, *rec_next;
	struct evloop *loop;
	struct mirror_config cfg;
	char initiator[MIRROR_NAME_MAX];
	char name[64];
	uint8_t fp[MP_FINGERPRINT_LEN];
	enum mirror_state state;
	void (*on_state)(void *arg);
	void *arg;

	struct iscsi_context *iscsi;
	unsigned conn;			/* current connection number */
	struct pcb login;		/* the connect callback's: libiscsi drops it unanswered
					 * when the context dies while connecting */
	uint64_t connect_started_ms;	/* 0 once logged in */
	struct ev_io io;
	int io_fd;			/* -1: not registered */
	int io_events;			/* what the loop watches on it */
	int in_service, kill_pending;
	int no_complete;		/* inside store_submit(): no request may complete */
	struct ev_defer later;		/* completes what mr_peer_down could not */
	struct mop *send_head, *send_tail;	/* writes for the peer, sent at the round's end */
	struct ev_defer send;
	uint64_t ctl_started_ms;	/* the login or handshake step in progress, 0 none */
	uint64_t next_connect_ms;
	struct mp_state peer;
	uint64_t bitmap_word;		/* GET BITMAP progress */
	int full_sync, finishing;
	int reset_wanted;		/* an overlay reset waits for the copies in flight */
	uint64_t reset_wanted_ms;	/* since when */
	int flushing;			/* the periodic peer flush is in flight */

	struct ev_timer tick;
	uint64_t last_writeback_ms;
	struct mop *inflight;
	struct mop *wait_head, *wait_tail;
	unsigned local_only;		/* in-flight writes not sent to the peer */
	unsigned held;			/* writes done apart, held until the peer is fenced */
	struct fence_waiter fence_wait;
	unsigned internal;		/* copies whose local read is in flight */
	int closing;

	uint64_t cursor;
	unsigned copies;
	uint64_t resync_total, resync_done, resync_bytes, resync_start_ms;
	double tokens;
	uint64_t tokens_ms;
	uint64_t mirrored, failures;
	char down_why[128];		/* why the peer was lost last (status, vdiskctl doctor) */
	uint64_t batches, batched;	/* WRITE BATCH commands, the writes they carried */
};

/* mirror_inflight.c: the in-flight list, completions, the state, the peer going away */
void mr_inflight_init(struct mirror *mr);
void mr_set_state(struct mirror *mr, enum mirror_state s);
int mr_connected(const struct mirror *mr);
/* Writes wait for the handshake when the peer is expected to answer it. */
int mr_holding(const struct mirror *mr);
void mr_list_add(struct mirror *mr, struct mop *m);
void mr_list_del(struct mirror *mr, struct mop *m);
/* Does m have to wait for an overlapping operation in flight or queued before it? */
int mr_waits(struct mirror *mr, struct mop *m);
int mr_chunk_busy(void *arg, uint64_t chunk);
/* Both sides answered (or the peer was given up): completes m. */
void mr_mop_done(struct mop *m);
/* Completes the in-flight operations both sides have answered; after mr_peer_down, whose
 * callers may be where nothing may complete. The last completion may free mr. */
void mr_complete_answered(struct mirror *mr);
/* The peer is gone (why, for the log): writes are recorded from here on. */
void mr_peer_down(struct mirror *mr, const char *why);

/* mirror_peer.c: libiscsi in the loop, and the commands that carry operations to the peer */
void mr_update_io(struct mirror *mr);
void mr_destroy_context(struct mirror *mr);
struct pcb *mr_pcb_new(struct mirror *mr, struct mop *mop);
void mr_pcb_free(struct pcb *p);
/* A command callback's common start: frees the task; false when the answer is moot (the
 * connection it was sent on is gone). */
int mr_pcb_current(struct pcb *p, void *command_data);
int mr_send_write(struct mirror *mr, struct mop *m, const struct iovec *iov, int iovcnt,
		  int fua);
/* A client write for the peer: queued, and sent when the loop's round ends together with the
 * others queued in it, as one WRITE BATCH (mirror_proto.h) when there are several. */
void mr_queue_write(struct mirror *mr, struct mop *m);
void mr_send_queued(struct ev_defer *d);
int mr_send_unmap(struct mirror *mr, struct mop *m);
int mr_send_flush(struct mirror *mr, struct mop *m);

/* mirror_resync.c: the login, the handshake and the resync */
/* Logs in to the peer's replica listener; the handshake and any resync follow. */
void mr_connect(struct mirror *mr);
/* Asks the peer's state on the session we have; decides as after a login (docs/mirror.md). */
void mr_handshake(struct mirror *mr);
/* Asks the peer to flush; when it has, the activity bits noted now are cleared. */
void mr_flush_peer(struct mirror *mr);
/* Starts resync copies while the rate and the in-flight limit allow; ends the resync. */
void mr_pump(struct mirror *mr);

#endif
