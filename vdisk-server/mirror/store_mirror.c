/* The synchronous mirror as a store; see store_mirror.h and mirror_internal.h. This file:
 * the client's operations on both sides (listed and ordered by mirror_inflight.c), the
 * periodic tick, and the store's life. */
#include "vdisk-server/mirror/store_mirror.h"

#include <errno.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/log.h"
#include "vdisk-server/mirror/mirror_internal.h"

static struct log_ratelimit rl_mirror = LOG_RATELIMIT_INIT(20);

static void run_waiters(struct mirror *mr);

const char *mirror_state_name(enum mirror_state s)
{
	switch (s) {
	case MIRROR_CONNECTING: return "connecting";
	case MIRROR_SYNCING: return "syncing";
	case MIRROR_IN_SYNC: return "in-sync";
	case MIRROR_DEGRADED: return "degraded";
	case MIRROR_SPLIT_BRAIN: return "split-brain";
	case MIRROR_BASE_DIFFERS: return "base-differs";
	}
	return "?";
}

/* The state file keeps its bits as they are: an activity bit still set covers a write the
 * peer may not have flushed (an idle mirror closes only with none left); a bit kept for
 * nothing only costs one chunk copied again. */
static void final_free(struct mirror *mr)
{
	fence_cancel(mr->cfg.fence, &mr->fence_wait);
	ev_defer_cancel(mr->loop, &mr->later);
	ev_defer_cancel(mr->loop, &mr->send);
	if (mr->meta_sync)
		store_close(mr->meta_sync);
	store_close(mr->local);
	mirror_meta_close(mr->meta);
	free(mr->meta);
	free(mr);
}

static void maybe_free(struct mirror *mr)
{
	if (mr->closing && !mr->inflight && !mr->internal)
		final_free(mr);
}

/* What follows every completion: the waiters that may go now, the resync, a pending free. */
static void after_mop(struct mirror *mr)
{
	if (mr->closing) {
		maybe_free(mr);
		return;
	}
	run_waiters(mr);
	mr_pump(mr);
}

/* ---- client operations ---- */

static void local_done(struct store_req *lreq)
{
	struct mop *m = lreq->priv;

	m->local_pending = 0;
	if (m->req)
		m->req->result = lreq->result;
	if (lreq->result < 0)
		m->result = lreq->result;
	mr_mop_done(m);
}

/* Takes m, not started anywhere, off the in-flight list. */
static void mop_unlist(struct mirror *mr, struct mop *m)
{
	mr_list_del(mr, m);
	if (m->local_only)
		mr->local_only--;
}

/* A write the peer will not get: its chunks dirty, acknowledged once the peer is fenced. */
static int mark_apart(struct mirror *mr, struct mop *m)
{
	m->local_only = 1;
	m->apart = 1;
	mr->local_only++;
	return mirror_meta_mark(mr->meta, m->off, m->len);
}

/* Sends m, whose record is durable, to both sides. Returns 0, or a negative errno when the
 * local store would not take it (m is then off the list). */
static int mop_send(struct mirror *mr, struct mop *m)
{
	struct store_req *req = m->req;
	int rc;

	m->start_ms = ev_now_ms();	/* the peer's time limit counts from here */
	m->local = *req;
	m->local.done = local_done;
	m->local.priv = m;
	m->local.next = NULL;
	m->local_pending = 1;
	rc = store_submit(mr->local, &m->local);
	if (rc < 0) {
		m->local_pending = 0;
		mop_unlist(mr, m);
		return rc;
	}
	if (!m->mirrored)
		return 0;
	mr->mirrored++;
	if (m->kind == MOP_FLUSH)
		rc = mr_send_flush(mr, m);
	else if (req->op == STORE_OP_UNMAP)
		rc = mr_send_unmap(mr, m);
	else
		mr_queue_write(mr, m);	/* sent when the round ends, with the round's others */
	if (rc < 0) {
		/* the peer never gets it (or only part of an UNMAP): recorded like a write it
		 * missed; the others complete on the next round, not inside store_submit */
		if (m->kind == MOP_WRITE) {
			mirror_meta_mark(mr->meta, m->off, m->len);
			m->apart = 1;
		}
		mr->no_complete++;
		mr_peer_down(mr, "refused a command (out of memory)");
		mr->no_complete--;
		return 0;
	}
	mr_update_io(mr);
	return 0;
}

static void log_record_failed(struct mirror *mr, int rc)
{
	/* a write whose record is not kept must not be acknowledged */
	log_limited(&rl_mirror, LOG_ERR, "mirror: client %s: cannot write its state file: %s: "
		    "write refused", mr->name, strerror(-rc));
}

/* m's record is durable (rc 0) or could not be made so: m starts, or fails. */
static void record_done(struct mop *m, int rc)
{
	struct mirror *mr = m->mr;
	struct store_req *req = m->req;

	m->record_pending = 0;
	/* the peer was lost meanwhile: mr_peer_down made its activity bits dirty, so the
	 * chunks are in the durable record already; m goes on as a write apart */
	if (rc == 0 && m->mirrored && (!mr_connected(mr) || m->conn != mr->conn)) {
		m->mirrored = 0;
		if (m->kind == MOP_WRITE)
			rc = mark_apart(mr, m);
	}
	if (rc < 0) {
		log_record_failed(mr, rc);
		mop_unlist(mr, m);
		rc = -EIO;
	} else {
		rc = mop_send(mr, m);
	}
	if (rc < 0) {
		free(m);
		req->result = rc;
		req->done(req);
		after_mop(mr);
	}
}

/* Runs record_done for the operations of list (pushed newest first), oldest first. */
static void record_done_all(struct mop *list, int rc)
{
	struct mop *fifo = NULL;

	while (list) {
		struct mop *m = list;

		list = m->rnext;
		m->rnext = fifo;
		fifo = m;
	}
	while (fifo) {
		struct mop *m = fifo;

		fifo = m->rnext;
		record_done(m, rc);
	}
}

static void meta_synced(struct store_req *sreq);

/* Starts the state file's fdatasync in a worker for the operations on rec_now. Returns 0,
 * or -ENOMEM when the pool took no job. */
static int meta_sync_start(struct mirror *mr)
{
	memset(&mr->meta_req, 0, sizeof(mr->meta_req));
	mr->meta_req.op = STORE_OP_FLUSH;
	mr->meta_req.done = meta_synced;
	mr->meta_req.priv = mr;
	mr->meta_point = mirror_meta_unsynced(mr->meta);
	if (store_submit(mr->meta_sync, &mr->meta_req) < 0)
		return -ENOMEM;
	mr->meta_syncing = 1;
	return 0;
}

/* The state file's fdatasync came back: the operations it covered start (or fail). Those
 * that came while it ran get the next one, or none when nothing was written since. */
static void meta_synced(struct store_req *sreq)
{
	struct mirror *mr = sreq->priv;
	struct mop *covered = mr->rec_now, *later = mr->rec_next;
	int rc = sreq->result, later_rc = 0;

	mr->rec_now = mr->rec_next = NULL;
	mr->meta_syncing = 0;
	if (rc == 0)
		mirror_meta_synced(mr->meta, mr->meta_point);
	if (later && mirror_meta_unsynced(mr->meta)) {
		mr->rec_now = later;
		if (meta_sync_start(mr) == 0) {
			later = NULL;		/* they wait for it */
		} else {
			mr->rec_now = NULL;
			later_rc = mirror_meta_sync(mr->meta);	/* no job: here, once */
		}
	}
	/* detached first: a start can bring new operations to the lists */
	record_done_all(covered, rc);
	record_done_all(later, later_rc);
}

/* Makes m's record durable in a worker; m starts when it is (record_done). Returns 0, or a
 * negative errno when the worker pool took no job. */
static int record_async(struct mirror *mr, struct mop *m)
{
	m->conn = mr->conn;
	m->record_pending = 1;
	if (mr->meta_syncing) {
		/* it may have begun before m's mark: the next one covers m */
		m->rnext = mr->rec_next;
		mr->rec_next = m;
		return 0;
	}
	m->rnext = NULL;
	mr->rec_now = m;
	if (meta_sync_start(mr) == 0)
		return 0;
	mr->rec_now = NULL;
	m->record_pending = 0;
	return -ENOMEM;
}

/* Starts m: listed, its chunks marked, the record durable first for a FUA write or a FLUSH,
 * then both sides. Returns 0, or a negative errno when it could not start (m is then off the
 * list and was sent nowhere). */
static int mop_start(struct mirror *mr, struct mop *m)
{
	int rc = 0;

	m->mirrored = mr_connected(mr);
	mr_list_add(mr, m);
	if (m->kind == MOP_WRITE) {
		if (m->mirrored)
			rc = mirror_meta_mark_active(mr->meta, m->off, m->len);
		else
			rc = mark_apart(mr, m);
	}
	/* the record before the data it covers: in a worker when there is one, so that the
	 * loop, and every other client, does not wait for this disk flush */
	if (rc == 0 && ((m->req->flags & STORE_FUA) || m->kind == MOP_FLUSH) &&
	    mirror_meta_unsynced(mr->meta)) {
		if (mr->meta_sync && record_async(mr, m) == 0)
			return 0;
		rc = mirror_meta_sync(mr->meta);
	}
	if (rc < 0) {
		log_record_failed(mr, rc);
		mop_unlist(mr, m);
		return -EIO;
	}
	return mop_send(mr, m);
}

static void run_waiters(struct mirror *mr)
{
	struct mop **pp = &mr->wait_head, *prev = NULL;

	while (*pp) {
		struct mop *m = *pp;

		if (mr_waits(mr, m)) {
			prev = m;
			pp = &m->wnext;
			continue;
		}
		*pp = m->wnext;
		if (mr->wait_tail == m)
			mr->wait_tail = prev;
		if (mop_start(mr, m) < 0) {
			struct store_req *req = m->req;

			req->result = -ENOMEM;
			free(m);
			req->done(req);
		}
	}
}

static int mr_submit(struct store *st, struct store_req *req)
{
	struct mirror *mr = (struct mirror *)st;
	struct mop *m;
	int rc;

	if (req->op == STORE_OP_READ)
		return store_submit(mr->local, req);
	m = calloc(1, sizeof(*m));
	if (!m)
		return -ENOMEM;
	m->mr = mr;
	m->req = req;
	m->kind = req->op == STORE_OP_FLUSH ? MOP_FLUSH : MOP_WRITE;
	m->off = req->offset;
	m->len = req->length;
	if (m->kind == MOP_WRITE && (req->length == 0 || req->offset >= st->size ||
				     req->length > st->size - req->offset)) {
		free(m);
		return store_submit(mr->local, req);	/* the overlay refuses it */
	}
	if (mr_waits(mr, m)) {
		if (mr->wait_tail)
			mr->wait_tail->wnext = m;
		else
			mr->wait_head = m;
		mr->wait_tail = m;
		return 0;
	}
	rc = mop_start(mr, m);
	if (rc < 0)
		free(m);
	return rc;
}

/* ---- the tick: time limits, reconnects, the resync's rate, the activity log ---- */

/* A connection that is slow to come up: the writes held for its handshake go on locally,
 * recorded, and the connection goes on (libiscsi leaks the state of a connect abandoned
 * before its callback); its handshake, if it completes, starts the resync. */
static void stop_holding(struct mirror *mr, const char *why)
{
	log_limited(&rl_mirror, LOG_WARNING, "mirror: client %s: peer %s %s: degraded, writes "
		    "recorded for resync", mr->name, mr->cfg.peer, why);
	mr->failures++;
	if (mr->cfg.peer_up)
		*mr->cfg.peer_up = 0;
	mr_set_state(mr, MIRROR_DEGRADED);	/* runs the held writes */
}

static void tick_fn(struct ev_timer *t)
{
	struct mirror *mr = t->arg;
	uint64_t now = ev_now_ms();
	char why[64];

	snprintf(why, sizeof(why), "did not answer within %u ms", mr->cfg.timeout_ms);
	if (mr->iscsi && mr->connect_started_ms && mr->wait_head && mr_holding(mr) &&
	    now - mr->connect_started_ms > mr->cfg.timeout_ms) {
		stop_holding(mr, why);	/* held writes go on locally, recorded */
	} else if (mr->iscsi && mr->connect_started_ms &&
	    now - mr->connect_started_ms > CONNECT_LIMIT_MS) {
		mr_peer_down(mr, "did not complete a login within 10 s");
	} else if (mr->iscsi && mr->ctl_started_ms &&
		   now - mr->ctl_started_ms > mr->cfg.timeout_ms) {
		mr_peer_down(mr, why);
	} else if (mr->iscsi) {
		for (struct mop *m = mr->inflight; m; m = m->next) {
			if (m->peer_pending && now - m->start_ms > mr->cfg.timeout_ms) {
				mr_peer_down(mr, why);
				break;
			}
		}
	}
	if (!mr->iscsi && mr->state != MIRROR_SPLIT_BRAIN && now >= mr->next_connect_ms)
		mr_connect(mr);
	if (now - mr->last_writeback_ms >= WRITEBACK_MS) {
		mr->last_writeback_ms = now;
		/* connected: activity bits go only once the peer flushed their writes */
		if (mr_connected(mr))
			mr_flush_peer(mr);
		else if (!mr->iscsi)
			mirror_meta_writeback(mr->meta, mr_chunk_busy, mr);
	}
	mr_pump(mr);
	ev_timer_arm(mr->loop, &mr->tick, TICK_MS);
}

/* ---- the store ---- */

static int mr_lba_status(struct store *st, uint64_t offset, int *mapped, uint64_t *run)
{
	struct mirror *mr = (struct mirror *)st;

	return mr->local->ops->lba_status(mr->local, offset, mapped, run);
}

static int mr_read_extents(struct store *st, uint64_t offset, uint64_t length,
			   struct store_extent *ext, int max)
{
	struct mirror *mr = (struct mirror *)st;

	return mr->local->ops->read_extents(mr->local, offset, length, ext, max);
}

/* A restore-mode reset: our overlay is emptied and the replica must be too. A new generation
 * with no peer generation makes the next handshake discard the replica first. */
static int mr_reset(struct store *st)
{
	struct mirror *mr = (struct mirror *)st;
	int rc;

	if (mr->inflight || mr->wait_head) {
		if (!mr->reset_wanted)
			mr->reset_wanted_ms = ev_now_ms();
		mr->reset_wanted = 1;	/* resync copies hold it: start no more */
		return -EBUSY;
	}
	mr->reset_wanted = 0;
	/* the new generation first, durably: a stop between the two then finds a generation
	 * the replica does not know and discards it, never an emptied overlay that still
	 * claims the replica's generation (an incremental resync would keep stale chunks) */
	rc = mirror_meta_set_gen(mr->meta, mirror_meta_new_gen(), 0, 0);
	if (rc < 0)
		return rc;
	rc = mr->local->ops->reset(mr->local);
	if (rc < 0)
		return rc;
	mirror_meta_clear_all(mr->meta);
	mirror_meta_writeback(mr->meta, NULL, NULL);
	if (mr->iscsi && !mr->kill_pending && !mr->connect_started_ms &&
	    mr->state != MIRROR_SPLIT_BRAIN) {
		/* logged in: the handshake again on this session (it discards the replica
		 * first); answers to a handshake step under way are moot from here */
		mr->conn++;
		mr->finishing = 0;
		mr->flushing = 0;
		mr->ctl_started_ms = 0;
		mr_set_state(mr, MIRROR_CONNECTING);
		mr_handshake(mr);
	}
	/* still logging in: its handshake reads the new generations anyway */
	return rc;
}

static void mr_close(struct store *st)
{
	struct mirror *mr = (struct mirror *)st;

	mr->closing = 1;
	ev_timer_cancel(mr->loop, &mr->tick);
	ev_defer_cancel(mr->loop, &mr->later);
	mr->conn++;
	mr_destroy_context(mr);	/* cancels the resync copies' peer writes */
	if (!mr->inflight) {
		final_free(mr);
		return;
	}
	/* only resync copies can be in flight (a store closes with no request of its user) */
	for (struct mop *m = mr->inflight; m; m = m->next) {
		m->peer_pending = 0;
		m->result = -ECANCELED;
	}
	/* the last completion frees mr (here, or when a copy's read comes back) */
	mr_complete_answered(mr);
}

static const struct store_ops mirror_ops = {
	.submit = mr_submit,
	.lba_status = mr_lba_status,
	.reset = mr_reset,
	.close = mr_close,
};

static const struct store_ops mirror_ops_extents = {
	.submit = mr_submit,
	.lba_status = mr_lba_status,
	.reset = mr_reset,
	.close = mr_close,
	.read_extents = mr_read_extents,
};

static const struct mirror_peer_events peer_events = {
	.answered = mr_mop_done,
	.lost = mr_peer_down,
};

static const struct mirror_store_hooks store_hooks = {
	.run_waiters = run_waiters,
	.after_done = after_mop,
};

int store_mirror_open(struct evloop *loop, struct store *local, struct mirror_meta *meta,
		      const struct mirror_config *cfg, const char *initiator, const char *name,
		      const uint8_t fingerprint[MP_FINGERPRINT_LEN],
		      void (*on_state)(void *arg), void *arg, struct store **out)
{
	struct mirror *mr = calloc(1, sizeof(*mr));
	int rc;

	if (!mr)
		return -ENOMEM;
	if (cfg->pool) {
		rc = store_fsync_open(cfg->pool, meta->fd, &mr->meta_sync);
		if (rc < 0) {
			free(mr);
			return rc;
		}
	}
	mr->st.ops = local->ops->read_extents ? &mirror_ops_extents : &mirror_ops;
	mr->st.size = local->size;
	mr->st.read_only = local->read_only;
	mr->st.thin = local->thin;
	mr->local = local;
	mr->meta = meta;
	mr->loop = loop;
	mr->cfg = *cfg;
	snprintf(mr->initiator, sizeof(mr->initiator), "%s", initiator);
	snprintf(mr->name, sizeof(mr->name), "%s", name);
	memcpy(mr->fp, fingerprint, MP_FINGERPRINT_LEN);
	mr->on_state = on_state;
	mr->arg = arg;
	mr->io_fd = -1;
	mr->state = MIRROR_CONNECTING;
	mr->last_writeback_ms = ev_now_ms();
	ev_timer_init(&mr->tick, tick_fn, mr);
	mr_inflight_init(mr);
	ev_defer_init(&mr->send, mr_send_queued, mr);
	mr->events = &peer_events;
	mr->hooks = &store_hooks;
	mr_connect(mr);
	ev_timer_arm(loop, &mr->tick, TICK_MS);
	*out = &mr->st;
	return 0;
}

void store_mirror_status(struct store *st, struct mirror_status *out)
{
	struct mirror *mr = (struct mirror *)st;
	uint64_t elapsed = ev_now_ms() - mr->resync_start_ms;

	memset(out, 0, sizeof(*out));
	out->state = mr->state;
	out->dirty = mr->meta->nset;
	out->resync_done = mr->resync_done;
	out->resync_total = mr->resync_total;
	if (mr->state == MIRROR_SYNCING && mr->resync_bytes && elapsed)
		out->eta_s = (uint64_t)((double)mr->meta->nset * MIRROR_CHUNK /
					((double)mr->resync_bytes * 1000.0 / (double)elapsed));
	out->gen = mr->meta->gen;
	out->peer_gen = mr->meta->peer_gen;
	out->mirrored = mr->mirrored;
	out->batches = mr->batches;
	out->batched = mr->batched;
	out->failures = mr->failures;
	out->unflushed = mirror_meta_active(mr->meta);
	out->held = mr->held;
	snprintf(out->down_why, sizeof(out->down_why), "%s", mr->down_why);
}

int store_mirror_keep_local(struct store *st)
{
	struct mirror *mr = (struct mirror *)st;

	if (mr->state != MIRROR_SPLIT_BRAIN)
		return -EINVAL;
	log_notice("mirror: client %s: split brain resolved: this server's copy is kept, the "
		   "peer's is discarded and resynced", mr->name);
	mr->full_sync = 1;
	mr->next_connect_ms = 0;
	mr_set_state(mr, MIRROR_DEGRADED);
	return 0;
}

void store_mirror_drop_held(struct store *st)
{
	struct mirror *mr = (struct mirror *)st;

	if (!mr->held)
		return;
	log_warn("mirror: client %s: %u writes held for the fence fail: this server is no "
		 "longer active", mr->name, mr->held);
	fence_cancel(mr->cfg.fence, &mr->fence_wait);
	for (struct mop *m = mr->inflight; m; m = m->next) {
		if (m->held) {
			m->apart = 0;	/* not acknowledged: failed */
			m->req->result = -EIO;
		}
	}
	mr_complete_answered(mr);
}

void store_mirror_link(struct store *st, int up)
{
	struct mirror *mr = (struct mirror *)st;

	if (up)
		mr->next_connect_ms = ev_now_ms();
	else if (mr->iscsi && !mr->kill_pending)
		mr_peer_down(mr, "is behind a link that lost its carrier");
}
