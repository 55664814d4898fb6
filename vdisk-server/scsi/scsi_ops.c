/* The SCSI commands vdiskd offers, one row per operation code (and service action): the
 * handler, the rules that let the command through a reservation, a SANITIZE or its failure,
 * and the CDB usage data REPORT SUPPORTED OPERATION CODES gives. Every fact about an opcode
 * lives here, as tgt's sbc.c keeps them, rather than in one switch per concern; and so does
 * the command that reports the table, REPORT SUPPORTED OPERATION CODES. */
#include <stddef.h>
#include <string.h>

#include "common/wire.h"
#include "vdisk-server/scsi/scsi.h"
#include "vdisk-server/scsi/scsi_cdb.h"

/* Answers for the service actions of an opcode the table has no row for. */
static void invalid_opcode(struct scsi_task *t)
{
	scsi_sense(t, SENSE_ILLEGAL_REQUEST, ASC_INVALID_OPCODE, 0);
	scsi_finish(t);
}

static void invalid_service_action(struct scsi_task *t)
{
	scsi_sense(t, SENSE_ILLEGAL_REQUEST, ASC_INVALID_FIELD_CDB, 0);
	scsi_finish(t);
}

static void report_opcodes(struct scsi_task *t);

/* Flags shared by whole families of commands. */
#define ANY_STATE	(OP_RESERVED_OK | OP_SANITIZING_OK | OP_SANITIZE_FAILED_OK | OP_PR_ALWAYS)
#define PR_CMD		(OP_RESERVED_OK | OP_SANITIZE_FAILED_OK | OP_PR_ALWAYS)

#define U4 0xff, 0xff, 0xff, 0xff
#define U8 U4, U4
#define OP(op, flags, run, len, ...) { op, 0, 0, flags, len, { __VA_ARGS__ }, run }
#define SA(op, sa, flags, run, len, ...) { op, 1, sa, flags, len, { __VA_ARGS__ }, run }
#define OTHER_SA(op, flags, run) { op, 1, 0, (flags) | OP_OTHER_SA, 0, { 0 }, run }

/* Sorted by opcode, then service action, an opcode's OTHER_SA row last (scsi_op_find). */
const struct scsi_op scsi_ops[] = {
	OP(TEST_UNIT_READY, OP_SANITIZE_FAILED_OK | OP_PR_ALWAYS, scsi_finish,
	   6, 0x00, 0, 0, 0, 0, 0),
	OP(REQUEST_SENSE, ANY_STATE, scsi_spc_request_sense, 6, 0x03, 0x01, 0, 0, 0xff, 0),
	OP(READ_6, OP_PR_READ, scsi_sbc_read, 6, 0x08, 0x1f, 0xff, 0xff, 0xff, 0),
	OP(WRITE_6, 0, scsi_sbc_write, 6, 0x0a, 0x1f, 0xff, 0xff, 0xff, 0),
	OP(INQUIRY, ANY_STATE | OP_NO_LU, scsi_spc_inquiry, 6, 0x12, 0x01, 0xff, 0xff, 0xff, 0),
	OP(MODE_SELECT_6, OP_SANITIZE_FAILED_OK, scsi_spc_mode_select,
	   6, 0x15, 0x11, 0, 0, 0xff, 0),
	OP(RESERVE_6, OP_SANITIZE_FAILED_OK, scsi_reserve, 6, 0x16, 0, 0, 0, 0, 0),
	OP(RELEASE_6, OP_RESERVED_OK | OP_SANITIZE_FAILED_OK, scsi_release, 6, 0x17, 0, 0, 0, 0, 0),
	OP(MODE_SENSE_6, OP_SANITIZE_FAILED_OK | OP_PR_READ, scsi_spc_mode_sense,
	   6, 0x1a, 0x08, 0xff, 0xff, 0xff, 0),
	OP(START_STOP_UNIT, OP_SANITIZE_FAILED_OK, scsi_finish, 6, 0x1b, 0x01, 0, 0x0f, 0xf7, 0),
	OP(PREVENT_ALLOW_MEDIUM_REMOVAL, 0, scsi_finish, 6, 0x1e, 0, 0, 0, 0x03, 0),
	OP(READ_CAPACITY_10, OP_SANITIZE_FAILED_OK | OP_PR_ALWAYS, scsi_sbc_read_capacity10,
	   10, 0x25, 0, U4, 0, 0, 0x01, 0),
	OP(READ_10, OP_PR_READ, scsi_sbc_read, 10, 0x28, 0x18, U4, 0, 0xff, 0xff, 0),
	OP(WRITE_10, 0, scsi_sbc_write, 10, 0x2a, 0x18, U4, 0, 0xff, 0xff, 0),
	OP(WRITE_VERIFY_10, 0, scsi_sbc_write, 10, 0x2e, 0x12, U4, 0, 0xff, 0xff, 0),
	OP(VERIFY_10, OP_PR_READ, scsi_sbc_verify, 10, 0x2f, 0x16, U4, 0, 0xff, 0xff, 0),
	OP(PRE_FETCH_10, OP_PR_READ, scsi_sbc_prefetch, 10, 0x34, 0x02, U4, 0, 0xff, 0xff, 0),
	OP(SYNCHRONIZE_CACHE_10, 0, scsi_sbc_sync_cache, 10, 0x35, 0x02, U4, 0, 0xff, 0xff, 0),
	OP(READ_DEFECT_DATA_10, OP_PR_READ, scsi_sbc_read_defect_data,
	   10, 0x37, 0, 0x1f, 0, 0, 0, 0, 0xff, 0xff, 0),
	OP(WRITE_SAME_10, 0, scsi_sbc_write_same, 10, 0x41, 0x08, U4, 0, 0xff, 0xff, 0),
	OP(UNMAP, 0, scsi_sbc_unmap, 10, 0x42, 0, 0, 0, 0, 0, 0, 0xff, 0xff, 0),
	/* SANITIZE: AUSE and the service action; IMMED is refused (scsi_sanitize.c); the
	 * erases need a store that can unmap */
	SA(SANITIZE, SANITIZE_OVERWRITE, OP_SANITIZE_FAILED_OK, scsi_sanitize,
	   10, 0x48, 0x3f, 0, 0, 0, 0, 0, 0xff, 0xff, 0),
	SA(SANITIZE, SANITIZE_BLOCK_ERASE, OP_SANITIZE_FAILED_OK | OP_THIN, scsi_sanitize,
	   10, 0x48, 0x3f, 0, 0, 0, 0, 0, 0xff, 0xff, 0),
	SA(SANITIZE, SANITIZE_CRYPTO_ERASE, OP_SANITIZE_FAILED_OK | OP_THIN, scsi_sanitize,
	   10, 0x48, 0x3f, 0, 0, 0, 0, 0, 0xff, 0xff, 0),
	SA(SANITIZE, SANITIZE_EXIT_FAILURE_MODE, OP_SANITIZE_FAILED_OK, scsi_sanitize,
	   10, 0x48, 0x3f, 0, 0, 0, 0, 0, 0xff, 0xff, 0),
	OTHER_SA(SANITIZE, OP_SANITIZE_FAILED_OK, scsi_sanitize),
	OP(MODE_SELECT_10, OP_SANITIZE_FAILED_OK, scsi_spc_mode_select,
	   10, 0x55, 0x11, 0, 0, 0, 0, 0, 0xff, 0xff, 0),
	OP(RESERVE_10, OP_SANITIZE_FAILED_OK, scsi_reserve, 10, 0x56, 0, 0, 0, 0, 0, 0, 0, 0, 0),
	OP(RELEASE_10, OP_RESERVED_OK | OP_SANITIZE_FAILED_OK, scsi_release,
	   10, 0x57, 0, 0, 0, 0, 0, 0, 0, 0, 0),
	OP(MODE_SENSE_10, OP_SANITIZE_FAILED_OK | OP_PR_READ, scsi_spc_mode_sense,
	   10, 0x5a, 0x18, 0xff, 0xff, 0, 0, 0, 0xff, 0xff, 0),
	SA(PERSISTENT_RESERVE_IN, 0, PR_CMD, scsi_pr_in, 10, 0x5e, 0x1f, 0, 0, 0, 0, 0, 0xff, 0xff, 0),
	SA(PERSISTENT_RESERVE_IN, 1, PR_CMD, scsi_pr_in, 10, 0x5e, 0x1f, 0, 0, 0, 0, 0, 0xff, 0xff, 0),
	SA(PERSISTENT_RESERVE_IN, 2, PR_CMD, scsi_pr_in, 10, 0x5e, 0x1f, 0, 0, 0, 0, 0, 0xff, 0xff, 0),
	SA(PERSISTENT_RESERVE_IN, 3, PR_CMD, scsi_pr_in, 10, 0x5e, 0x1f, 0, 0, 0, 0, 0, 0xff, 0xff, 0),
	OTHER_SA(PERSISTENT_RESERVE_IN, PR_CMD, scsi_pr_in),
	SA(PERSISTENT_RESERVE_OUT, 0, PR_CMD, scsi_pr_out, 10, 0x5f, 0x1f, 0xff, 0, 0, U4, 0),
	SA(PERSISTENT_RESERVE_OUT, 1, PR_CMD, scsi_pr_out, 10, 0x5f, 0x1f, 0xff, 0, 0, U4, 0),
	SA(PERSISTENT_RESERVE_OUT, 2, PR_CMD, scsi_pr_out, 10, 0x5f, 0x1f, 0xff, 0, 0, U4, 0),
	SA(PERSISTENT_RESERVE_OUT, 3, PR_CMD, scsi_pr_out, 10, 0x5f, 0x1f, 0xff, 0, 0, U4, 0),
	SA(PERSISTENT_RESERVE_OUT, 4, PR_CMD, scsi_pr_out, 10, 0x5f, 0x1f, 0xff, 0, 0, U4, 0),
	SA(PERSISTENT_RESERVE_OUT, 5, PR_CMD, scsi_pr_out, 10, 0x5f, 0x1f, 0xff, 0, 0, U4, 0),
	SA(PERSISTENT_RESERVE_OUT, 6, PR_CMD, scsi_pr_out, 10, 0x5f, 0x1f, 0xff, 0, 0, U4, 0),
	OTHER_SA(PERSISTENT_RESERVE_OUT, PR_CMD, scsi_pr_out),
	SA(EXTENDED_COPY, XCOPY_LID1, 0, scsi_xcopy,
	   16, 0x83, 0x1f, 0, 0, 0, 0, 0, 0, 0, 0, U4, 0, 0),
	OTHER_SA(EXTENDED_COPY, 0, scsi_xcopy),
	SA(RECEIVE_COPY_RESULTS, RCR_COPY_STATUS, OP_SANITIZE_FAILED_OK | OP_PR_READ,
	   scsi_receive_copy_results, 16, 0x84, 0x1f, 0xff, 0, 0, 0, 0, 0, 0, 0, U4, 0, 0),
	SA(RECEIVE_COPY_RESULTS, RCR_OPERATING_PARAMETERS, OP_SANITIZE_FAILED_OK | OP_PR_READ,
	   scsi_receive_copy_results, 16, 0x84, 0x1f, 0, 0, 0, 0, 0, 0, 0, 0, U4, 0, 0),
	OTHER_SA(RECEIVE_COPY_RESULTS, OP_SANITIZE_FAILED_OK | OP_PR_READ,
		 scsi_receive_copy_results),
	OP(READ_16, OP_PR_READ, scsi_sbc_read, 16, 0x88, 0x18, U8, U4, 0, 0),
	OP(COMPARE_AND_WRITE, 0, scsi_sbc_compare_and_write,
	   16, 0x89, 0x18, U8, 0, 0, 0, 0xff, 0, 0),
	OP(WRITE_16, 0, scsi_sbc_write, 16, 0x8a, 0x18, U8, U4, 0, 0),
	OP(ORWRITE_16, 0, scsi_sbc_orwrite, 16, 0x8b, 0x18, U8, U4, 0, 0),
	OP(WRITE_VERIFY_16, 0, scsi_sbc_write, 16, 0x8e, 0x12, U8, U4, 0, 0),
	OP(VERIFY_16, OP_PR_READ, scsi_sbc_verify, 16, 0x8f, 0x16, U8, U4, 0, 0),
	OP(PRE_FETCH_16, OP_PR_READ, scsi_sbc_prefetch, 16, 0x90, 0x02, U8, U4, 0, 0),
	OP(SYNCHRONIZE_CACHE_16, 0, scsi_sbc_sync_cache, 16, 0x91, 0x02, U8, U4, 0, 0),
	OP(WRITE_SAME_16, 0, scsi_sbc_write_same, 16, 0x93, 0x09, U8, U4, 0, 0),
	/* READ CAPACITY (16) passes where READ CAPACITY (10) does */
	SA(SERVICE_ACTION_IN_16, SAI_READ_CAPACITY_16,
	   OP_SANITIZE_FAILED_OK | OP_PR_ALWAYS | OP_PR_READ, scsi_sbc_read_capacity16,
	   16, 0x9e, 0x1f, 0, 0, 0, 0, 0, 0, 0, 0, U4, 0, 0),
	SA(SERVICE_ACTION_IN_16, SAI_GET_LBA_STATUS, OP_PR_READ, scsi_sbc_get_lba_status,
	   16, 0x9e, 0x1f, U8, U4, 0, 0),
	OTHER_SA(SERVICE_ACTION_IN_16, OP_PR_READ, invalid_service_action),
	OP(REPORT_LUNS, ANY_STATE | OP_NO_LU, scsi_spc_report_luns,
	   12, 0xa0, 0, 0xff, 0, 0, 0, U4, 0, 0),
	SA(MAINTENANCE_IN, MI_REPORT_SUPPORTED_OPCODES, PR_CMD, report_opcodes,
	   12, 0xa3, 0x1f, 0x87, 0xff, 0xff, 0xff, U4, 0, 0),
	OTHER_SA(MAINTENANCE_IN, PR_CMD, invalid_opcode),
	OP(READ_12, OP_PR_READ, scsi_sbc_read, 12, 0xa8, 0x18, U4, U4, 0, 0),
	OP(WRITE_12, 0, scsi_sbc_write, 12, 0xaa, 0x18, U4, U4, 0, 0),
	OP(WRITE_VERIFY_12, 0, scsi_sbc_write, 12, 0xae, 0x12, U4, U4, 0, 0),
	OP(VERIFY_12, OP_PR_READ, scsi_sbc_verify, 12, 0xaf, 0x16, U4, U4, 0, 0),
	OP(READ_DEFECT_DATA_12, OP_PR_READ, scsi_sbc_read_defect_data,
	   12, 0xb7, 0x1f, 0, 0, 0, 0, U4, 0, 0),
};
const unsigned scsi_ops_count = sizeof(scsi_ops) / sizeof(scsi_ops[0]);
#undef U4
#undef U8
#undef OP
#undef SA
#undef OTHER_SA

/* What an opcode the table does not know meets: no rule lets it through. */
static const struct scsi_op unknown_op = { 0, 0, 0, 0, 0, { 0 }, invalid_opcode };

/* See scsi_cdb.h. A binary search: this runs for every command. */
const struct scsi_op *scsi_op_find(const uint8_t *cdb)
{
	unsigned lo = 0, hi = scsi_ops_count;
	uint8_t sa = cdb[1] & 0x1f;

	while (lo < hi) {
		unsigned mid = lo + (hi - lo) / 2;

		if (scsi_ops[mid].op < cdb[0])
			lo = mid + 1;
		else
			hi = mid;
	}
	for (unsigned i = lo; i < scsi_ops_count && scsi_ops[i].op == cdb[0]; i++) {
		const struct scsi_op *o = &scsi_ops[i];

		if (!o->has_sa || o->sa == sa || (o->flags & OP_OTHER_SA))
			return o;
	}
	return &unknown_op;
}

/* Whether the row is reported to lu: a row of its own, and what the command needs (an
 * UNMAP-capable store for the erases). */
static int lu_offers(const struct scsi_lu *lu, const struct scsi_op *o)
{
	return !(o->flags & OP_OTHER_SA) && (!(o->flags & OP_THIN) || lu->st->thin);
}

/* The index of the row REPORT SUPPORTED OPERATION CODES reports for op and sa, or -1;
 * *has_sa tells whether op has service actions. */
static int opcode_supported(const struct scsi_lu *lu, uint8_t op, uint16_t sa, int *has_sa)
{
	*has_sa = 0;
	for (unsigned i = 0; i < scsi_ops_count; i++) {
		if (scsi_ops[i].op != op || !lu_offers(lu, &scsi_ops[i]))
			continue;
		*has_sa = scsi_ops[i].has_sa;
		if (!scsi_ops[i].has_sa || scsi_ops[i].sa == sa)
			return (int)i;
	}
	return -1;
}

static uint32_t put_timeouts(uint8_t *b)
{
	memset(b, 0, 12);
	put_be16(b, 0x0a);
	put_be32(b + 4, 30);	/* nominal: seconds */
	put_be32(b + 8, 60);	/* recommended */
	return 12;
}

/* REPORT SUPPORTED OPERATION CODES (SPC-4 6.35): this table, as the LU offers it. Here, with
 * the table, so the table's file and a command's file do not call each other. */
static void report_opcodes(struct scsi_task *t)
{
	uint8_t *cdb = t->cdb, *b;
	int rctd = cdb[2] & 0x80, opts = cdb[2] & 0x07, has_sa, i;
	uint8_t op = cdb[3];
	uint16_t sa = get_be16(cdb + 4);
	uint32_t alloc = get_be32(cdb + 6), off;

	if (opts == 0) {
		uint32_t per = 8 + (rctd ? 12 : 0);

		if (scsi_alloc_in(t, 4 + per * scsi_ops_count) < 0)
			goto out;
		off = 4;
		for (unsigned k = 0; k < scsi_ops_count; k++) {
			const struct scsi_op *o = &scsi_ops[k];

			if (!lu_offers(t->lu, o))
				continue;
			b = t->in + off;
			b[0] = o->op;
			put_be16(b + 2, o->sa);
			b[5] = (uint8_t)((rctd ? 0x02 : 0) | (o->has_sa ? 0x01 : 0));
			put_be16(b + 6, o->len);
			off += 8;
			if (rctd)
				off += put_timeouts(t->in + off);
		}
		put_be32(t->in, off - 4);
		t->in_len = off;
		goto trunc;
	}
	/* a bad REPORTING OPTIONS gets the field pointer to it (byte 2, bits 2..0): without
	 * one, initiators take INVALID FIELD IN CDB for a MAINTENANCE IN we do not offer */
	if (opts > 3) {
		scsi_sense_field(t, ASC_INVALID_FIELD_CDB, 1, 2, 2);
		goto out;
	}
	i = opcode_supported(t->lu, op, sa, &has_sa);
	if ((opts == 1 && has_sa) || (opts == 2 && i >= 0 && !has_sa)) {
		scsi_sense_field(t, ASC_INVALID_FIELD_CDB, 1, 2, 2);
		goto out;
	}
	if (opts == 2 && i < 0 && !has_sa) {
		/* an opcode without service actions asked with one: only if we know it */
		for (unsigned k = 0; k < scsi_ops_count; k++)
			if (scsi_ops[k].op == op) {
				scsi_sense_field(t, ASC_INVALID_FIELD_CDB, 1, 2, 2);
				goto out;
			}
	}
	if (scsi_alloc_in(t, 4 + 16 + 12) < 0)
		goto out;
	b = t->in;
	if (i < 0) {
		b[1] = 0x01;	/* not supported */
		t->in_len = 4;
		goto trunc;
	}
	b[1] = (uint8_t)((rctd ? 0x80 : 0) | 0x03);	/* supported as the standard says */
	put_be16(b + 2, scsi_ops[i].len);
	memcpy(b + 4, scsi_ops[i].usage, scsi_ops[i].len);
	off = 4 + scsi_ops[i].len;
	if (rctd)
		off += put_timeouts(b + off);
	t->in_len = off;
trunc:
	scsi_in_truncate(t, alloc);
out:
	scsi_finish(t);
}
