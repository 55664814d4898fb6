/* READ DIGESTS on an image-sync LU; see image_sync_lu.h and image_sync_proto.h. The task's
 * own fields carry the command's progress: lba is the next block to read, nblk the digests
 * asked for, pos the digests done; scratch holds one read, in the digests. */
#include "vdisk-server/scsi/image_sync_lu.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "common/image_sync_proto.h"
#include "common/log.h"

#define READ_BLOCKS 16u		/* 1 MiB per store read */

static struct log_ratelimit rl_bad_cdb = LOG_RATELIMIT_INIT(10);

static void digest_next(struct scsi_task *t);

/* One read of up to READ_BLOCKS blocks came back with result: digest them, read on. */
static void digest_read(struct scsi_task *t, int result)
{
	uint64_t size = t->lu->st->size, off = t->lba * IS_BLOCK;
	uint32_t n = 0;

	if (result < 0) {
		log_err("image sync: reading the image at %llu: %s", (unsigned long long)off,
			strerror(-result));
		scsi_sense(t, SENSE_MEDIUM_ERROR, 0x11, 0);	/* unrecovered read error */
		scsi_finish(t);
		return;
	}
	for (; n < READ_BLOCKS && t->pos < t->nblk && off < size; n++, off += IS_BLOCK) {
		size_t len = size - off < IS_BLOCK ? (size_t)(size - off) : IS_BLOCK;

		if (is_digest(t->scratch + (size_t)n * IS_BLOCK, len,
			      t->in + (size_t)t->pos * IS_DIGEST_LEN) < 0) {
			scsi_sense(t, SENSE_HARDWARE_ERROR, 0x55, 0x03);
			scsi_finish(t);
			return;
		}
		t->pos++;
	}
	t->lba += n;
	digest_next(t);
}

static void read_done(struct store_req *req)
{
	struct scsi_task *t = req->priv;
	struct scsi_lu *lu = t->lu;

	digest_read(t, req->result);
	scsi_lu_io_done(lu);
}

static void digest_next(struct scsi_task *t)
{
	struct store *st = t->lu->st;
	struct store_req *req = &t->req;
	uint64_t off = t->lba * IS_BLOCK;
	uint32_t n = t->nblk - t->pos < READ_BLOCKS ? t->nblk - t->pos : READ_BLOCKS;
	uint64_t len = (uint64_t)n * IS_BLOCK;
	int rc;

	if (t->pos == t->nblk) {
		scsi_finish(t);
		return;
	}
	if (len > st->size - off)
		len = st->size - off;	/* the short last block; the size is whole 512-byte blocks */
	memset(req, 0, sizeof(*req));
	req->op = STORE_OP_READ;
	req->offset = off;
	req->length = len;
	t->iov.iov_base = t->scratch;
	t->iov.iov_len = (size_t)len;
	req->iov = &t->iov;
	req->iovcnt = 1;
	req->done = read_done;
	req->priv = t;
	rc = scsi_lu_submit(t->lu, req);
	if (rc < 0) {
		scsi_sense(t, SENSE_HARDWARE_ERROR, 0x55, 0x03);	/* insufficient resources */
		scsi_finish(t);
	}
}

static void image_sync_vendor(struct scsi_task *t)
{
	struct is_req r;
	unsigned field;
	int rc = is_cdb_parse(t->cdb, t->lu->st->size, &r, &field);

	if (rc < 0) {
		log_limited(&rl_bad_cdb, LOG_NOTICE, "image sync: refused a malformed command "
			    "(opcode %02xh, byte %u)", t->cdb[0], field);
		if (rc == -ENOTSUP)
			scsi_sense(t, SENSE_ILLEGAL_REQUEST, ASC_INVALID_OPCODE, 0);
		else if (rc == -ERANGE)
			scsi_sense(t, SENSE_ILLEGAL_REQUEST, ASC_LBA_OUT_OF_RANGE, 0);
		else
			scsi_sense(t, SENSE_ILLEGAL_REQUEST, ASC_INVALID_FIELD_CDB, 0);
		scsi_finish(t);
		return;
	}
	if (scsi_alloc_in(t, r.count * IS_DIGEST_LEN) < 0) {
		scsi_finish(t);
		return;
	}
	t->scratch = malloc((size_t)READ_BLOCKS * IS_BLOCK);
	if (!t->scratch) {
		scsi_sense(t, SENSE_HARDWARE_ERROR, 0x55, 0x03);
		scsi_finish(t);
		return;
	}
	t->lba = r.first;
	t->nblk = r.count;
	t->pos = 0;
	digest_next(t);
}

void image_sync_lu_attach(struct scsi_lu *lu)
{
	lu->vendor = image_sync_vendor;
	lu->vendor_arg = NULL;
}
