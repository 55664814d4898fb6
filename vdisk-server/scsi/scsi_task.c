/* A task's answer: sense data (fixed or descriptor format, with the sense-key specific field
 * pointer and the SANITIZE progress indication), Data-In, and the end of the task. The
 * bottom of the SCSI layer: every command's handler ends here; it calls nothing above. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "common/wire.h"
#include "vdisk-server/scsi/scsi.h"

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
