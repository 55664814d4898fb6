/* EXTENDED COPY (LID1) and RECEIVE COPY RESULTS (SPC-4 6.4, 6.18): a copy manager for
 * block-to-block copies between the logical units of one target (a clone of a disk, or a
 * move inside one). Copy targets are named by identification descriptors that must match
 * a logical unit's NAA identifier (VPD 83h); nothing outside this target is reachable.
 *
 * The whole list is checked (parser, then every segment against its LUs) before the first
 * block moves, so a bad list changes nothing. Blocks move through the stores with READ then
 * WRITE requests (scsi_submit), so a store stacked on the overlay (the mirror) sees every
 * write. A copy touching another LU than the one addressed is refused while that LU is
 * reserved or being sanitized: its access rules cannot be applied from here. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "common/wire.h"
#include "vdisk-server/scsi/scsi.h"
#include "vdisk-server/scsi/scsi_cdb.h"
#include "vdisk-server/scsi/scsi_xcopy.h"

#define XC_CHUNK_BLOCKS	2048u	/* moved per READ/WRITE pair: 1 MiB */
#define XC_MAX_HELD	16	/* copy results kept per LU */

#define SENSE_COPY_ABORTED	0x0a
#define ASC_COPY_TARGET		0x0d	/* with 02h: copy target device not reachable */

/* The result of one copy, for RECEIVE COPY RESULTS (COPY STATUS). */
struct scsi_xcopy_status {
	struct scsi_xcopy_status *next;
	uint64_t nexus;
	uint8_t list_id;
	uint8_t active;			/* still copying: the list id is in use */
	uint8_t status;			/* copy manager status: 1 done, 2 done with errors */
	uint16_t segments;		/* segments processed */
	uint32_t bytes;
};

/* A running copy; lives in t->scratch (freed by scsi_finish). t->lu is switched to the LU
 * each store request goes to and back to home between steps. */
struct xcopy_job {
	struct scsi_lu *home;
	struct scsi_xcopy_status *st;	/* NULL when the results are discarded */
	struct xcopy_list list;
	struct scsi_lu *lus[XCOPY_MAX_TARGETS];
	unsigned seg;
	uint32_t done;			/* blocks of the current segment copied */
	uint32_t n;			/* blocks in flight */
	int backward;			/* overlapping ranges of one LU, destination above */
	uint8_t buf[];
};

static void status_unlink(struct scsi_lu *lu, struct scsi_xcopy_status *victim)
{
	for (struct scsi_xcopy_status **pp = &lu->xcopies; *pp; pp = &(*pp)->next) {
		if (*pp == victim) {
			*pp = victim->next;
			free(victim);
			return;
		}
	}
}

static struct scsi_xcopy_status *status_find(struct scsi_lu *lu, uint64_t nexus, uint8_t id)
{
	for (struct scsi_xcopy_status *s = lu->xcopies; s; s = s->next)
		if (s->nexus == nexus && s->list_id == id)
			return s;
	return NULL;
}

/* A new result slot (newest first); the oldest finished one goes when the LU has too many.
 * NULL when out of memory or every slot belongs to a running copy. */
static struct scsi_xcopy_status *status_new(struct scsi_lu *lu, uint64_t nexus, uint8_t id)
{
	struct scsi_xcopy_status *s, *old = NULL;
	unsigned n = 0;

	for (s = lu->xcopies; s; s = s->next) {
		n++;
		if (!s->active)
			old = s;
	}
	if (n >= XC_MAX_HELD) {
		if (!old)
			return NULL;
		status_unlink(lu, old);
	}
	s = calloc(1, sizeof(*s));
	if (!s)
		return NULL;
	s->nexus = nexus;
	s->list_id = id;
	s->active = 1;
	s->next = lu->xcopies;
	lu->xcopies = s;
	return s;
}

void scsi_xcopy_free(struct scsi_lu *lu)
{
	while (lu->xcopies)
		status_unlink(lu, lu->xcopies);
}

static void copy_aborted(struct scsi_task *t, uint8_t asc, uint8_t ascq)
{
	scsi_sense(t, SENSE_COPY_ABORTED, asc, ascq);
}

/* The LU in this target whose NAA identifier the descriptor names, or NULL. */
static struct scsi_lu *target_lu(struct scsi_task *t, const struct xcopy_target *d)
{
	struct scsi_target *tg = t->target;

	if (d->nul || d->device_type != 0 || d->code_set != 1 || d->desig_type != 3 ||
	    d->desig_len != 16)
		return NULL;
	for (unsigned i = 0; i < tg->nlu; i++)
		if (tg->lu[i] && memcmp(tg->lu[i]->naa, d->desig, 16) == 0)
			return tg->lu[i];
	return NULL;
}

/* Whether this nexus may copy from or to lu besides the LU it addressed. */
static int other_lu_usable(const struct scsi_task *t, const struct scsi_lu *lu)
{
	if (lu == t->lu)
		return 1;
	return !lu->reserved_by && !lu->pr_type && !lu->sanitizing && !lu->sanitize_failed;
}

/* Resolves every target and checks every segment; 0, or -1 with sense set. */
static int job_check(struct scsi_task *t, struct xcopy_job *j)
{
	for (unsigned i = 0; i < j->list.ntargets; i++) {
		j->lus[i] = target_lu(t, &j->list.targets[i]);
		if (j->lus[i] && j->list.targets[i].block_len != SCSI_BLOCK) {
			scsi_sense_field(t, ASC_INVALID_FIELD_PARAM, 0,
					 (uint16_t)(XCOPY_HEADER_LEN + i * XCOPY_TARGET_LEN + 29), -1);
			return -1;
		}
	}
	for (unsigned k = 0; k < j->list.nsegments; k++) {
		const struct xcopy_segment *s = &j->list.segments[k];
		struct scsi_lu *src, *dst;

		if (s->src >= j->list.ntargets || s->dst >= j->list.ntargets ||
		    !j->lus[s->src] || !j->lus[s->dst]) {
			copy_aborted(t, ASC_COPY_TARGET, 0x02);
			return -1;
		}
		src = j->lus[s->src];
		dst = j->lus[s->dst];
		if (!other_lu_usable(t, src) || !other_lu_usable(t, dst)) {
			copy_aborted(t, ASC_COPY_TARGET, 0x02);
			return -1;
		}
		if (s->src_lba > src->nblocks || s->nblk > src->nblocks - s->src_lba ||
		    s->dst_lba > dst->nblocks || s->nblk > dst->nblocks - s->dst_lba) {
			copy_aborted(t, 0, 0);
			return -1;
		}
		if (dst->read_only || dst->swp) {
			scsi_sense(t, SENSE_DATA_PROTECT, ASC_WRITE_PROTECTED, 0);
			return -1;
		}
	}
	return 0;
}

/* Runs from scsi_finish(): back to the addressed LU; a failure during the copy is reported
 * as COPY ABORTED with the cause's additional sense; the result is kept if asked. */
static void xcopy_end(struct scsi_task *t)
{
	struct xcopy_job *j = (struct xcopy_job *)t->scratch;

	t->lu = j->home;
	if (t->status == SAM_STAT_CHECK_CONDITION) {
		if (t->sense[0] == 0x72)
			t->sense[1] = SENSE_COPY_ABORTED;
		else
			t->sense[2] = SENSE_COPY_ABORTED;
	}
	if (!j->st)
		return;
	j->st->active = 0;
	j->st->status = t->status == SAM_STAT_GOOD ? 1 : 2;
	j->st->segments = (uint16_t)j->seg;
}

static void copy_next(struct scsi_task *t);

static void copy_write(struct scsi_task *t)
{
	struct xcopy_job *j = (struct xcopy_job *)t->scratch;
	const struct xcopy_segment *s = &j->list.segments[j->seg];
	uint32_t first = j->backward ? s->nblk - j->done - j->n : j->done;

	t->lu = j->lus[s->dst];
	t->lu->writes++;
	t->lu->bytes_written += (uint64_t)j->n * SCSI_BLOCK;
	scsi_submit(t, STORE_OP_WRITE, 0, s->dst_lba + first, j->n, j->buf, copy_next);
}

static void copy_next(struct scsi_task *t)
{
	struct xcopy_job *j = (struct xcopy_job *)t->scratch;
	const struct xcopy_segment *s;
	uint32_t left, first;

	t->lu = j->home;
	j->done += j->n;
	if (j->st)
		j->st->bytes += j->n * SCSI_BLOCK;
	j->n = 0;
	for (; j->seg < j->list.nsegments; j->seg++, j->done = 0) {
		s = &j->list.segments[j->seg];
		if (j->done < s->nblk)
			break;
	}
	if (j->seg == j->list.nsegments) {
		scsi_finish(t);
		return;
	}
	s = &j->list.segments[j->seg];
	/* within one LU, a destination just above the source is copied from the end, so no
	 * block is overwritten before it has been read */
	if (j->done == 0)
		j->backward = j->lus[s->src] == j->lus[s->dst] && s->dst_lba > s->src_lba &&
			      s->dst_lba < s->src_lba + s->nblk;
	left = s->nblk - j->done;
	j->n = left < XC_CHUNK_BLOCKS ? left : XC_CHUNK_BLOCKS;
	first = j->backward ? s->nblk - j->done - j->n : j->done;
	t->lu = j->lus[s->src];
	t->lu->reads++;
	t->lu->bytes_read += (uint64_t)j->n * SCSI_BLOCK;
	scsi_submit(t, STORE_OP_READ, 0, s->src_lba + first, j->n, j->buf, copy_write);
}

void scsi_xcopy(struct scsi_task *t)
{
	uint8_t *cdb = t->cdb;
	uint32_t plen = get_be32(cdb + 10);
	struct xcopy_error err;
	struct xcopy_job *j;

	t->out_want = plen;
	if ((cdb[1] & 0x1f) != XCOPY_LID1) {
		scsi_sense_field(t, ASC_INVALID_FIELD_CDB, 1, 1, 4);
		goto out;
	}
	for (uint16_t i = 2; i < 15; i++) {
		if ((i < 10 || i > 13) && cdb[i]) {	/* reserved */
			scsi_sense_field(t, ASC_INVALID_FIELD_CDB, 1, i, -1);
			goto out;
		}
	}
	if (plen == 0)		/* no copy asked: nothing to do */
		goto out;
	if (plen > XCOPY_MAX_PARAM_LEN || t->out_len < plen) {
		scsi_sense(t, SENSE_ILLEGAL_REQUEST, ASC_PARAM_LIST_LENGTH, 0);
		goto out;
	}
	j = calloc(1, sizeof(*j) + XC_CHUNK_BLOCKS * SCSI_BLOCK);
	if (!j) {
		scsi_fail_errno(t, -ENOMEM, 1);
		goto out;
	}
	t->scratch = (uint8_t *)j;
	j->home = t->lu;
	if (xcopy_parse(t->out, plen, &j->list, &err) < 0) {
		if (err.field >= 0)
			scsi_sense_field(t, err.asc, 0, (uint16_t)err.field, -1);
		else
			scsi_sense(t, SENSE_ILLEGAL_REQUEST, err.asc, err.ascq);
		goto out;
	}
	if (job_check(t, j) < 0)
		goto out;
	if (j->list.usage != XCOPY_USAGE_DISCARD && j->list.usage != XCOPY_USAGE_NONE) {
		struct scsi_xcopy_status *old = status_find(t->lu, t->nexus->id, j->list.list_id);

		if (old && old->active) {	/* OPERATION IN PROGRESS */
			scsi_sense(t, SENSE_ILLEGAL_REQUEST, 0x00, 0x16);
			goto out;
		}
		if (old)
			status_unlink(t->lu, old);
		j->st = status_new(t->lu, t->nexus->id, j->list.list_id);
		if (!j->st) {
			scsi_fail_errno(t, -ENOMEM, 1);
			goto out;
		}
	}
	t->cleanup = xcopy_end;
	copy_next(t);
	return;
out:
	scsi_finish(t);
}

static void copy_status(struct scsi_task *t, uint8_t list_id)
{
	struct scsi_xcopy_status *s = status_find(t->lu, t->nexus->id, list_id);
	uint8_t *b;

	if (!s) {
		scsi_sense_field(t, ASC_INVALID_FIELD_CDB, 1, 2, -1);
		return;
	}
	if (scsi_alloc_in(t, 12) < 0)
		return;
	b = t->in;
	put_be32(b, 8);
	b[4] = s->active ? 0 : s->status;
	put_be16(b + 5, s->segments);
	b[7] = 0;			/* transfer count in bytes */
	put_be32(b + 8, s->bytes);
	if (!s->active)			/* reported once, then forgotten */
		status_unlink(t->lu, s);
}

static void operating_parameters(struct scsi_task *t)
{
	uint8_t *b;

	if (scsi_alloc_in(t, 46) < 0)
		return;
	b = t->in;
	put_be32(b, 42);
	put_be16(b + 8, XCOPY_MAX_TARGETS);
	put_be16(b + 10, XCOPY_MAX_SEGMENTS);
	put_be32(b + 12, XCOPY_MAX_LIST_LEN);
	put_be32(b + 16, XCOPY_MAX_SEG_BLOCKS * SCSI_BLOCK);	/* maximum segment length */
	/* no segment type of ours holds data (held data limit 0); a copy whose status is held
	 * takes one of the XC_MAX_HELD slots until it ends */
	put_be16(b + 34, XC_MAX_HELD);	/* total concurrent copies */
	b[36] = XC_MAX_HELD;		/* maximum concurrent copies */
	b[37] = 9;			/* data segment granularity: 2^9, one block */
	b[43] = 2;			/* implemented descriptor type codes: */
	b[44] = 0x02;			/* block -> block */
	b[45] = 0xe4;			/* identification descriptor target descriptor */
}

void scsi_receive_copy_results(struct scsi_task *t)
{
	uint8_t *cdb = t->cdb;
	uint32_t alloc = get_be32(cdb + 10);

	switch (cdb[1] & 0x1f) {
	case RCR_COPY_STATUS:
		copy_status(t, cdb[2]);
		break;
	case RCR_OPERATING_PARAMETERS:
		operating_parameters(t);
		break;
	default:
		scsi_sense_field(t, ASC_INVALID_FIELD_CDB, 1, 1, 4);
		break;
	}
	scsi_in_truncate(t, alloc);
	scsi_finish(t);
}
