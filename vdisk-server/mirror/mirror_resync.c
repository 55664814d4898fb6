/* The mirror's handshake and resync: logging in to the peer's replica, the handshake of
 * generations that decides what to copy (mirror_decide.c), the resync copies, and the flush
 * that lets activity bits go; see mirror_internal.h. Commands go through the session
 * (mirror_peer.c); a callback whose connection is no longer the current one only frees its
 * task. */
#include <errno.h>
#include <iscsi/iscsi.h>
#include <iscsi/scsi-lowlevel.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/log.h"
#include "vdisk-server/mirror/mirror_decide.h"
#include "vdisk-server/mirror/mirror_internal.h"

static struct log_ratelimit rl_sync = LOG_RATELIMIT_INIT(20);

/* ---- resync ---- */

static void copy_read_done(struct store_req *lreq)
{
	struct mop *m = lreq->priv;
	struct mirror *mr = m->mr;

	m->local_pending = 0;
	mr->internal--;
	if (lreq->result < 0 || !mr_connected(mr)) {
		if (lreq->result < 0)
			log_limited(&rl_sync, LOG_ERR, "mirror: client %s: resync read at %llu: %s",
				    mr->name, (unsigned long long)m->off, strerror(-lreq->result));
		m->result = -EIO;
		mr_mop_done(m);
		return;
	}
	m->iov.iov_base = m->buf;
	m->iov.iov_len = m->len;
	if (mr_send_write(mr, m, &m->iov, 1, 0) < 0) {
		m->result = -EIO;	/* not copied: its chunk is recorded again when done */
		mr_peer_down(mr, "refused a resync write (out of memory)");
		return;
	}
	mr_update_io(mr);
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
	mr_list_add(mr, m);
	mr->copies++;
	mr->internal++;
	m->local_pending = 1;
	if (store_submit(mr->local, &m->local) < 0) {
		mr_list_del(mr, m);
		mr->copies--;
		mr->internal--;
		mirror_meta_mark(mr->meta, m->off, m->len);
		free(m->buf);
		free(m);
		return -ENOMEM;
	}
	return 0;
}

/* The answer to a control step: frees its task and pcb. The mirror when the answer is for
 * the current connection and GOOD; NULL otherwise, the peer taken down for a refusal. */
static struct mirror *step_done(struct pcb *p, int status, void *command_data,
				const char *refused)
{
	struct mirror *mr = p->mr;
	int current = mr_pcb_current(p, command_data);

	mr_pcb_free(p);
	if (!current)
		return NULL;
	if (status != SCSI_STATUS_GOOD) {
		mr_peer_down(mr, refused);
		return NULL;
	}
	return mr;
}

static void finish_cb(struct iscsi_context *iscsi, int status, void *command_data, void *priv)
{
	struct mirror *mr = step_done(priv, status, command_data, "refused the end of the resync");
	struct mirror_meta *meta;

	(void)iscsi;
	if (!mr)
		return;
	if (mr->cfg.fault && *mr->cfg.fault == MIRROR_FAULT_CRASH_AT_ANSWER) {
		log_notice("mirror: client %s: test fault: stopping dead at the answer to the "
			   "resync's last step", mr->name);
		_exit(70);	/* a power cut here: nothing more reaches the disk */
	}
	meta = mr->meta;
	mr->finishing = 0;
	mr->ctl_started_ms = 0;
	/* the bits the finishing flush covered; those of writes after it stay until the next
	 * periodic flush */
	mirror_meta_clear_snapshot(meta, mr_chunk_busy, mr);
	if (meta->nset) {	/* a write failed locally meanwhile: copy it too */
		mr_pump(mr);
		return;
	}
	log_notice("mirror: client %s: in sync with %s (%llu chunks copied)", mr->name,
		   mr->cfg.peer, (unsigned long long)mr->resync_done);
	mr_set_state(mr, MIRROR_IN_SYNC);
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
	p = mr_pcb_new(mr, NULL);
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
	p->task = t;
	if (iscsi_scsi_command_async(mr->iscsi, 0, t, cb, &data, p) < 0) {
		p->out = NULL;
		p->task = NULL;
		goto fail;
	}
	mr->ctl_started_ms = ev_now_ms();
	mr_update_io(mr);
	return;
fail:
	if (t)
		scsi_free_scsi_task(t);
	free(buf);
	mr_pcb_free(p);
	mr_peer_down(mr, "refused a state update (out of memory)");
}

/* SYNCHRONIZE CACHE to the peer, cb on its answer (control steps: the time limit is
 * ctl_started_ms's). */
static void send_sync_then(struct mirror *mr, iscsi_command_cb cb)
{
	struct pcb *p = mr_pcb_new(mr, NULL);

	if (p)
		p->task = iscsi_synchronizecache16_task(mr->iscsi, 0, 0, 0, 0, 0, cb, p);
	if (!p || !p->task) {
		mr_pcb_free(p);
		mr_peer_down(mr, "refused a flush (out of memory)");
		return;
	}
	mr->ctl_started_ms = ev_now_ms();
	mr_update_io(mr);
}

static void finish_flush_cb(struct iscsi_context *iscsi, int status, void *command_data,
			    void *priv)
{
	struct mirror *mr = step_done(priv, status, command_data, "could not flush the resync");

	(void)iscsi;
	if (!mr)
		return;
	/* The peer may take our generation with the next step whether or not its answer comes
	 * back: ours counts it as the peer's from now, durably, so that a write we make apart
	 * from here on (also after a restart) gets a generation the peer cannot hold. If the
	 * peer does not take it, its copy stays marked inconsistent with its older generation,
	 * which the next handshake answers with a full resync (state_cb). */
	if (mirror_meta_set_gen(mr->meta, mr->meta->gen, mr->meta->gen, 0) < 0) {
		log_err("mirror: client %s: cannot write its state file: resync not finished",
			mr->name);
		mr_peer_down(mr, "not told (our state file failed)");
		return;
	}
	if (mr->cfg.fault && *mr->cfg.fault == MIRROR_FAULT_LOSE_REQUEST) {
		*mr->cfg.fault = 0;
		log_notice("mirror: client %s: test fault: the resync's last step is lost on the "
			   "way", mr->name);
		mr_peer_down(mr, "test fault");
		return;
	}
	send_set_state(mr, mr->meta->gen, mr->meta->gen, MP_SET_CLEAR_BITMAP, finish_cb);
}

static void flush_cb(struct iscsi_context *iscsi, int status, void *command_data, void *priv)
{
	struct mirror *mr = step_done(priv, status, command_data, "could not flush");

	(void)iscsi;
	if (!mr)
		return;
	mr->flushing = 0;
	mr->ctl_started_ms = 0;
	mirror_meta_clear_snapshot(mr->meta, mr_chunk_busy, mr);
	mr_pump(mr);	/* a resync that waited for this flush may finish now */
}

void mr_flush_peer(struct mirror *mr)
{
	if (mr->flushing || mr->finishing || mr->ctl_started_ms)
		return;
	if (!mirror_meta_snapshot(mr->meta, mr_chunk_busy, mr))
		return;		/* nothing a flush would let us clear */
	mr->flushing = 1;
	send_sync_then(mr, flush_cb);
}

void mr_pump(struct mirror *mr)
{
	struct mirror_meta *meta = mr->meta;
	uint64_t scanned = 0, now;

	now = ev_now_ms();
	/* a reset waits for the copies; a client that never asks again releases them */
	if (mr->reset_wanted && now - mr->reset_wanted_ms > RESET_WAIT_MS)
		mr->reset_wanted = 0;
	if (mr->state != MIRROR_SYNCING || !mr_connected(mr) || mr->finishing || mr->reset_wanted)
		return;
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
		if (mr_waits(mr, &(struct mop){ .kind = MOP_COPY, .off = off, .len = MIRROR_CHUNK }))
			continue;	/* a write holds it: later, from its completion */
		if (mr->cfg.rate_bps) {
			if (mr->tokens < MIRROR_CHUNK)
				return;	/* the tick refills */
			mr->tokens -= MIRROR_CHUNK;
		}
		if (start_copy(mr, c) < 0)
			return;
	}
	/* after a periodic flush under way: both note what their completion may clear */
	if (!meta->nset && !mr->copies && !mr->local_only && !mr->flushing) {
		mr->finishing = 1;
		/* the copies durable on the peer first, then its copy may say it equals ours */
		mirror_meta_snapshot(meta, mr_chunk_busy, mr);
		send_sync_then(mr, finish_flush_cb);
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
	mr_set_state(mr, MIRROR_SYNCING);
	mr_pump(mr);
}

static void inconsistent_cb(struct iscsi_context *iscsi, int status, void *command_data,
			    void *priv)
{
	struct mirror *mr = step_done(priv, status, command_data, "refused to start a resync");

	(void)iscsi;
	if (mr)
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
	struct mirror *mr = step_done(priv, status, command_data, "refused to discard its replica");

	(void)iscsi;
	if (!mr)
		return;
	mr->full_sync = 0;
	mirror_meta_set_gen(mr->meta, mr->meta->gen, 0, 0);
	mark_all_mapped(mr);
	begin_resync(mr);
}

static int send_cdb(struct mirror *mr, enum mp_action action, uint64_t arg, uint32_t len,
		    int xfer_dir, iscsi_command_cb cb)
{
	struct scsi_task *t = calloc(1, sizeof(*t));
	struct pcb *p = mr_pcb_new(mr, NULL);

	if (!t || !p) {
		free(t);
		mr_pcb_free(p);
		return -ENOMEM;
	}
	mp_cdb(t->cdb, action, arg, len);
	t->cdb_size = 16;
	t->xfer_dir = xfer_dir;
	t->expxferlen = xfer_dir == SCSI_XFER_NONE ? 0 : (int)len;
	p->task = t;
	if (iscsi_scsi_command_async(mr->iscsi, 0, t, cb, NULL, p) < 0) {
		scsi_free_scsi_task(t);	/* also what libiscsi may have hung on it */
		p->task = NULL;
		mr_pcb_free(p);
		return -EIO;
	}
	mr->ctl_started_ms = ev_now_ms();
	mr_update_io(mr);
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
		mr_peer_down(mr, "refused a bitmap request (out of memory)");
}

static void bitmap_cb(struct iscsi_context *iscsi, int status, void *command_data, void *priv)
{
	struct pcb *p = priv;
	struct mirror *mr = p->mr;
	struct scsi_task *t = command_data;

	(void)iscsi;
	if (!p->mr->iscsi || p->conn != p->mr->conn) {
		mr_pcb_current(p, command_data);
		mr_pcb_free(p);
		return;
	}
	mr_pcb_free(p);
	/* no more than asked for: words past what we requested would run the count over */
	if (status != SCSI_STATUS_GOOD || !t || t->datain.size <= 0 || t->datain.size % 8 ||
	    (uint64_t)t->datain.size / 8 > (mr->meta->nchunks + 63) / 64 - mr->bitmap_word) {
		if (t)
			scsi_free_scsi_task(t);
		mr_peer_down(mr, "sent no usable bitmap");
		return;
	}
	/* the peer's activity log: chunks it may have written that we do not have */
	mirror_meta_merge(mr->meta, mr->bitmap_word, t->datain.data, (size_t)t->datain.size / 8);
	mr->bitmap_word += (uint64_t)t->datain.size / 8;
	scsi_free_scsi_task(t);
	fetch_bitmap(mr);
}

static void base_differs_cb(struct iscsi_context *iscsi, int status, void *command_data,
			    void *priv)
{
	struct pcb *p = priv;
	struct mirror *mr = p->mr;
	int current = mr_pcb_current(p, command_data);

	(void)iscsi, (void)status;
	mr_pcb_free(p);
	if (!current)
		return;
	mr_peer_down(mr, "has another base image");
	mr->next_connect_ms = ev_now_ms() + BASE_RETRY_MS;
	mr_set_state(mr, MIRROR_BASE_DIFFERS);
}

/* Nothing is copied either way until an admin chooses (vdiskctl mirror resolve). */
static void split_brain(struct mirror *mr, const char *why)
{
	struct mirror_meta *meta = mr->meta;

	log_err("mirror: client %s: SPLIT BRAIN: this server and %s %s (ours %016llx, theirs "
		"%016llx, last common %016llx); nothing is copied until an admin runs: vdiskctl "
		"mirror resolve %s --keep NODE", mr->name, mr->cfg.peer, why,
		(unsigned long long)meta->gen, (unsigned long long)mr->peer.gen,
		(unsigned long long)meta->peer_gen, mr->name);
	mr->conn++;
	if (mr->in_service)
		mr->kill_pending = 1;
	else
		mr_destroy_context(mr);
	mr_set_state(mr, MIRROR_SPLIT_BRAIN);
}

static void state_cb(struct iscsi_context *iscsi, int status, void *command_data, void *priv)
{
	struct pcb *p = priv;
	struct mirror *mr = p->mr;
	struct mirror_meta *meta = mr->meta;
	struct scsi_task *t = command_data;
	struct mirror_decide_in in;
	enum mirror_verdict verdict;
	int rc = -EINVAL;

	(void)iscsi;
	if (!mr->iscsi || p->conn != mr->conn) {
		mr_pcb_current(p, command_data);
		mr_pcb_free(p);
		return;
	}
	mr_pcb_free(p);
	if (status == SCSI_STATUS_GOOD && t)
		rc = mp_state_decode(t->datain.data, t->datain.size > 0 ? (size_t)t->datain.size : 0,
				     &mr->peer);
	if (t)
		scsi_free_scsi_task(t);
	if (rc < 0) {
		mr_peer_down(mr, "sent no usable state (is it a vdiskd replica listener?)");
		return;
	}
	mr->ctl_started_ms = 0;
	if (mr->cfg.peer_up)
		*mr->cfg.peer_up = 1;
	in.ours = (struct mirror_side){ meta->gen, meta->peer_gen, meta->flags };
	in.peer = mr->peer;
	in.base_same = mr->peer.size == mr->st.size && mr->peer.nchunks == meta->nchunks &&
		       memcmp(mr->peer.fingerprint, mr->fp, MP_FINGERPRINT_LEN) == 0;
	in.full_sync = mr->full_sync;
	verdict = mirror_decide(&in);
	log_debug("mirror: client %s: handshake with %s: gen %016llx/%016llx, peer's %016llx/%016llx: "
		  "%s", mr->name, mr->cfg.peer, (unsigned long long)in.ours.gen,
		  (unsigned long long)in.ours.peer_gen, (unsigned long long)in.peer.gen,
		  (unsigned long long)in.peer.peer_gen, mirror_verdict_name(verdict));
	switch (verdict) {
	case MV_BASE_DIFFERS:
		log_err("mirror: client %s: the peer's base image differs from ours (another "
			"image or version): not mirrored; run vdiskctl image sync", mr->name);
		/* the replica sees our fingerprint, refuses it and marks itself unusable, so
		 * it is never served as this client's disk after a takeover */
		send_set_state(mr, 0, 0, 0, base_differs_cb);
		return;
	case MV_SPLIT_UNSYNCED:
		split_brain(mr, "both hold a copy, ours made here without the peer's");
		return;
	case MV_FULL_RESYNC:
		log_notice("mirror: client %s: full resync to %s", mr->name, mr->cfg.peer);
		break;
	case MV_FULL_INCONSISTENT:
		log_notice("mirror: client %s: the copy on %s is an unfinished resync of another "
			   "generation: full resync", mr->name, mr->cfg.peer);
		break;
	case MV_FETCH_BITMAP:
		mr->bitmap_word = 0;
		fetch_bitmap(mr);
		return;
	case MV_RESYNC:
		mr->bitmap_word = 0;
		start_sync(mr);
		return;
	case MV_SPLIT_BRAIN:
		split_brain(mr, "both took writes while apart");
		return;
	}
	if (send_cdb(mr, MP_RESET, 0, 0, SCSI_XFER_NONE, reset_cb) < 0)
		mr_peer_down(mr, "refused a reset (out of memory)");
}

static void connect_cb(struct iscsi_context *iscsi, int status, void *command_data, void *priv)
{
	struct pcb *p = priv;
	struct mirror *mr = p->mr;
	char why[300];

	(void)command_data;
	if (!mr->iscsi || p->conn != mr->conn)
		return;
	mr->connect_started_ms = 0;
	if (status != 0) {
		snprintf(why, sizeof(why), "refused the replication login: %s",
			 iscsi_get_error(iscsi));
		mr_peer_down(mr, why);
		return;
	}
	mr_handshake(mr);
}

void mr_handshake(struct mirror *mr)
{
	if (send_cdb(mr, MP_GET_STATE, 0, MP_STATE_LEN, SCSI_XFER_READ, state_cb) < 0)
		mr_peer_down(mr, "refused a state request (out of memory)");
}

/* A connection that fails at once (no route on a dead HA link, say) never reaches the
 * tick's time limits: writes held for the handshake would wait for good. */
static void connect_failed(struct mirror *mr, const char *why)
{
	if (mr->state == MIRROR_CONNECTING)
		mr_peer_down(mr, why);	/* held writes go on locally, recorded */
	else
		mr->next_connect_ms = ev_now_ms() + RECONNECT_MS;
}

void mr_connect(struct mirror *mr)
{
	struct iscsi_context *iscsi;

	mr->conn++;
	iscsi = iscsi_create_context(mr->initiator);
	if (!iscsi) {
		connect_failed(mr, "cannot start a connection (out of memory)");
		return;
	}
	iscsi_set_targetname(iscsi, mr->cfg.target);
	iscsi_set_session_type(iscsi, ISCSI_SESSION_NORMAL);
	iscsi_set_header_digest(iscsi, ISCSI_HEADER_DIGEST_NONE);
	iscsi_set_noautoreconnect(iscsi, 1);
	/* a dead peer fails the TCP connect in about 3 s (SYN, one retry) */
	iscsi_set_tcp_syncnt(iscsi, 1);
	iscsi_set_initiator_username_pwd(iscsi, mr->cfg.chap_user, mr->cfg.chap_secret);
	mr->iscsi = iscsi;
	mr->login.mr = mr;
	mr->login.conn = mr->conn;
	mr->login.mop = NULL;
	mr->login.out = NULL;
	if (iscsi_full_connect_async(iscsi, mr->cfg.peer, 0, connect_cb, &mr->login) < 0) {
		mr_destroy_context(mr);
		connect_failed(mr, "cannot be reached");
		return;
	}
	mr->connect_started_ms = ev_now_ms();
	mr_set_state(mr, MIRROR_CONNECTING);
	mr_update_io(mr);
}
