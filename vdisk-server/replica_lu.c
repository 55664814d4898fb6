/* The replica side of the replication protocol; see replica_lu.h and mirror_proto.h. Every
 * step is a small synchronous file operation on the state file, done on the loop thread. */
#include "vdisk-server/replica_lu.h"

#include <endian.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "common/log.h"

static uint64_t cdb_arg(const uint8_t *cdb)
{
	uint64_t v;

	memcpy(&v, cdb + 2, 8);
	return be64toh(v);
}

static uint32_t cdb_len(const uint8_t *cdb)
{
	uint32_t v;

	memcpy(&v, cdb + 10, 4);
	return be32toh(v);
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
	default:
		scsi_sense(t, SENSE_ILLEGAL_REQUEST, ASC_INVALID_FIELD_CDB, 1);
	}
	scsi_finish(t);
}

void replica_lu_attach(struct scsi_lu *lu, struct replica *r)
{
	lu->vendor = replica_vendor;
	lu->vendor_arg = r;
}
