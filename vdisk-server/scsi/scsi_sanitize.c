/* SANITIZE (SBC-4 5.31, 4.11): make every block of the logical unit unreadable as it was.
 *
 * What each service action means for a disk image:
 * - OVERWRITE writes the initiator's pattern over every block, OWCOUNT times (inverted
 *   between passes with INVERT). On an overlay the pattern lands in the overlay, so the whole
 *   disk is then allocated there: the base image is untouched and no longer visible.
 * - BLOCK ERASE unmaps every block: an overlay drops all its chunks (reads return the base
 *   image again, as after UNMAP; LBPRZ 0), a sparse raw file gets holes. Only offered on a
 *   thin store (the opcode is reported per LU).
 * - CRYPTO ERASE: the store keeps no data encryption key to change, so this is the same
 *   deallocation as BLOCK ERASE: what the client wrote becomes unreachable, which is the
 *   effect an initiator asks for.
 * - EXIT FAILURE MODE leaves the failure mode a failed sanitize with AUSE set left behind.
 *
 * Every change goes through store_submit (WRITE, UNMAP, then FLUSH), so a store stacked on
 * the overlay (the mirror) sees all of it. While it runs the LU answers NOT READY, SANITIZE
 * IN PROGRESS with the progress (scsi.c), and commands already running may not write any
 * more (scsi_submit); its first write waits for the store requests already in flight. It is
 * not abortable: ABORT TASK and resets wait for it. IMMED is refused: the task, and through it the session, keeps the logical unit open
 * until the sanitize ends, which a command already answered could not. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "common/wire.h"
#include "vdisk-server/scsi/scsi.h"
#include "vdisk-server/scsi/scsi_cdb.h"

#define SAN_WRITE_BLOCKS 2048u	/* OVERWRITE writes 1 MiB per store request */

/* Where a running sanitize is: t->lba the next block, t->pos the passes left (OVERWRITE),
 * t->nblk the blocks per request, t->sflags SAN_INVERT. */
enum { SAN_INVERT = 1 };

static void set_progress(struct scsi_task *t, uint64_t done, uint64_t total)
{
	t->lu->sanitize_progress = total ? (uint16_t)(done * 65535 / total) : 0;
}

/* Runs from scsi_finish(): the end of the sanitize, however it ended. */
static void sanitize_end(struct scsi_task *t)
{
	struct scsi_lu *lu = t->lu;

	lu->sanitizing = 0;
	lu->sanitize_progress = 0;
	if (t->status == SAM_STAT_GOOD) {
		lu->sanitize_failed = 0;
		return;
	}
	/* a sanitize that started and failed leaves the medium in an unknown state */
	lu->sanitize_failed = 1;
	lu->sanitize_ause = !!(t->cdb[1] & 0x20);
}

static void step_flush(struct scsi_task *t)
{
	scsi_submit(t, STORE_OP_FLUSH, 0, 0, 0, NULL, scsi_finish);
}

static void overwrite_next(struct scsi_task *t)
{
	uint64_t nb = t->lu->nblocks, left;
	uint32_t passes = t->out[0] & 0x1f, n;

	if (t->lba == nb) {
		if (--t->pos == 0) {
			step_flush(t);
			return;
		}
		t->lba = 0;
		if (t->sflags & SAN_INVERT)
			for (size_t i = 0; i < (size_t)t->nblk * SCSI_BLOCK; i++)
				t->scratch[i] = (uint8_t)~t->scratch[i];
	}
	left = nb - t->lba;
	n = left < t->nblk ? (uint32_t)left : t->nblk;
	set_progress(t, (uint64_t)(passes - t->pos) * nb + t->lba, (uint64_t)passes * nb);
	t->lba += n;
	scsi_submit(t, STORE_OP_WRITE, 0, t->lba - n, n, t->scratch, overwrite_next);
}

static void erase_next(struct scsi_task *t)
{
	uint64_t nb = t->lu->nblocks, left = nb - t->lba;
	uint32_t n = left < SCSI_MAX_UNMAP_BLOCKS ? (uint32_t)left : SCSI_MAX_UNMAP_BLOCKS;

	if (left == 0) {
		step_flush(t);
		return;
	}
	set_progress(t, t->lba, nb);
	t->lba += n;
	scsi_submit(t, STORE_OP_UNMAP, 0, t->lba - n, n, NULL, erase_next);
}

/* Checks the OVERWRITE parameter list (plen bytes, 5..block+4, already checked) and fills
 * the write buffer with the pattern. Returns 0, or -1 with sense set. */
static int overwrite_setup(struct scsi_task *t, uint32_t plen)
{
	const uint8_t *p = t->out;
	uint32_t iplen = get_be16(p + 2), n;

	if (p[0] & 0x60) {		/* TEST: only 00b, a real sanitize */
		scsi_sense_field(t, ASC_INVALID_FIELD_PARAM, 0, 0, 6);
		return -1;
	}
	if ((p[0] & 0x1f) == 0) {	/* OVERWRITE COUNT 0 is reserved */
		scsi_sense_field(t, ASC_INVALID_FIELD_PARAM, 0, 0, 4);
		return -1;
	}
	if (iplen == 0 || iplen > SCSI_BLOCK || iplen > plen - 4) {
		scsi_sense_field(t, ASC_INVALID_FIELD_PARAM, 0, 2, -1);
		return -1;
	}
	n = t->lu->nblocks < SAN_WRITE_BLOCKS ? (uint32_t)t->lu->nblocks : SAN_WRITE_BLOCKS;
	t->scratch = malloc((size_t)n * SCSI_BLOCK);
	if (!t->scratch) {
		scsi_fail_errno(t, -ENOMEM, 1);
		return -1;
	}
	/* the pattern repeats from the start of every block */
	for (uint32_t off = 0; off < SCSI_BLOCK; off += iplen)
		memcpy(t->scratch + off, p + 4, SCSI_BLOCK - off < iplen ? SCSI_BLOCK - off : iplen);
	for (uint32_t b = 1; b < n; b++)
		memcpy(t->scratch + (size_t)b * SCSI_BLOCK, t->scratch, SCSI_BLOCK);
	t->nblk = n;
	t->pos = p[0] & 0x1f;
	t->sflags = p[0] & 0x80 ? SAN_INVERT : 0;
	return 0;
}

static void sanitize_begin(struct scsi_task *t)
{
	if ((t->cdb[1] & 0x1f) == SANITIZE_OVERWRITE)
		overwrite_next(t);
	else
		erase_next(t);
}

static void exit_failure_mode(struct scsi_task *t)
{
	struct scsi_lu *lu = t->lu;

	/* leaving is allowed only when the sanitize that failed said so (AUSE); without a
	 * failure there is nothing to leave */
	if (lu->sanitize_failed && !lu->sanitize_ause) {
		scsi_sense_field(t, ASC_INVALID_FIELD_CDB, 1, 1, 4);
		return;
	}
	lu->sanitize_failed = 0;
}

void scsi_sanitize(struct scsi_task *t)
{
	uint8_t *cdb = t->cdb, sa = cdb[1] & 0x1f;
	uint32_t plen = get_be16(cdb + 7);

	t->out_want = plen;
	if (cdb[1] & 0x40) {
		scsi_sense_field(t, ASC_INVALID_FIELD_CDB, 1, 1, 6);
		goto out;
	}
	for (uint16_t i = 2; i <= 6; i++) {
		if (cdb[i]) {
			scsi_sense_field(t, ASC_INVALID_FIELD_CDB, 1, i, -1);
			goto out;
		}
	}
	if (sa != SANITIZE_OVERWRITE && sa != SANITIZE_EXIT_FAILURE_MODE &&
	    ((sa != SANITIZE_BLOCK_ERASE && sa != SANITIZE_CRYPTO_ERASE) || !t->lu->st->thin)) {
		scsi_sense_field(t, ASC_INVALID_FIELD_CDB, 1, 1, 4);
		goto out;
	}
	if (cdb[1] & 0x80) {		/* IMMED: see the top of this file */
		scsi_sense_field(t, ASC_INVALID_FIELD_CDB, 1, 1, 7);
		goto out;
	}
	/* OVERWRITE takes a header and a pattern of 1 to block-length bytes; the others no
	 * parameter list */
	if (sa == SANITIZE_OVERWRITE ? plen < 5 || plen > SCSI_BLOCK + 4 : plen != 0) {
		scsi_sense_field(t, ASC_INVALID_FIELD_CDB, 1, 7, -1);
		goto out;
	}
	if (sa == SANITIZE_EXIT_FAILURE_MODE) {
		exit_failure_mode(t);
		goto out;
	}
	if (scsi_write_protected(t))
		goto out;
	if (plen && t->out_len < plen) {
		scsi_sense(t, SENSE_ILLEGAL_REQUEST, ASC_PARAM_LIST_LENGTH, 0);
		goto out;
	}
	if (sa == SANITIZE_OVERWRITE && overwrite_setup(t, plen) < 0)
		goto out;
	/* from here every new command is refused and no command already running may write
	 * (scsi_submit); the first block is touched only once the requests already in the
	 * store have completed, so none of them lands after the sanitize wrote its range */
	t->lu->sanitizing = 1;
	t->lu->sanitize_progress = 0;
	t->cleanup = sanitize_end;
	t->lba = 0;
	if (t->lu->inflight) {
		t->next = sanitize_begin;	/* run by the last one's completion (scsi_io.c) */
		t->lu->sanitize_wait = t;
		return;
	}
	sanitize_begin(t);
	return;
out:
	scsi_finish(t);
}
