/* SCSI layer core: logical units, dispatch, sense data; see scsi.h. Block commands live in
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

/* Commands a RESERVE(6) holder's peers may still send (SPC-2 5.5.1). */
static int allowed_when_reserved(uint8_t op)
{
	switch (op) {
	case INQUIRY: case REPORT_LUNS: case REQUEST_SENSE: case RELEASE_6: case RELEASE_10:
	case MAINTENANCE_IN: case PERSISTENT_RESERVE_IN: case PERSISTENT_RESERVE_OUT:
		return 1;
	default:
		return 0;
	}
}

/* Commands served while a SANITIZE runs (SBC-4 4.11.3); the rest get NOT READY. */
static int allowed_when_sanitizing(uint8_t op)
{
	switch (op) {
	case INQUIRY: case REPORT_LUNS: case REQUEST_SENSE:
		return 1;
	default:
		return 0;
	}
}

/* Medium access after a failed SANITIZE: refused until a sanitize succeeds or the initiator
 * leaves the failure mode; what reports on the LU rather than its data stays allowed. */
static int allowed_after_sanitize_failure(const uint8_t *cdb)
{
	switch (cdb[0]) {
	case SANITIZE: case TEST_UNIT_READY: case MODE_SENSE_6: case MODE_SENSE_10:
	case MODE_SELECT_6: case MODE_SELECT_10: case MAINTENANCE_IN: case READ_CAPACITY_10:
	case PERSISTENT_RESERVE_IN: case PERSISTENT_RESERVE_OUT: case RESERVE_6: case RELEASE_6:
	case RESERVE_10: case RELEASE_10: case START_STOP_UNIT: case RECEIVE_COPY_RESULTS:
		return 1;
	case SERVICE_ACTION_IN_16:
		return (cdb[1] & 0x1f) == SAI_READ_CAPACITY_16;
	default:
		return allowed_when_sanitizing(cdb[0]);
	}
}

static void no_lu(struct scsi_task *t)
{
	switch (t->cdb[0]) {
	case INQUIRY:
		scsi_spc_inquiry(t);
		return;
	case REPORT_LUNS:
		scsi_spc_report_luns(t);
		return;
	case REQUEST_SENSE:
		scsi_sense(t, SENSE_ILLEGAL_REQUEST, ASC_LUN_NOT_SUPPORTED, 0);
		scsi_finish(t);
		return;
	default:
		scsi_sense(t, SENSE_ILLEGAL_REQUEST, ASC_LUN_NOT_SUPPORTED, 0);
		scsi_finish(t);
	}
}

static void reserve6(struct scsi_task *t)
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

static void release6(struct scsi_task *t)
{
	if (t->lu->reserved_by == t->nexus->id)
		t->lu->reserved_by = 0;
	scsi_finish(t);
}

void scsi_execute(struct scsi_task *t)
{
	uint8_t op = t->cdb[0];

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
		no_lu(t);
		return;
	}
	if (t->lu->sanitizing && !allowed_when_sanitizing(op)) {
		scsi_sense_sanitizing(t);
		scsi_finish(t);
		return;
	}
	if (t->lu->sanitize_failed && !allowed_after_sanitize_failure(t->cdb)) {
		scsi_sense(t, SENSE_MEDIUM_ERROR, ASC_SANITIZE_FAILED, 0x03);
		scsi_finish(t);
		return;
	}
	if (t->lu->reserved_by && t->lu->reserved_by != t->nexus->id &&
	    !allowed_when_reserved(op)) {
		t->status = SAM_STAT_RESERVATION_CONFLICT;
		scsi_finish(t);
		return;
	}
	if (scsi_pr_conflict(t)) {
		t->status = SAM_STAT_RESERVATION_CONFLICT;
		scsi_finish(t);
		return;
	}
	if (op >= 0xc0 && t->lu->vendor) {
		t->lu->vendor(t);
		return;
	}
	switch (op) {
	case TEST_UNIT_READY:
	case START_STOP_UNIT:
	case PREVENT_ALLOW_MEDIUM_REMOVAL:
		scsi_finish(t);
		return;
	case INQUIRY:
		scsi_spc_inquiry(t);
		return;
	case REQUEST_SENSE:
		scsi_spc_request_sense(t);
		return;
	case MODE_SENSE_6:
	case MODE_SENSE_10:
		scsi_spc_mode_sense(t);
		return;
	case MODE_SELECT_6:
	case MODE_SELECT_10:
		scsi_spc_mode_select(t);
		return;
	case REPORT_LUNS:
		scsi_spc_report_luns(t);
		return;
	case MAINTENANCE_IN:
		if ((t->cdb[1] & 0x1f) == MI_REPORT_SUPPORTED_OPCODES) {
			scsi_spc_report_opcodes(t);
			return;
		}
		break;
	case RESERVE_6:
	case RESERVE_10:
		reserve6(t);
		return;
	case RELEASE_6:
	case RELEASE_10:
		release6(t);
		return;
	case PERSISTENT_RESERVE_IN:
		scsi_pr_in(t);
		return;
	case PERSISTENT_RESERVE_OUT:
		scsi_pr_out(t);
		return;
	case SANITIZE:
		scsi_sanitize(t);
		return;
	case EXTENDED_COPY:
		scsi_xcopy(t);
		return;
	case RECEIVE_COPY_RESULTS:
		scsi_receive_copy_results(t);
		return;
	default:
		scsi_sbc_execute(t);
		return;
	}
	scsi_sense(t, SENSE_ILLEGAL_REQUEST, ASC_INVALID_OPCODE, 0);
	scsi_finish(t);
}
