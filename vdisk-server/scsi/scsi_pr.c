/* Reservations. PERSISTENT RESERVE IN/OUT (SPC-4 5.12): registrations keyed by the I_T
 * nexus's initiator port, one reservation per LU, and the access rules each reservation type
 * imposes; and SPC-2's RESERVE/RELEASE, held by one I_T nexus. State lives in memory: APTPL is
 * not offered. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "common/wire.h"
#include "vdisk-server/scsi/scsi.h"
#include "vdisk-server/scsi/scsi_cdb.h"

#define PR_MAX_REGS 64

enum {
	PR_WE = 1, PR_EA = 3, PR_WE_RO = 5, PR_EA_RO = 6, PR_WE_AR = 7, PR_EA_AR = 8,
};

enum {
	PRO_REGISTER = 0, PRO_RESERVE = 1, PRO_RELEASE = 2, PRO_CLEAR = 3, PRO_PREEMPT = 4,
	PRO_PREEMPT_ABORT = 5, PRO_REGISTER_IGNORE = 6,
};

struct scsi_pr_reg {
	struct scsi_pr_reg *next;
	uint64_t key;
	char port[300];
};

static struct scsi_pr_reg *reg_find(struct scsi_lu *lu, const char *port)
{
	for (struct scsi_pr_reg *r = lu->regs; r; r = r->next)
		if (strcmp(r->port, port) == 0)
			return r;
	return NULL;
}

static unsigned reg_count(struct scsi_lu *lu)
{
	unsigned n = 0;

	for (struct scsi_pr_reg *r = lu->regs; r; r = r->next)
		n++;
	return n;
}

static int all_registrants(int type)
{
	return type == PR_WE_AR || type == PR_EA_AR;
}

static int is_holder(struct scsi_lu *lu, const struct scsi_pr_reg *r)
{
	if (!lu->pr_type || !r)
		return 0;
	return all_registrants(lu->pr_type) || strcmp(lu->pr_holder, r->port) == 0;
}

static void reg_remove(struct scsi_lu *lu, struct scsi_pr_reg *victim)
{
	for (struct scsi_pr_reg **pp = &lu->regs; *pp; pp = &(*pp)->next) {
		if (*pp == victim) {
			*pp = victim->next;
			break;
		}
	}
	/* a holder that unregisters releases; all-registrants types end with the last one */
	if (lu->pr_type) {
		if (all_registrants(lu->pr_type) ? lu->regs == NULL
						 : strcmp(lu->pr_holder, victim->port) == 0)
			lu->pr_type = 0;
	}
	free(victim);
}

void scsi_pr_free(struct scsi_lu *lu)
{
	while (lu->regs) {
		struct scsi_pr_reg *r = lu->regs;

		lu->regs = r->next;
		free(r);
	}
	lu->pr_type = 0;
}

/* See scsi.h. */
int scsi_pr_conflict(struct scsi_task *t, unsigned flags)
{
	struct scsi_lu *lu = t->lu;
	struct scsi_pr_reg *r;

	if (!lu->pr_type || (flags & OP_PR_ALWAYS))
		return 0;
	r = reg_find(lu, t->nexus->port);
	if (is_holder(lu, r))
		return 0;
	switch (lu->pr_type) {
	case PR_WE:
		return !(flags & OP_PR_READ);
	case PR_EA:
		return 1;
	case PR_WE_RO:
	case PR_WE_AR:
		return r ? 0 : !(flags & OP_PR_READ);
	case PR_EA_RO:
	case PR_EA_AR:
		return r ? 0 : 1;
	}
	return 0;
}

static size_t transport_id(const char *port, uint8_t *out)
{
	/* iSCSI TransportID, format 01b: "name,i,0x<isid>" NUL-padded to a multiple of 4 */
	size_t n = strlen(port) + 1, padded = (n + 3) & ~(size_t)3;

	memset(out, 0, 4 + padded);
	out[0] = 0x45;
	put_be16(out + 2, (uint16_t)padded);
	memcpy(out + 4, port, n - 1);
	return 4 + padded;
}

void scsi_pr_in(struct scsi_task *t)
{
	struct scsi_lu *lu = t->lu;
	uint8_t sa = t->cdb[1] & 0x1f, *b;
	uint32_t alloc = get_be16(t->cdb + 7), off = 8;
	unsigned n = reg_count(lu);

	switch (sa) {
	case 0:		/* READ KEYS */
		if (scsi_alloc_in(t, 8 + 8 * n) < 0)
			goto out;
		for (struct scsi_pr_reg *r = lu->regs; r; r = r->next, off += 8)
			put_be64(t->in + off, r->key);
		break;
	case 1:		/* READ RESERVATION */
		if (scsi_alloc_in(t, 8 + 16) < 0)
			goto out;
		if (lu->pr_type) {
			put_be64(t->in + 8, all_registrants(lu->pr_type) ? 0 : lu->pr_key);
			t->in[21] = (uint8_t)lu->pr_type;	/* scope LU */
			off += 16;
		}
		break;
	case 2:		/* REPORT CAPABILITIES */
		if (scsi_alloc_in(t, 8) < 0)
			goto out;
		b = t->in;
		put_be16(b, 8);
		b[2] = 0x10;		/* CRH: RESERVE(6) vs PR as SPC-4 5.13.3 says */
		b[3] = 0x80;		/* TMV: the type mask is valid */
		b[4] = 0x80 | 0x40 | 0x20 | 0x08 | 0x02;
		b[5] = 0x01;
		t->in_len = 8;
		goto trunc;
	case 3:		/* READ FULL STATUS */
		if (scsi_alloc_in(t, 8 + n * (24 + 4 + 304)) < 0)
			goto out;
		for (struct scsi_pr_reg *r = lu->regs; r; r = r->next) {
			b = t->in + off;
			put_be64(b, r->key);
			if (is_holder(lu, r)) {
				b[12] = 0x01;
				b[13] = (uint8_t)lu->pr_type;
			}
			put_be16(b + 18, 1);	/* relative target port */
			n = (unsigned)transport_id(r->port, b + 24);
			put_be32(b + 20, n);
			off += 24 + n;
		}
		break;
	default:
		scsi_sense(t, SENSE_ILLEGAL_REQUEST, ASC_INVALID_FIELD_CDB, 0);
		goto out;
	}
	put_be32(t->in, lu->pr_generation);
	put_be32(t->in + 4, off - 8);
	t->in_len = off;
trunc:
	scsi_in_truncate(t, alloc);
out:
	scsi_finish(t);
}

static int type_valid(int type)
{
	return type == PR_WE || type == PR_EA || type == PR_WE_RO || type == PR_EA_RO ||
	       type == PR_WE_AR || type == PR_EA_AR;
}

static void conflict(struct scsi_task *t)
{
	t->status = SAM_STAT_RESERVATION_CONFLICT;
}

static void pr_register(struct scsi_task *t, struct scsi_pr_reg *r, uint64_t key,
			uint64_t sakey, int ignore)
{
	struct scsi_lu *lu = t->lu;

	if (!r) {
		if (!ignore && key) {
			conflict(t);
			return;
		}
		if (!sakey)
			return;
		if (reg_count(lu) >= PR_MAX_REGS) {
			scsi_sense(t, SENSE_ILLEGAL_REQUEST, 0x55, 0x04);  /* registrations full */
			return;
		}
		r = calloc(1, sizeof(*r));
		if (!r) {
			scsi_sense(t, SENSE_HARDWARE_ERROR, 0x55, 0x03);
			return;
		}
		r->key = sakey;
		strcpy(r->port, t->nexus->port);
		r->next = lu->regs;
		lu->regs = r;
		lu->pr_generation++;
		return;
	}
	if (!ignore && key != r->key) {
		conflict(t);
		return;
	}
	if (!sakey) {
		reg_remove(lu, r);
	} else {
		r->key = sakey;
		if (is_holder(lu, r) && !all_registrants(lu->pr_type))
			lu->pr_key = sakey;
	}
	lu->pr_generation++;
}

static void pr_preempt(struct scsi_task *t, struct scsi_pr_reg *self, uint64_t sakey, int type)
{
	struct scsi_lu *lu = t->lu;
	struct scsi_pr_reg *r, *next;
	int removed = 0, holder_preempted;

	holder_preempted = lu->pr_type &&
		(all_registrants(lu->pr_type) ? sakey == 0 : lu->pr_key == sakey);
	if (!holder_preempted && sakey == 0) {
		scsi_sense(t, SENSE_ILLEGAL_REQUEST, ASC_INVALID_FIELD_PARAM, 0);
		return;
	}
	for (r = lu->regs; r; r = next) {
		next = r->next;
		if (r != self && (r->key == sakey || (holder_preempted && sakey == 0))) {
			reg_remove(lu, r);
			removed++;
		}
	}
	if (holder_preempted) {
		lu->pr_type = type;
		lu->pr_key = self->key;
		strcpy(lu->pr_holder, self->port);
	} else if (!removed) {
		conflict(t);
		return;
	}
	lu->pr_generation++;
}

void scsi_pr_out(struct scsi_task *t)
{
	struct scsi_lu *lu = t->lu;
	uint8_t *cdb = t->cdb, sa = cdb[1] & 0x1f;
	int scope = cdb[2] >> 4, type = cdb[2] & 0x0f;
	uint32_t plen = get_be32(cdb + 5);
	uint64_t key, sakey;
	struct scsi_pr_reg *r;

	t->out_want = plen;
	if (sa > PRO_REGISTER_IGNORE) {
		scsi_sense(t, SENSE_ILLEGAL_REQUEST, ASC_INVALID_FIELD_CDB, 0);
		goto out;
	}
	if (plen != 24 || t->out_len < 24) {
		scsi_sense(t, SENSE_ILLEGAL_REQUEST, ASC_PARAM_LIST_LENGTH, 0);
		goto out;
	}
	if (t->out[20] & 0x0d) {	/* SPEC_I_PT, APTPL: not offered */
		scsi_sense(t, SENSE_ILLEGAL_REQUEST, ASC_INVALID_FIELD_PARAM, 0);
		goto out;
	}
	key = get_be64(t->out);
	sakey = get_be64(t->out + 8);
	r = reg_find(lu, t->nexus->port);
	if (sa == PRO_REGISTER || sa == PRO_REGISTER_IGNORE) {
		pr_register(t, r, key, sakey, sa == PRO_REGISTER_IGNORE);
		goto out;
	}
	if (!r || r->key != key) {
		conflict(t);
		goto out;
	}
	if ((sa == PRO_RESERVE || sa == PRO_PREEMPT || sa == PRO_PREEMPT_ABORT) &&
	    (scope != 0 || !type_valid(type))) {
		scsi_sense(t, SENSE_ILLEGAL_REQUEST, ASC_INVALID_FIELD_CDB, 0);
		goto out;
	}
	switch (sa) {
	case PRO_RESERVE:
		if (lu->pr_type) {
			if (!is_holder(lu, r) || lu->pr_type != type)
				conflict(t);
			break;
		}
		lu->pr_type = type;
		lu->pr_key = key;
		strcpy(lu->pr_holder, r->port);
		break;
	case PRO_RELEASE:
		if (!lu->pr_type || !is_holder(lu, r))
			break;
		if (lu->pr_type != type) {
			/* INVALID RELEASE OF PERSISTENT RESERVATION */
			scsi_sense(t, SENSE_ILLEGAL_REQUEST, ASC_INVALID_FIELD_PARAM, 0x04);
			break;
		}
		lu->pr_type = 0;
		break;
	case PRO_CLEAR:
		scsi_pr_free(lu);
		lu->pr_generation++;
		break;
	case PRO_PREEMPT:
	case PRO_PREEMPT_ABORT:
		pr_preempt(t, r, sakey, type);
		break;
	}
out:
	scsi_finish(t);
}

/* ---- RESERVE and RELEASE (SPC-2): one I_T nexus holds the LU ---- */

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
