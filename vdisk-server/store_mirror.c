/* The synchronous mirror; see store_mirror.h. Everything here runs on the loop thread: the
 * overlay's completions come back to it, and libiscsi is driven by the loop (ev_io on its
 * socket, iscsi_service on every event).
 *
 * Every operation that changes data is a "mop" on the in-flight list until both sides have
 * answered; a new one that overlaps a listed one waits in a FIFO. Resync copies are mops too,
 * so a client write never races the copy of its chunk.
 *
 * libiscsi calls a command's callback also when the context is destroyed (cancelled): each
 * callback carries the connection number it was sent on and does nothing but free its task
 * when that connection is no longer the current one. */
#include "vdisk-server/store_mirror.h"

#include <errno.h>
#include <iscsi/iscsi.h>
#include <iscsi/scsi-lowlevel.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/log.h"

#define TICK_MS 250
#define RECONNECT_MS 1000
#define BASE_RETRY_MS 30000
#define WRITEBACK_MS 1000
#define COPIES_MAX 8			/* resync copies in flight */
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
	int local_pending, peer_pending, local_only, started;
	int result;
	uint64_t start_ms;
	uint64_t chunk;			/* COPY */
	uint8_t *buf;			/* COPY */
	struct iovec iov;		/* COPY */
	struct mop *prev, *next;	/* in flight */
	struct mop *wnext;		/* waiting */
};

/* The private data of one libiscsi command. */
struct pcb {
	struct mirror *mr;
	unsigned conn;
	struct mop *mop;
	uint8_t *out;		/* parameter data libiscsi sends from, until the answer */
};

struct mirror {
	struct store st;		/* first: the SCSI layer's handle */
	struct store *local;
	struct mirror_meta *meta;
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
	struct ev_io io;
	int io_fd;			/* -1: not registered */
	int in_service, kill_pending;
	uint64_t ctl_started_ms;	/* the login or handshake step in progress, 0 none */
	uint64_t next_connect_ms;
	struct mp_state peer;
	uint64_t bitmap_word;		/* GET BITMAP progress */
	int full_sync, finishing;
	int reset_wanted;		/* an overlay reset waits for the copies in flight */

	struct ev_timer tick;
	uint64_t last_writeback_ms;
	struct mop *inflight;
	struct mop *wait_head, *wait_tail;
	unsigned local_only;		/* in-flight writes not sent to the peer */
	unsigned internal;		/* copies whose local read is in flight */
	int closing;

	uint64_t cursor;
	unsigned copies;
	uint64_t resync_total, resync_done, resync_bytes, resync_start_ms;
	double tokens;
	uint64_t tokens_ms;
	uint64_t mirrored, failures;
};

static struct log_ratelimit rl_mirror = LOG_RATELIMIT_INIT(20);

static void pump(struct mirror *mr);
static void run_waiters(struct mirror *mr);
static void connect_peer(struct mirror *mr);

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

static void set_state(struct mirror *mr, enum mirror_state s)
{
	if (mr->state == s)
		return;
	mr->state = s;
	if (mr->on_state)
		mr->on_state(mr->arg);
}

static int connected(const struct mirror *mr)
{
	return mr->iscsi && !mr->kill_pending &&
	       (mr->state == MIRROR_SYNCING || mr->state == MIRROR_IN_SYNC);
}

/* ---- libiscsi in the loop ---- */

static void update_io(struct mirror *mr);

static void io_fn(struct ev_io *io, uint32_t events)
{
	struct mirror *mr = io->arg;
	int rc;

	mr->in_service = 1;
	rc = iscsi_service(mr->iscsi, (int)events);
	mr->in_service = 0;
	if (rc < 0 && !mr->kill_pending) {
		log_limited(&rl_mirror, LOG_WARNING, "mirror: client %s: connection to %s: %s",
			    mr->name, mr->cfg.peer, iscsi_get_error(mr->iscsi));
		/* peer_down needs the list walk; do it through the common path */
		mr->kill_pending = 2;
	}
	update_io(mr);
}

static void destroy_context(struct mirror *mr)
{
	if (mr->io_fd >= 0) {
		ev_io_del(mr->loop, &mr->io);
		mr->io_fd = -1;
	}
	if (mr->iscsi) {
		struct iscsi_context *iscsi = mr->iscsi;

		mr->iscsi = NULL;
		iscsi_destroy_context(iscsi);	/* cancelled callbacks see a stale conn */
	}
	mr->kill_pending = 0;
	mr->ctl_started_ms = 0;
}

static void peer_down(struct mirror *mr, const char *why);

static void update_io(struct mirror *mr)
{
	int fd, ev;

	if (mr->kill_pending == 2) {
		peer_down(mr, "connection lost");
		return;
	}
	if (mr->kill_pending) {
		destroy_context(mr);
		return;
	}
	if (!mr->iscsi)
		return;
	fd = iscsi_get_fd(mr->iscsi);
	ev = iscsi_which_events(mr->iscsi);
	if (fd != mr->io_fd && mr->io_fd >= 0) {
		ev_io_del(mr->loop, &mr->io);
		mr->io_fd = -1;
	}
	if (fd < 0)
		return;
	if (mr->io_fd < 0) {
		if (ev_io_add(mr->loop, &mr->io, fd, (uint32_t)ev, io_fn, mr) == 0)
			mr->io_fd = fd;
	} else {
		ev_io_mod(mr->loop, &mr->io, (uint32_t)ev);
	}
}

static struct pcb *pcb_new(struct mirror *mr, struct mop *mop)
{
	struct pcb *p = malloc(sizeof(*p));

	if (p) {
		p->mr = mr;
		p->conn = mr->conn;
		p->mop = mop;
		p->out = NULL;
	}
	return p;
}

static void pcb_free(struct pcb *p)
{
	if (p) {
		free(p->out);
		free(p);
	}
}

/* The callback's common start: frees the task; false when the answer is moot. */
static int pcb_current(struct pcb *p, void *command_data)
{
	int current = p->mr->iscsi && p->conn == p->mr->conn;

	if (command_data)
		scsi_free_scsi_task(command_data);
	return current;
}

/* ---- the in-flight list and its waiters ---- */

static int ranges_overlap(uint64_t a, uint64_t alen, uint64_t b, uint64_t blen)
{
	return a < b + blen && b < a + alen;
}

static int overlaps_inflight(struct mirror *mr, uint64_t off, uint64_t len)
{
	for (struct mop *m = mr->inflight; m; m = m->next)
		if (m->kind != MOP_FLUSH && ranges_overlap(off, len, m->off, m->len))
			return 1;
	return 0;
}

static void list_add(struct mirror *mr, struct mop *m)
{
	m->prev = NULL;
	m->next = mr->inflight;
	if (mr->inflight)
		mr->inflight->prev = m;
	mr->inflight = m;
}

static void list_del(struct mirror *mr, struct mop *m)
{
	if (m->prev)
		m->prev->next = m->next;
	else
		mr->inflight = m->next;
	if (m->next)
		m->next->prev = m->prev;
}

static void final_free(struct mirror *mr)
{
	if (mr->state == MIRROR_IN_SYNC)	/* a clean close: the activity log is empty */
		mirror_meta_writeback(mr->meta, NULL, NULL);
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

/* Both sides answered (or the peer was given up): the caller gets its result. */
static void mop_maybe_done(struct mop *m)
{
	struct mirror *mr = m->mr;
	struct store_req *req = m->req;

	if (m->local_pending || m->peer_pending)
		return;
	list_del(mr, m);
	if (m->local_only)
		mr->local_only--;
	if (m->kind == MOP_COPY) {
		mr->copies--;
		if (m->result < 0) {
			mirror_meta_mark(mr->meta, m->off, m->len);
		} else {
			mr->resync_done++;
			mr->resync_bytes += m->len;
		}
		free(m->buf);
		free(m);
	} else {
		if (m->kind == MOP_WRITE && m->result < 0 && !m->local_only) {
			/* the peer may hold what our disk refused: copy ours there again */
			mirror_meta_mark(mr->meta, m->off, m->len);
			if (mr->state == MIRROR_IN_SYNC)
				set_state(mr, MIRROR_SYNCING);
		}
		free(m);
		req->done(req);
	}
	if (mr->closing) {
		maybe_free(mr);
		return;
	}
	run_waiters(mr);
	pump(mr);
}

/* ---- the peer goes away ---- */

/* From here on writes are recorded: our data moves on from the generation the peer holds.
 * Durable before any write the peer missed is acknowledged. */
static void leave_peer_gen(struct mirror *mr)
{
	struct mirror_meta *m = mr->meta;

	if (m->gen == m->peer_gen)
		mirror_meta_set_gen(m, mirror_meta_new_gen(), m->peer_gen, m->flags);
}

static void peer_down(struct mirror *mr, const char *why)
{
	struct mop *done = NULL;

	if (mr->state != MIRROR_DEGRADED || mr->iscsi)
		log_limited(&rl_mirror, LOG_WARNING, "mirror: client %s: peer %s %s: degraded, "
			    "writes recorded for resync", mr->name, mr->cfg.peer, why);
	mr->failures++;
	mr->conn++;		/* every answer still on its way is moot now */
	leave_peer_gen(mr);
	for (struct mop *m = mr->inflight; m; m = m->next) {
		if (!m->peer_pending)
			continue;
		m->peer_pending = 0;
		if (m->kind == MOP_COPY)
			m->result = -EIO;	/* re-marked when done */
		else if (m->kind == MOP_WRITE)
			mirror_meta_mark(mr->meta, m->off, m->len);
		if (!m->local_pending) {
			m->wnext = done;
			done = m;
		}
	}
	mirror_meta_sync(mr->meta);
	if (mr->in_service)
		mr->kill_pending = 1;
	else
		destroy_context(mr);
	mr->finishing = 0;
	mr->next_connect_ms = ev_now_ms() + RECONNECT_MS;
	set_state(mr, MIRROR_DEGRADED);
	while (done) {
		struct mop *m = done;

		done = m->wnext;
		mop_maybe_done(m);
	}
}

/* ---- data commands to the peer ---- */

static void data_cb(struct iscsi_context *iscsi, int status, void *command_data, void *priv)
{
	struct pcb *p = priv;
	struct mirror *mr = p->mr;
	struct mop *m = p->mop;
	char why[96];

	(void)iscsi;
	if (!pcb_current(p, command_data)) {
		pcb_free(p);
		return;
	}
	pcb_free(p);
	if (status != SCSI_STATUS_GOOD) {
		snprintf(why, sizeof(why), "answered status 0x%x", (unsigned)status);
		peer_down(mr, why);
		return;
	}
	m->peer_pending--;
	mop_maybe_done(m);
}

static int send_write(struct mirror *mr, struct mop *m, const struct iovec *iov, int iovcnt,
		      int fua)
{
	struct pcb *p = pcb_new(mr, m);
	struct scsi_task *t;

	if (!p)
		return -ENOMEM;
	t = iscsi_write16_iov_task(mr->iscsi, 0, m->off / STORE_BLOCK_SIZE, NULL,
				   (uint32_t)m->len, STORE_BLOCK_SIZE, 0, 0, fua, 0, 0, data_cb, p,
				   (struct scsi_iovec *)iov, iovcnt);
	if (!t) {
		pcb_free(p);
		return -EIO;
	}
	m->peer_pending++;
	return 0;
}

static int send_unmap(struct mirror *mr, struct mop *m)
{
	struct unmap_list list[UNMAP_DESC_MAX];
	uint64_t lba = m->off / STORE_BLOCK_SIZE, left = m->len / STORE_BLOCK_SIZE;

	while (left) {
		int n = 0;
		struct pcb *p;

		while (left && n < (int)UNMAP_DESC_MAX) {
			uint32_t num = left > UNMAP_DESC_BLOCKS ? UNMAP_DESC_BLOCKS : (uint32_t)left;

			list[n].lba = lba;
			list[n].num = num;
			n++;
			lba += num;
			left -= num;
		}
		p = pcb_new(mr, m);
		if (!p)
			return -ENOMEM;
		if (!iscsi_unmap_task(mr->iscsi, 0, 0, 0, list, n, data_cb, p)) {
			pcb_free(p);
			return -EIO;
		}
		m->peer_pending++;
	}
	return 0;
}

static int send_flush(struct mirror *mr, struct mop *m)
{
	struct pcb *p = pcb_new(mr, m);

	if (!p)
		return -ENOMEM;
	if (!iscsi_synchronizecache16_task(mr->iscsi, 0, 0, 0, 0, 0, data_cb, p)) {
		pcb_free(p);
		return -EIO;
	}
	m->peer_pending++;
	return 0;
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
	mop_maybe_done(m);
}

/* Starts m on both sides. Returns 0, or a negative errno when the local store would not take
 * it (m is then off the list and not started). */
static int mop_start(struct mirror *mr, struct mop *m)
{
	struct store_req *req = m->req;
	int rc, mirrored = connected(mr);

	m->started = 1;
	m->start_ms = ev_now_ms();
	list_add(mr, m);
	if (m->kind == MOP_WRITE) {
		if (mirrored) {
			mirror_meta_mark_active(mr->meta, m->off, m->len);
		} else {
			leave_peer_gen(mr);
			mirror_meta_mark(mr->meta, m->off, m->len);
			m->local_only = 1;
			mr->local_only++;
		}
	}
	if ((req->flags & STORE_FUA) || m->kind == MOP_FLUSH)
		mirror_meta_sync(mr->meta);	/* the record before the data it covers */
	m->local = *req;
	m->local.done = local_done;
	m->local.priv = m;
	m->local.next = NULL;
	m->local_pending = 1;
	rc = store_submit(mr->local, &m->local);
	if (rc < 0) {
		m->local_pending = 0;
		list_del(mr, m);
		if (m->local_only)
			mr->local_only--;
		return rc;
	}
	if (!mirrored)
		return 0;
	mr->mirrored++;
	if (m->kind == MOP_FLUSH)
		rc = send_flush(mr, m);
	else if (req->op == STORE_OP_UNMAP)
		rc = send_unmap(mr, m);
	else
		rc = send_write(mr, m, req->iov, req->iovcnt, !!(req->flags & STORE_FUA));
	if (rc < 0) {
		peer_down(mr, "refused a command (out of memory)");
		return 0;
	}
	update_io(mr);
	return 0;
}

static int waits(struct mirror *mr, struct mop *m)
{
	if (m->kind == MOP_FLUSH)
		return 0;
	if (overlaps_inflight(mr, m->off, m->len))
		return 1;
	for (struct mop *w = mr->wait_head; w && w != m; w = w->wnext)
		if (ranges_overlap(m->off, m->len, w->off, w->len))
			return 1;
	return 0;
}

static void run_waiters(struct mirror *mr)
{
	struct mop **pp = &mr->wait_head, *prev = NULL;

	while (*pp) {
		struct mop *m = *pp;

		if (waits(mr, m)) {
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
	if (waits(mr, m)) {
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

/* ---- resync ---- */

static void copy_read_done(struct store_req *lreq)
{
	struct mop *m = lreq->priv;
	struct mirror *mr = m->mr;

	m->local_pending = 0;
	mr->internal--;
	if (lreq->result < 0 || !connected(mr)) {
		if (lreq->result < 0)
			log_limited(&rl_mirror, LOG_ERR, "mirror: client %s: resync read at %llu: %s",
				    mr->name, (unsigned long long)m->off, strerror(-lreq->result));
		m->result = -EIO;
		mop_maybe_done(m);
		return;
	}
	m->iov.iov_base = m->buf;
	m->iov.iov_len = m->len;
	if (send_write(mr, m, &m->iov, 1, 0) < 0) {
		peer_down(mr, "refused a resync write (out of memory)");
		return;
	}
	update_io(mr);
}

static int start_copy(struct mirror *mr, uint64_t chunk)
{
	uint64_t off = chunk << MIRROR_CHUNK_SHIFT;
	struct mop *m = calloc(1, sizeof(*m));

	if (!m)
		return -ENOMEM;
	m->mr = mr;
	m->kind = MOP_COPY;
	m->chunk = chunk;
	m->off = off;
	m->len = mr->st.size - off < MIRROR_CHUNK ? mr->st.size - off : MIRROR_CHUNK;
	m->buf = malloc(m->len);
	if (!m->buf) {
		free(m);
		return -ENOMEM;
	}
	m->iov.iov_base = m->buf;
	m->iov.iov_len = m->len;
	m->local.op = STORE_OP_READ;
	m->local.offset = m->off;
	m->local.length = m->len;
	m->local.iov = &m->iov;
	m->local.iovcnt = 1;
	m->local.done = copy_read_done;
	m->local.priv = m;
	m->start_ms = ev_now_ms();
	mirror_meta_clear(mr->meta, chunk);
	list_add(mr, m);
	mr->copies++;
	mr->internal++;
	m->local_pending = 1;
	if (store_submit(mr->local, &m->local) < 0) {
		list_del(mr, m);
		mr->copies--;
		mr->internal--;
		mirror_meta_mark(mr->meta, m->off, m->len);
		free(m->buf);
		free(m);
		return -ENOMEM;
	}
	return 0;
}

static int chunk_busy(void *arg, uint64_t chunk);

static void finish_cb(struct iscsi_context *iscsi, int status, void *command_data, void *priv)
{
	struct pcb *p = priv;
	struct mirror *mr = p->mr;
	struct mirror_meta *meta = mr->meta;

	(void)iscsi;
	if (!pcb_current(p, command_data)) {
		pcb_free(p);
		return;
	}
	pcb_free(p);
	mr->finishing = 0;
	mr->ctl_started_ms = 0;
	if (status != SCSI_STATUS_GOOD) {
		peer_down(mr, "refused the end of the resync");
		return;
	}
	mirror_meta_set_gen(meta, meta->gen, meta->gen, 0);
	mirror_meta_writeback(meta, chunk_busy, mr);	/* the file agrees with the peer now */
	if (meta->nset) {	/* a write failed locally meanwhile: copy it too */
		pump(mr);
		return;
	}
	log_notice("mirror: client %s: in sync with %s (%llu chunks copied)", mr->name,
		   mr->cfg.peer, (unsigned long long)mr->resync_done);
	set_state(mr, MIRROR_IN_SYNC);
}

/* Tells the peer its copy equals ours: same generation, no recorded chunk. */
static void send_set_state(struct mirror *mr, uint64_t gen, uint64_t peer_gen, uint32_t flags,
			   iscsi_command_cb cb)
{
	struct mp_state s = { .gen = gen, .peer_gen = peer_gen, .flags = flags,
			      .size = mr->st.size, .nchunks = mr->meta->nchunks };
	struct scsi_task *t;
	struct iscsi_data data;
	uint8_t *buf;
	struct pcb *p;

	memcpy(s.fingerprint, mr->fp, MP_FINGERPRINT_LEN);
	t = calloc(1, sizeof(*t));
	buf = malloc(MP_STATE_LEN);
	p = pcb_new(mr, NULL);
	if (!t || !buf || !p)
		goto fail;
	mp_state_encode(&s, buf);
	mp_cdb(t->cdb, MP_SET_STATE, 0, MP_STATE_LEN);
	t->cdb_size = 16;
	t->xfer_dir = SCSI_XFER_WRITE;
	t->expxferlen = MP_STATE_LEN;
	data.data = buf;
	data.size = MP_STATE_LEN;
	p->out = buf;		/* libiscsi sends from it later */
	if (iscsi_scsi_command_async(mr->iscsi, 0, t, cb, &data, p) < 0) {
		p->out = NULL;
		goto fail;
	}
	mr->ctl_started_ms = ev_now_ms();
	update_io(mr);
	return;
fail:
	free(t);
	free(buf);
	pcb_free(p);
	peer_down(mr, "refused a state update (out of memory)");
}

static void pump(struct mirror *mr)
{
	struct mirror_meta *meta = mr->meta;
	uint64_t scanned = 0, now;

	if (mr->state != MIRROR_SYNCING || !connected(mr) || mr->finishing || mr->reset_wanted)
		return;
	now = ev_now_ms();
	if (mr->cfg.rate_bps) {
		mr->tokens += (double)(now - mr->tokens_ms) * (double)mr->cfg.rate_bps / 1000.0;
		if (mr->tokens > (double)mr->cfg.rate_bps / 4 + MIRROR_CHUNK)
			mr->tokens = (double)mr->cfg.rate_bps / 4 + MIRROR_CHUNK;
		mr->tokens_ms = now;
	}
	while (mr->copies < COPIES_MAX && meta->nset && scanned < meta->nchunks) {
		uint64_t c = mirror_meta_next(meta, mr->cursor);
		uint64_t off;

		if (c >= meta->nchunks) {
			scanned += meta->nchunks - mr->cursor;
			mr->cursor = 0;
			continue;
		}
		scanned += c - mr->cursor + 1;
		mr->cursor = c + 1;
		off = c << MIRROR_CHUNK_SHIFT;
		if (waits(mr, &(struct mop){ .kind = MOP_COPY, .off = off, .len = MIRROR_CHUNK }))
			continue;	/* a write holds it: later, from its completion */
		if (mr->cfg.rate_bps) {
			if (mr->tokens < MIRROR_CHUNK)
				return;	/* the tick refills */
			mr->tokens -= MIRROR_CHUNK;
		}
		if (start_copy(mr, c) < 0)
			return;
	}
	if (!meta->nset && !mr->copies && !mr->local_only) {
		mr->finishing = 1;
		send_set_state(mr, meta->gen, meta->gen, MP_SET_CLEAR_BITMAP, finish_cb);
	}
}

/* ---- connecting and the handshake ---- */

static void begin_resync(struct mirror *mr)
{
	mr->resync_total = mr->meta->nset;
	mr->resync_done = 0;
	mr->resync_bytes = 0;
	mr->resync_start_ms = ev_now_ms();
	mr->tokens = 0;
	mr->tokens_ms = mr->resync_start_ms;
	mr->cursor = 0;
	mr->ctl_started_ms = 0;
	if (mr->resync_total)
		log_notice("mirror: client %s: resync of %llu chunks (%llu MiB) to %s", mr->name,
			   (unsigned long long)mr->resync_total,
			   (unsigned long long)(mr->resync_total * MIRROR_CHUNK >> 20), mr->cfg.peer);
	set_state(mr, MIRROR_SYNCING);
	pump(mr);
}

static void inconsistent_cb(struct iscsi_context *iscsi, int status, void *command_data,
			    void *priv)
{
	struct pcb *p = priv;
	struct mirror *mr = p->mr;

	(void)iscsi;
	if (!pcb_current(p, command_data)) {
		pcb_free(p);
		return;
	}
	pcb_free(p);
	if (status != SCSI_STATUS_GOOD) {
		peer_down(mr, "refused to start a resync");
		return;
	}
	begin_resync(mr);
}

/* Every chunk our overlay holds must be copied: the replica was discarded or is new. */
static void mark_all_mapped(struct mirror *mr)
{
	uint64_t off = 0;

	while (off < mr->st.size) {
		uint64_t run = 0;
		int mapped = 0;

		if (mr->local->ops->lba_status(mr->local, off, &mapped, &run) < 0 || run == 0)
			run = mr->st.size - off, mapped = 1;
		if (mapped)
			mirror_meta_mark(mr->meta, off, run);
		off += run;
	}
}

/* The peer's copy is where ours was at peer_gen (plus its activity log, merged): copy what
 * we recorded. Its copy is marked inconsistent until the copy ends. */
static void start_sync(struct mirror *mr)
{
	if (mr->meta->nset == 0 && mr->local_only == 0) {
		begin_resync(mr);
		return;
	}
	send_set_state(mr, mr->peer.gen, mr->peer.peer_gen, MIRROR_INCONSISTENT, inconsistent_cb);
}

static void reset_cb(struct iscsi_context *iscsi, int status, void *command_data, void *priv)
{
	struct pcb *p = priv;
	struct mirror *mr = p->mr;

	(void)iscsi;
	if (!pcb_current(p, command_data)) {
		pcb_free(p);
		return;
	}
	pcb_free(p);
	if (status != SCSI_STATUS_GOOD) {
		peer_down(mr, "refused to discard its replica");
		return;
	}
	mr->full_sync = 0;
	mirror_meta_set_gen(mr->meta, mr->meta->gen, 0, 0);
	mark_all_mapped(mr);
	begin_resync(mr);
}

static int send_cdb(struct mirror *mr, enum mp_action action, uint64_t arg, uint32_t len,
		    int xfer_dir, iscsi_command_cb cb)
{
	struct scsi_task *t = calloc(1, sizeof(*t));
	struct pcb *p = pcb_new(mr, NULL);

	if (!t || !p) {
		free(t);
		pcb_free(p);
		return -ENOMEM;
	}
	mp_cdb(t->cdb, action, arg, len);
	t->cdb_size = 16;
	t->xfer_dir = xfer_dir;
	t->expxferlen = xfer_dir == SCSI_XFER_NONE ? 0 : (int)len;
	if (iscsi_scsi_command_async(mr->iscsi, 0, t, cb, NULL, p) < 0) {
		free(t);
		pcb_free(p);
		return -EIO;
	}
	mr->ctl_started_ms = ev_now_ms();
	update_io(mr);
	return 0;
}

static void bitmap_cb(struct iscsi_context *iscsi, int status, void *command_data, void *priv);

static void fetch_bitmap(struct mirror *mr)
{
	uint64_t words = (mr->meta->nchunks + 63) / 64, left = words - mr->bitmap_word;
	uint32_t len = left * 8 > MP_BITMAP_MAX ? MP_BITMAP_MAX : (uint32_t)(left * 8);

	if (left == 0) {
		start_sync(mr);
		return;
	}
	if (send_cdb(mr, MP_GET_BITMAP, mr->bitmap_word, len, SCSI_XFER_READ, bitmap_cb) < 0)
		peer_down(mr, "refused a bitmap request (out of memory)");
}

static void bitmap_cb(struct iscsi_context *iscsi, int status, void *command_data, void *priv)
{
	struct pcb *p = priv;
	struct mirror *mr = p->mr;
	struct scsi_task *t = command_data;

	(void)iscsi;
	if (!p->mr->iscsi || p->conn != p->mr->conn) {
		pcb_current(p, command_data);
		pcb_free(p);
		return;
	}
	pcb_free(p);
	if (status != SCSI_STATUS_GOOD || !t || t->datain.size <= 0 || t->datain.size % 8) {
		if (t)
			scsi_free_scsi_task(t);
		peer_down(mr, "sent no usable bitmap");
		return;
	}
	/* the peer's activity log: chunks it may have written that we do not have */
	mirror_meta_merge(mr->meta, mr->bitmap_word, t->datain.data, (size_t)t->datain.size / 8);
	mr->bitmap_word += (uint64_t)t->datain.size / 8;
	scsi_free_scsi_task(t);
	fetch_bitmap(mr);
}

static void state_cb(struct iscsi_context *iscsi, int status, void *command_data, void *priv)
{
	struct pcb *p = priv;
	struct mirror *mr = p->mr;
	struct mirror_meta *meta = mr->meta;
	struct scsi_task *t = command_data;
	int rc = -EINVAL;

	(void)iscsi;
	if (!mr->iscsi || p->conn != mr->conn) {
		pcb_current(p, command_data);
		pcb_free(p);
		return;
	}
	pcb_free(p);
	if (status == SCSI_STATUS_GOOD && t)
		rc = mp_state_decode(t->datain.data, t->datain.size > 0 ? (size_t)t->datain.size : 0,
				     &mr->peer);
	if (t)
		scsi_free_scsi_task(t);
	if (rc < 0) {
		peer_down(mr, "sent no usable state (is it a vdiskd replica listener?)");
		return;
	}
	mr->ctl_started_ms = 0;
	if (mr->peer.size != mr->st.size || mr->peer.nchunks != meta->nchunks ||
	    memcmp(mr->peer.fingerprint, mr->fp, MP_FINGERPRINT_LEN) != 0) {
		log_err("mirror: client %s: the peer's base image differs from ours (another "
			"image or version): not mirrored; run vdiskctl image sync", mr->name);
		peer_down(mr, "has another base image");
		mr->next_connect_ms = ev_now_ms() + BASE_RETRY_MS;
		set_state(mr, MIRROR_BASE_DIFFERS);
		return;
	}
	if (mr->full_sync || mr->peer.gen == 0 || meta->peer_gen == 0) {
		/* a new replica, a discarded one, or a split brain settled for us */
		log_notice("mirror: client %s: full resync to %s", mr->name, mr->cfg.peer);
		if (send_cdb(mr, MP_RESET, 0, 0, SCSI_XFER_NONE, reset_cb) < 0)
			peer_down(mr, "refused a reset (out of memory)");
		return;
	}
	if (mr->peer.gen == meta->gen || mr->peer.gen == meta->peer_gen) {
		mr->bitmap_word = 0;
		if (mr->peer.nset)
			fetch_bitmap(mr);
		else
			start_sync(mr);
		return;
	}
	/* both copies moved on from where they last agreed */
	log_err("mirror: client %s: SPLIT BRAIN: this server and %s both took writes while "
		"apart (ours %016llx, theirs %016llx, last common %016llx); nothing is copied "
		"until an admin runs: vdiskctl mirror resolve %s --keep NODE", mr->name,
		mr->cfg.peer, (unsigned long long)meta->gen, (unsigned long long)mr->peer.gen,
		(unsigned long long)meta->peer_gen, mr->name);
	mr->conn++;
	if (mr->in_service)
		mr->kill_pending = 1;
	else
		destroy_context(mr);
	set_state(mr, MIRROR_SPLIT_BRAIN);
}

static void connect_cb(struct iscsi_context *iscsi, int status, void *command_data, void *priv)
{
	struct pcb *p = priv;
	struct mirror *mr = p->mr;
	char why[300];

	(void)command_data;
	if (!mr->iscsi || p->conn != mr->conn) {
		pcb_free(p);
		return;
	}
	pcb_free(p);
	if (status != 0) {
		snprintf(why, sizeof(why), "refused the replication login: %s",
			 iscsi_get_error(iscsi));
		peer_down(mr, why);
		return;
	}
	if (send_cdb(mr, MP_GET_STATE, 0, MP_STATE_LEN, SCSI_XFER_READ, state_cb) < 0)
		peer_down(mr, "refused a state request (out of memory)");
}

static void connect_peer(struct mirror *mr)
{
	struct iscsi_context *iscsi;
	struct pcb *p;

	mr->conn++;
	iscsi = iscsi_create_context(mr->initiator);
	if (!iscsi) {
		mr->next_connect_ms = ev_now_ms() + RECONNECT_MS;
		return;
	}
	iscsi_set_targetname(iscsi, mr->cfg.target);
	iscsi_set_session_type(iscsi, ISCSI_SESSION_NORMAL);
	iscsi_set_header_digest(iscsi, ISCSI_HEADER_DIGEST_NONE);
	iscsi_set_noautoreconnect(iscsi, 1);
	iscsi_set_initiator_username_pwd(iscsi, mr->cfg.chap_user, mr->cfg.chap_secret);
	mr->iscsi = iscsi;
	p = pcb_new(mr, NULL);
	if (!p || iscsi_full_connect_async(iscsi, mr->cfg.peer, 0, connect_cb, p) < 0) {
		pcb_free(p);
		destroy_context(mr);
		mr->next_connect_ms = ev_now_ms() + RECONNECT_MS;
		return;
	}
	mr->ctl_started_ms = ev_now_ms();
	set_state(mr, MIRROR_CONNECTING);
	update_io(mr);
}

/* ---- the tick: time limits, reconnects, the resync's rate, the activity log ---- */

static int chunk_busy(void *arg, uint64_t chunk)
{
	struct mirror *mr = arg;

	return overlaps_inflight(mr, chunk << MIRROR_CHUNK_SHIFT, MIRROR_CHUNK);
}

static void tick_fn(struct ev_timer *t)
{
	struct mirror *mr = t->arg;
	uint64_t now = ev_now_ms();
	char why[64];

	snprintf(why, sizeof(why), "did not answer within %u ms", mr->cfg.timeout_ms);
	if (mr->iscsi && mr->ctl_started_ms && now - mr->ctl_started_ms > mr->cfg.timeout_ms) {
		peer_down(mr, why);
	} else if (mr->iscsi) {
		for (struct mop *m = mr->inflight; m; m = m->next) {
			if (m->peer_pending && now - m->start_ms > mr->cfg.timeout_ms) {
				peer_down(mr, why);
				break;
			}
		}
	}
	if (!mr->iscsi && mr->state != MIRROR_SPLIT_BRAIN && now >= mr->next_connect_ms)
		connect_peer(mr);
	if (now - mr->last_writeback_ms >= WRITEBACK_MS) {
		mr->last_writeback_ms = now;
		mirror_meta_writeback(mr->meta, chunk_busy, mr);
	}
	pump(mr);
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
		mr->reset_wanted = 1;	/* resync copies hold it: start no more */
		return -EBUSY;
	}
	mr->reset_wanted = 0;
	rc = mr->local->ops->reset(mr->local);
	if (rc < 0)
		return rc;
	mirror_meta_clear_all(mr->meta);
	mirror_meta_writeback(mr->meta, NULL, NULL);
	rc = mirror_meta_set_gen(mr->meta, mirror_meta_new_gen(), 0, 0);
	if (mr->iscsi && mr->state != MIRROR_SPLIT_BRAIN) {
		mr->conn++;
		destroy_context(mr);
		connect_peer(mr);	/* the handshake discards the replica now */
	}
	return rc;
}

static void mr_close(struct store *st)
{
	struct mirror *mr = (struct mirror *)st;

	struct mop *done = NULL;

	mr->closing = 1;
	ev_timer_cancel(mr->loop, &mr->tick);
	mr->conn++;
	destroy_context(mr);	/* cancels the resync copies' peer writes */
	if (!mr->inflight) {
		final_free(mr);
		return;
	}
	/* only resync copies can be in flight (a store closes with no request of its user) */
	for (struct mop *m = mr->inflight; m; m = m->next) {
		m->peer_pending = 0;
		m->result = -ECANCELED;
		if (!m->local_pending) {
			m->wnext = done;
			done = m;
		}
	}
	/* the last completion frees mr (here, or when a copy's read comes back) */
	while (done) {
		struct mop *m = done;

		done = m->wnext;
		mop_maybe_done(m);
	}
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

int store_mirror_open(struct evloop *loop, struct store *local, struct mirror_meta *meta,
		      const struct mirror_config *cfg, const char *initiator, const char *name,
		      const uint8_t fingerprint[MP_FINGERPRINT_LEN],
		      void (*on_state)(void *arg), void *arg, struct store **out)
{
	struct mirror *mr = calloc(1, sizeof(*mr));

	if (!mr)
		return -ENOMEM;
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
	connect_peer(mr);
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
	out->failures = mr->failures;
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
	set_state(mr, MIRROR_DEGRADED);
	return 0;
}
