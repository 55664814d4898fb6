/* SCSI layer core: logical units, dispatch, sense data; see scsi.h. What each opcode runs and
 * which rules let it through is scsi_ops.c's table; block commands live in
 * scsi_sbc.c, primary commands in scsi_spc.c, reservations in scsi_pr.c. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>

#include "common/wire.h"
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

uint64_t scsi_lun_decode(const uint8_t lun[8])
{
	switch (lun[0] >> 6) {
	case 0:
		return lun[1];
	case 1:
		return (uint64_t)(lun[0] & 0x3f) << 8 | lun[1];
	default:
		return UINT64_MAX;	/* an addressing method we do not use: no such LU */
	}
}

void scsi_lun_encode(uint64_t lun, uint8_t out[8])
{
	memset(out, 0, 8);
	if (lun < 256) {
		out[1] = (uint8_t)lun;
	} else {
		out[0] = (uint8_t)(0x40 | ((lun >> 8) & 0x3f));
		out[1] = (uint8_t)lun;
	}
}

static void sense_fill(struct scsi_task *t, uint8_t key, uint8_t asc, uint8_t ascq,
		       int valid, uint64_t info)
{
	uint8_t *s = t->sense;

	memset(s, 0, SCSI_SENSE_MAX);
	t->status = SAM_STAT_CHECK_CONDITION;
	if (t->lu && t->lu->d_sense) {
		/* descriptor format (D_SENSE in the Control mode page) */
		s[0] = 0x72;
		s[1] = key;
		s[2] = asc;
		s[3] = ascq;
		t->sense_len = 8;
		if (valid) {
			s[7] = 12;
			s[8] = 0x00;	/* information descriptor */
			s[9] = 0x0a;
			s[10] = 0x80;
			put_be64(s + 12, info);
			t->sense_len = 20;
		}
		return;
	}
	s[0] = 0x70 | (valid ? 0x80 : 0);
	s[2] = key;
	put_be32(s + 3, (uint32_t)info);
	s[7] = 10;
	s[12] = asc;
	s[13] = ascq;
	t->sense_len = 18;
}

void scsi_sense(struct scsi_task *t, uint8_t key, uint8_t asc, uint8_t ascq)
{
	sense_fill(t, key, asc, ascq, 0, 0);
}

/* Adds the 3 bytes of sense-key specific information (SKSV set) to the sense in t. */
static void sense_specific(struct scsi_task *t, const uint8_t sks[3])
{
	uint8_t *s = t->sense;

	if (s[0] == 0x72) {
		uint8_t *d = s + 8 + s[7];	/* sense key specific descriptor */

		d[0] = 0x02;
		d[1] = 6;
		memcpy(d + 4, sks, 3);
		s[7] = (uint8_t)(s[7] + 8);
		t->sense_len = (uint8_t)(8 + s[7]);
		return;
	}
	memcpy(s + 15, sks, 3);
}

void scsi_sense_field(struct scsi_task *t, uint8_t asc, int in_cdb, uint16_t byte, int bit)
{
	uint8_t sks[3];

	sense_fill(t, SENSE_ILLEGAL_REQUEST, asc, 0, 0, 0);
	sks[0] = (uint8_t)(0x80 | (in_cdb ? 0x40 : 0) | (bit >= 0 ? 0x08 | (bit & 7) : 0));
	put_be16(sks + 1, byte);
	sense_specific(t, sks);
}

void scsi_sense_sanitizing(struct scsi_task *t)
{
	uint8_t sks[3] = { 0x80 };

	sense_fill(t, SENSE_NOT_READY, ASC_NOT_READY, 0x1b, 0, 0);
	put_be16(sks + 1, t->lu->sanitize_progress);	/* progress indication */
	sense_specific(t, sks);
}

void scsi_sense_info(struct scsi_task *t, uint8_t key, uint8_t asc, uint8_t ascq,
		     uint64_t info)
{
	sense_fill(t, key, asc, ascq, 1, info);
}

void scsi_finish(struct scsi_task *t)
{
	if (t->status != SAM_STAT_GOOD) {
		free(t->in);
		t->in = NULL;
		t->in_len = 0;
		t->nextents = 0;
	}
	if (t->cleanup) {
		scsi_step_fn cleanup = t->cleanup;

		t->cleanup = NULL;
		cleanup(t);
	}
	free(t->scratch);
	t->scratch = NULL;
	t->done(t);
}

int scsi_alloc_in(struct scsi_task *t, uint32_t len)
{
	t->in = calloc(1, len ? len : 1);
	if (!t->in) {
		scsi_sense(t, SENSE_HARDWARE_ERROR, 0x55, 0x03);	/* insufficient resources */
		return -ENOMEM;
	}
	t->in_len = len;
	return 0;
}

void scsi_in_truncate(struct scsi_task *t, uint32_t alloc_len)
{
	if (t->in_len > alloc_len)
		t->in_len = alloc_len;
}

void scsi_task_release(struct scsi_task *t)
{
	free(t->in);
	t->in = NULL;
	free(t->scratch);
	t->scratch = NULL;
}

void scsi_nexus_gone(struct scsi_lu *lu, const struct scsi_nexus *nexus)
{
	if (lu->reserved_by == nexus->id)
		lu->reserved_by = 0;
}

void scsi_lu_reset(struct scsi_lu *lu)
{
	lu->reserved_by = 0;
}

/* See scsi.h. */
void scsi_reserve(struct scsi_task *t)
{
	struct scsi_lu *lu = t->lu;

	if (lu->pr_type || lu->regs) {
		t->status = SAM_STAT_RESERVATION_CONFLICT;
	} else if (lu->reserved_by && lu->reserved_by != t->nexus->id) {
		t->status = SAM_STAT_RESERVATION_CONFLICT;
	} else {
		lu->reserved_by = t->nexus->id;
	}
	scsi_finish(t);
}

/* See scsi.h. */
void scsi_release(struct scsi_task *t)
{
	if (t->lu->reserved_by == t->nexus->id)
		t->lu->reserved_by = 0;
	scsi_finish(t);
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
