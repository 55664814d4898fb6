/* What every command that moves blocks shares: store requests counted in flight (a SANITIZE
 * waits for them), the store flags of a write, the sense for a store error, and the range
 * and write-protect checks. Below the commands (scsi_sbc.c, scsi_sanitize.c, scsi_xcopy.c,
 * the vendor LUs), above the task's answer (scsi_task.c). */
#include <errno.h>
#include <string.h>

#include "vdisk-server/scsi/scsi.h"
#include "vdisk-server/scsi/scsi_cdb.h"

void scsi_fail_errno(struct scsi_task *t, int err, int writing)
{
	switch (err) {
	case -ENOSPC:
		scsi_sense(t, SENSE_DATA_PROTECT, ASC_WRITE_PROTECTED, 0x07);
		break;
	case -EROFS:
		scsi_sense(t, SENSE_DATA_PROTECT, ASC_WRITE_PROTECTED, 0x00);
		break;
	case -EINVAL:
		scsi_sense(t, SENSE_ILLEGAL_REQUEST, ASC_INVALID_FIELD_CDB, 0);
		break;
	case -EOPNOTSUPP:
		scsi_sense(t, SENSE_ILLEGAL_REQUEST, ASC_INVALID_OPCODE, 0);
		break;
	case -ENOMEM:
		scsi_sense(t, SENSE_HARDWARE_ERROR, 0x55, 0x03);
		break;
	default:	/* unrecovered read error / write error */
		scsi_sense(t, SENSE_MEDIUM_ERROR, writing ? 0x0c : 0x11, 0);
		break;
	}
}

/* See scsi.h. */
unsigned scsi_write_flags(const struct scsi_lu *lu, int fua)
{
	/* The write cache is reported on (WCE 1: the overlay is durable on FUA and SYNCHRONIZE
	 * CACHE); an initiator that turns it off by MODE SELECT asks for every write to be
	 * durable when it completes. */
	return lu->write_flags | (fua || !lu->wce ? STORE_FUA : 0);
}

/* See scsi.h. */
int scsi_lu_submit(struct scsi_lu *lu, struct store_req *req)
{
	int rc = store_submit(lu->st, req);

	if (rc == 0)
		lu->inflight++;
	return rc;
}

/* See scsi.h. */
void scsi_lu_io_done(struct scsi_lu *lu)
{
	lu->inflight--;
	/* the last request that was in the store when a SANITIZE came has left it: the
	 * SANITIZE takes its first step */
	if (lu->inflight == 0 && lu->sanitize_wait) {
		struct scsi_task *t = lu->sanitize_wait;

		lu->sanitize_wait = NULL;
		t->next(t);
	}
}

static void io_done(struct store_req *req)
{
	struct scsi_task *t = req->priv;
	struct scsi_lu *lu = t->lu;

	if (req->result < 0) {
		scsi_fail_errno(t, req->result, req->op != STORE_OP_READ);
		scsi_finish(t);
	} else {
		t->next(t);
	}
	scsi_lu_io_done(lu);
}

/* See scsi.h. */
void scsi_submit(struct scsi_task *t, enum store_op op, unsigned flags, uint64_t lba,
		 uint32_t nblk, uint8_t *buf, scsi_step_fn next)
{
	struct store_req *req = &t->req;
	int rc;

	/* a command that began before a SANITIZE (the next chunk of a WRITE SAME, the write of
	 * a COMPARE AND WRITE, a copy) must not write once it has started */
	if (t->lu->sanitizing && t->cdb[0] != SANITIZE &&
	    (op == STORE_OP_WRITE || op == STORE_OP_UNMAP)) {
		scsi_sense_sanitizing(t);
		scsi_finish(t);
		return;
	}
	memset(req, 0, sizeof(*req));
	req->op = op;
	req->flags = op == STORE_OP_WRITE ? flags | scsi_write_flags(t->lu, 0) : flags;
	req->offset = lba * SCSI_BLOCK;
	req->length = (uint64_t)nblk * SCSI_BLOCK;
	t->iov.iov_base = buf;
	t->iov.iov_len = (size_t)nblk * SCSI_BLOCK;
	req->iov = buf ? &t->iov : NULL;
	req->iovcnt = buf ? 1 : 0;
	req->done = io_done;
	req->priv = t;
	t->next = next;
	rc = scsi_lu_submit(t->lu, req);
	if (rc < 0) {
		scsi_fail_errno(t, rc, op != STORE_OP_READ);
		scsi_finish(t);
	}
}

int scsi_range_bad(struct scsi_task *t, uint64_t lba, uint64_t n)
{
	if (lba > t->lu->nblocks || n > t->lu->nblocks - lba) {
		scsi_sense(t, SENSE_ILLEGAL_REQUEST, ASC_LBA_OUT_OF_RANGE, 0);
		return 1;
	}
	return 0;
}

int scsi_write_protected(struct scsi_task *t)
{
	if (t->lu->read_only || t->lu->swp) {
		scsi_sense(t, SENSE_DATA_PROTECT, ASC_WRITE_PROTECTED, 0);
		return 1;
	}
	return 0;
}
