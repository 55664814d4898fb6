/* The replica side of the replication protocol; see replica_lu.h and mirror_proto.h. Every
 * step is a small synchronous file operation on the state file, done on the loop thread. */
#include "vdisk-server/scsi/replica_lu.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "common/log.h"
#include "common/wire.h"

static uint64_t cdb_arg(const uint8_t *cdb)
{
	return get_be64(cdb + 2);
}

static uint32_t cdb_len(const uint8_t *cdb)
{
	return get_be32(cdb + 10);
}

static void get_state(struct scsi_task *t, struct replica *r)
{
	struct mp_state s = {
		.gen = r->meta->gen, .peer_gen = r->meta->peer_gen, .flags = r->meta->flags,
		.size = r->meta->size, .nchunks = r->meta->nchunks, .nset = r->meta->nset,
	};

	memcpy(s.fingerprint, r->fingerprint, MP_FINGERPRINT_LEN);
	if (scsi_alloc_in(t, MP_STATE_LEN) < 0)
		return;
	mp_state_encode(&s, t->in);
	scsi_in_truncate(t, cdb_len(t->cdb));
}

static void get_bitmap(struct scsi_task *t, struct replica *r)
{
	uint64_t first = cdb_arg(t->cdb), words = (r->meta->nchunks + 63) / 64;
	uint32_t len = cdb_len(t->cdb);

	if (len % 8 || len > MP_BITMAP_MAX || first > words) {
		scsi_sense(t, SENSE_ILLEGAL_REQUEST, ASC_INVALID_FIELD_CDB, 0);
		return;
	}
	if (len / 8 > words - first)
		len = (uint32_t)((words - first) * 8);
	if (scsi_alloc_in(t, len) < 0)
		return;
	for (uint32_t i = 0; i < len / 8; i++) {
		uint64_t le = htole64(r->meta->bits[first + i]);

		memcpy(t->in + i * 8, &le, 8);
	}
}

static void set_state(struct scsi_task *t, struct replica *r)
{
	struct mp_state s;
	int rc;

	t->out_want = cdb_len(t->cdb);
	if (mp_state_decode(t->out, t->out_len, &s) < 0 || t->out_want != MP_STATE_LEN) {
		scsi_sense(t, SENSE_ILLEGAL_REQUEST, ASC_INVALID_FIELD_PARAM, 0);
		return;
	}
	if (memcmp(s.fingerprint, r->fingerprint, MP_FINGERPRINT_LEN) != 0 ||
	    s.size != r->meta->size) {
		/* a replica over another base would present another disk after a takeover */
		log_err("mirror: client %s: the peer's base image differs from ours: refusing to "
			"be its replica (vdiskctl image sync makes them equal)", r->name);
		/* whatever this copy held, it is not the active's disk: never serve it */
		mirror_meta_set_gen(r->meta, 0, 0, MIRROR_INCONSISTENT);
		scsi_sense(t, SENSE_ILLEGAL_REQUEST, ASC_INVALID_FIELD_PARAM, 0);
		return;
	}
	if (s.flags & MP_SET_CLEAR_BITMAP) {
		mirror_meta_clear_all(r->meta);
		mirror_meta_writeback(r->meta, NULL, NULL);
	}
	rc = mirror_meta_set_gen(r->meta, s.gen, s.peer_gen, s.flags & MIRROR_INCONSISTENT);
	if (rc < 0) {
		log_err("mirror: client %s: cannot save the replica's state: %s", r->name,
			strerror(-rc));
		scsi_sense(t, SENSE_HARDWARE_ERROR, 0x03, 0);	/* write fault */
	}
}

static void reset(struct scsi_task *t, struct replica *r)
{
	/* Inconsistent first, durably: a stop before the overlay is emptied must not leave a
	 * copy that a takeover would serve (the source retries until the reset is done). */
	int rc = mirror_meta_set_gen(r->meta, 0, 0, MIRROR_INCONSISTENT);

	if (rc == 0)
		rc = r->st->ops->reset(r->st);
	if (rc == -EBUSY) {
		t->status = SAM_STAT_BUSY;
		return;
	}
	if (rc == 0) {
		mirror_meta_clear_all(r->meta);
		mirror_meta_writeback(r->meta, NULL, NULL);
	}
	if (rc < 0) {
		log_err("mirror: client %s: cannot discard the replica: %s", r->name, strerror(-rc));
		scsi_sense(t, SENSE_HARDWARE_ERROR, 0x03, 0);
		return;
	}
	log_notice("mirror: client %s: replica discarded (the source's overlay was reset)",
		   r->name);
}

/* ---- WRITE BATCH: every record a store request of its own, the task done with the last ---- */

struct batch {
	struct scsi_task *t;
	unsigned pending;
	int result;
	struct store_req reqs[MP_BATCH_MAX];
	struct iovec iov[MP_BATCH_MAX];
};

static void batch_end(struct batch *b)
{
	struct scsi_task *t = b->t;

	if (b->result < 0)
		scsi_fail_errno(t, b->result, 1);
	free(b);
	scsi_finish(t);
}

static void batch_rec_done(struct store_req *req)
{
	struct batch *b = req->priv;
	struct scsi_lu *lu = b->t->lu;

	if (req->result < 0 && b->result == 0)
		b->result = req->result;
	if (--b->pending == 0)
		batch_end(b);
	scsi_lu_io_done(lu);
}

static void write_batch(struct scsi_task *t)
{
	struct mp_batch_rec recs[MP_BATCH_MAX];
	struct scsi_lu *lu = t->lu;
	uint64_t count = cdb_arg(t->cdb);
	const uint8_t *data;
	struct batch *b;

	t->out_want = cdb_len(t->cdb);
	if (t->out_want != t->out_len ||
	    mp_batch_parse(t->out, t->out_len, count, lu->nblocks, recs) < 0) {
		scsi_sense(t, SENSE_ILLEGAL_REQUEST, ASC_INVALID_FIELD_PARAM, 0);
		scsi_finish(t);
		return;
	}
	if (lu->sanitizing)
		scsi_sense_sanitizing(t);
	if (lu->sanitizing || scsi_write_protected(t)) {
		scsi_finish(t);
		return;
	}
	b = malloc(sizeof(*b));
	if (!b) {
		scsi_fail_errno(t, -ENOMEM, 1);
		scsi_finish(t);
		return;
	}
	b->t = t;
	b->result = 0;
	b->pending = 1;		/* until every record is submitted */
	data = t->out + count * MP_BATCH_REC_LEN;
	for (unsigned i = 0; i < count; i++) {
		struct store_req *req = &b->reqs[i];
		size_t len = (size_t)recs[i].nblk * SCSI_BLOCK;
		int rc;

		memset(req, 0, sizeof(*req));
		req->op = STORE_OP_WRITE;
		req->flags = scsi_write_flags(lu, recs[i].flags & MP_REC_FUA);
		req->offset = recs[i].lba * SCSI_BLOCK;
		req->length = len;
		b->iov[i].iov_base = (void *)data;
		b->iov[i].iov_len = len;
		req->iov = &b->iov[i];
		req->iovcnt = 1;
		req->done = batch_rec_done;
		req->priv = b;
		data += len;
		rc = scsi_lu_submit(lu, req);
		if (rc < 0) {
			b->result = rc;
			break;
		}
		b->pending++;
		lu->writes++;
		lu->bytes_written += len;
	}
	if (--b->pending == 0)
		batch_end(b);
}

static void replica_vendor(struct scsi_task *t)
{
	struct replica *r = t->lu->vendor_arg;

	if (t->cdb[0] != MP_OPCODE) {
		scsi_sense(t, SENSE_ILLEGAL_REQUEST, ASC_INVALID_OPCODE, 0);
		scsi_finish(t);
		return;
	}
	switch (t->cdb[1]) {
	case MP_GET_STATE:
		get_state(t, r);
		break;
	case MP_GET_BITMAP:
		get_bitmap(t, r);
		break;
	case MP_SET_STATE:
		set_state(t, r);
		break;
	case MP_RESET:
		reset(t, r);
		break;
	case MP_WRITE_BATCH:
		write_batch(t);	/* finishes t, maybe later */
		return;
	default:
		scsi_sense(t, SENSE_ILLEGAL_REQUEST, ASC_INVALID_FIELD_CDB, 1);
	}
	scsi_finish(t);
}

void replica_lu_attach(struct scsi_lu *lu, struct replica *r)
{
	lu->vendor = replica_vendor;
	lu->vendor_arg = r;
	/* The replica's writes are the peer's mirror waiting: on the loop thread, a small one
	 * skips two thread wake-ups (QD 1 mirrored latency 178 -> 149 us here, docs/mirror.md).
	 * A secondary serves no client, so a throttled write holds up only the mirror sessions,
	 * whose writes meet the same throttle, and the control socket (standbyd allows 3 s). */
	lu->write_flags = STORE_LOOP_OK;
}
