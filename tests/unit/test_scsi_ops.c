/* The SCSI opcode table: its shape (sorted, one catch-all row per service-action opcode,
 * usage data that matches the row), the lookup every command goes through, and the rules it
 * holds, as a table of opcode -> expected verdicts taken from the standards' lists. */
#include "vdisk-server/scsi/scsi.h"
#include "vdisk-server/scsi/scsi_cdb.h"
#include "tests/lib/tap.h"

static unsigned cdb_group_len(uint8_t op)
{
	static const unsigned len[8] = { 6, 10, 10, 0, 16, 12, 0, 0 };

	return len[op >> 5];
}

static void table_shape(void)
{
	int sorted = 1, lens = 1, runs = 1, catch_all = 1;

	for (unsigned i = 0; i < scsi_ops_count; i++) {
		const struct scsi_op *o = &scsi_ops[i], *n = i + 1 < scsi_ops_count ? o + 1 : NULL;
		int last_of_op = !n || n->op != o->op;

		if (n && (n->op < o->op || (n->op == o->op && !(n->flags & OP_OTHER_SA) &&
					     n->sa <= o->sa)))
			sorted = 0;
		if (!o->run)
			runs = 0;
		if (!(o->flags & OP_OTHER_SA) &&
		    (o->len != cdb_group_len(o->op) || o->usage[0] != o->op))
			lens = 0;
		/* an opcode with service actions ends with its catch-all row, and only it */
		if (o->has_sa && last_of_op != !!(o->flags & OP_OTHER_SA))
			catch_all = 0;
		if (!o->has_sa && (o->flags & OP_OTHER_SA))
			catch_all = 0;
	}
	ok(sorted, "rows are sorted by opcode, then service action");
	ok(runs, "every row has a handler");
	ok(lens, "every reported row's CDB length and usage data match its opcode");
	ok(catch_all, "every service-action opcode ends with one catch-all row");
}

static const struct scsi_op *find(uint8_t op, uint8_t sa)
{
	uint8_t cdb[16] = { op, sa };

	return scsi_op_find(cdb);
}

static void lookup(void)
{
	int every = 1;

	for (unsigned i = 0; i < scsi_ops_count; i++) {
		const struct scsi_op *o = &scsi_ops[i];

		if (!(o->flags & OP_OTHER_SA) && find(o->op, (uint8_t)o->sa) != o)
			every = 0;
	}
	ok(every, "scsi_op_find returns each row for its own CDB");
	ok(find(0x02, 0)->flags == 0 && find(0x02, 0)->run, "an unknown opcode: no rule passes it");
	ok(find(0xff, 0)->flags == 0, "the last opcode (FFh) is unknown");
	ok(find(SERVICE_ACTION_IN_16, 0x05)->flags & OP_OTHER_SA,
	   "an unknown service action gets its opcode's catch-all row");
	ok(find(READ_10, 0x1f) == find(READ_10, 0), "an opcode without service actions ignores byte 1");
}

/* Each opcode's verdicts, one flag set per row, from SPC-2 5.5.1 (RESERVE), SBC-4 4.11.3
 * (SANITIZE), SPC-4 table 63 (persistent reservations). */
static const struct {
	uint8_t op, sa;
	unsigned flags;
} rules[] = {
	{ INQUIRY, 0, OP_NO_LU | OP_RESERVED_OK | OP_SANITIZING_OK | OP_SANITIZE_FAILED_OK |
		      OP_PR_ALWAYS },
	{ REPORT_LUNS, 0, OP_NO_LU | OP_RESERVED_OK | OP_SANITIZING_OK | OP_SANITIZE_FAILED_OK |
			  OP_PR_ALWAYS },
	{ REQUEST_SENSE, 0, OP_RESERVED_OK | OP_SANITIZING_OK | OP_SANITIZE_FAILED_OK |
			    OP_PR_ALWAYS },
	{ TEST_UNIT_READY, 0, OP_SANITIZE_FAILED_OK | OP_PR_ALWAYS },
	{ READ_CAPACITY_10, 0, OP_SANITIZE_FAILED_OK | OP_PR_ALWAYS },
	{ SERVICE_ACTION_IN_16, SAI_READ_CAPACITY_16,
	  OP_SANITIZE_FAILED_OK | OP_PR_ALWAYS | OP_PR_READ },
	{ SERVICE_ACTION_IN_16, SAI_GET_LBA_STATUS, OP_PR_READ },
	{ READ_10, 0, OP_PR_READ },
	{ VERIFY_16, 0, OP_PR_READ },
	{ MODE_SENSE_10, 0, OP_SANITIZE_FAILED_OK | OP_PR_READ },
	{ MODE_SELECT_6, 0, OP_SANITIZE_FAILED_OK },
	{ RESERVE_6, 0, OP_SANITIZE_FAILED_OK },
	{ RELEASE_10, 0, OP_RESERVED_OK | OP_SANITIZE_FAILED_OK },
	{ PERSISTENT_RESERVE_OUT, 1, OP_RESERVED_OK | OP_SANITIZE_FAILED_OK | OP_PR_ALWAYS },
	{ MAINTENANCE_IN, MI_REPORT_SUPPORTED_OPCODES,
	  OP_RESERVED_OK | OP_SANITIZE_FAILED_OK | OP_PR_ALWAYS },
	{ SANITIZE, SANITIZE_BLOCK_ERASE, OP_SANITIZE_FAILED_OK | OP_THIN },
	{ RECEIVE_COPY_RESULTS, RCR_COPY_STATUS, OP_SANITIZE_FAILED_OK | OP_PR_READ },
	{ WRITE_10, 0, 0 },
	{ WRITE_SAME_16, 0, 0 },
	{ UNMAP, 0, 0 },
	{ SYNCHRONIZE_CACHE_10, 0, 0 },
	{ COMPARE_AND_WRITE, 0, 0 },
	{ EXTENDED_COPY, XCOPY_LID1, 0 },
	{ PREVENT_ALLOW_MEDIUM_REMOVAL, 0, 0 },
};

static void rule_table(void)
{
	for (unsigned i = 0; i < sizeof(rules) / sizeof(rules[0]); i++) {
		const struct scsi_op *o = find(rules[i].op, rules[i].sa);

		is_int(o->flags, rules[i].flags, "opcode %02xh/%02xh: its rules", rules[i].op,
		       rules[i].sa);
	}
}

int main(void)
{
	table_shape();
	lookup();
	rule_table();
	return done_testing();
}
