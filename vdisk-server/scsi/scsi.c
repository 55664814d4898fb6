/* The SCSI layer's top: logical units and the dispatch of a task; see scsi.h. What each
 * opcode runs and which rules let it through is scsi_ops.c's table; block commands live in
 * scsi_sbc.c, primary commands in scsi_spc.c, reservations in scsi_pr.c, what moves blocks
 * in scsi_io.c, and a task's answer (sense, Data-In, its end) in scsi_task.c. */
#include <errno.h>
#include <string.h>

#include <openssl/evp.h>

#include "vdisk-server/scsi/scsi.h"
#include "vdisk-server/scsi/scsi_cdb.h"

int scsi_lu_init(struct scsi_lu *lu, struct store *st, const char *ident)
{
	uint8_t md[EVP_MAX_MD_SIZE];
	unsigned mdlen;

	memset(lu, 0, sizeof(*lu));
	if (EVP_Digest(ident, strlen(ident), md, &mdlen, EVP_sha256(), NULL) != 1)
		return -EIO;
	lu->st = st;
	lu->nblocks = st->size / SCSI_BLOCK;
	lu->read_only = st->read_only;
	lu->wce = 1;
	/* NAA 6 (IEEE Registered Extended): OUI 0x001405 is widely used by software targets
	 * for locally assigned identifiers; the rest comes from a hash of the identity, so the
	 * same disk has the same identifier on either server. */
	lu->naa[0] = 0x60;
	lu->naa[1] = 0x01;
	lu->naa[2] = 0x40;
	lu->naa[3] = (uint8_t)(0x50 | (md[0] & 0x0f));
	memcpy(lu->naa + 4, md + 1, 12);
	for (int i = 0; i < 16; i++) {
		static const char hex[] = "0123456789abcdef";

		lu->serial[2 * i] = hex[md[16 + i] >> 4];
		lu->serial[2 * i + 1] = hex[md[16 + i] & 15];
	}
	lu->serial[32] = '\0';
	return 0;
}

void scsi_lu_fini(struct scsi_lu *lu)
{
	scsi_pr_free(lu);
	scsi_xcopy_free(lu);
}

void scsi_execute(struct scsi_task *t)
{
	const struct scsi_op *o = scsi_op_find(t->cdb);

	t->status = SAM_STAT_GOOD;
	t->sense_len = 0;
	t->in = NULL;
	t->in_len = 0;
	t->out_want = 0;
	t->nextents = 0;
	t->scratch = NULL;
	t->cleanup = NULL;
	t->lu = t->lun < t->target->nlu ? t->target->lu[t->lun] : NULL;
	if (!t->lu) {
		if (o->flags & OP_NO_LU) {
			o->run(t);
			return;
		}
		scsi_sense(t, SENSE_ILLEGAL_REQUEST, ASC_LUN_NOT_SUPPORTED, 0);
		scsi_finish(t);
		return;
	}
	if (t->lu->sanitizing && !(o->flags & OP_SANITIZING_OK)) {
		scsi_sense_sanitizing(t);
		scsi_finish(t);
		return;
	}
	if (t->lu->sanitize_failed && !(o->flags & OP_SANITIZE_FAILED_OK)) {
		scsi_sense(t, SENSE_MEDIUM_ERROR, ASC_SANITIZE_FAILED, 0x03);
		scsi_finish(t);
		return;
	}
	if (t->lu->reserved_by && t->lu->reserved_by != t->nexus->id &&
	    !(o->flags & OP_RESERVED_OK)) {
		t->status = SAM_STAT_RESERVATION_CONFLICT;
		scsi_finish(t);
		return;
	}
	if (scsi_pr_conflict(t, o->flags)) {
		t->status = SAM_STAT_RESERVATION_CONFLICT;
		scsi_finish(t);
		return;
	}
	if (t->cdb[0] >= 0xc0 && t->lu->vendor) {
		t->lu->vendor(t);
		return;
	}
	o->run(t);
}
