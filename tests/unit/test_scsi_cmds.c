/* SCSI layer over an in-memory store: CDB decoding, sense for bad requests, data round trips,
 * COMPARE AND WRITE, reservations, and the identity VPD pages derived from the LU's name. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "vdisk-server/iscsi/iscsi_proto.h"
#include "vdisk-server/scsi/scsi.h"
#include "vdisk-server/scsi/scsi_cdb.h"
#include "tests/lib/tap.h"

#define NBLK 2048u

struct mem_store {
	struct store st;
	uint8_t *data;
	struct store_req *queue;	/* completed by drain(), never inside submit */
	int fail_next;
	unsigned last_write_flags;
};

static int mem_submit(struct store *st, struct store_req *req)
{
	struct mem_store *m = (struct mem_store *)st;
	uint8_t *p = m->data + req->offset;

	if (m->fail_next) {
		req->result = -m->fail_next;
		m->fail_next = 0;
	} else if (req->op == STORE_OP_READ) {
		memcpy(req->iov[0].iov_base, p, req->length);
		req->result = 0;
	} else if (req->op == STORE_OP_WRITE) {
		memcpy(p, req->iov[0].iov_base, req->length);
		m->last_write_flags = req->flags;
		req->result = 0;
	} else if (req->op == STORE_OP_UNMAP) {
		memset(p, 0, req->length);
		req->result = 0;
	} else {
		req->result = 0;
	}
	req->next = m->queue;
	m->queue = req;
	return 0;
}

static void mem_close(struct store *st)
{
	(void)st;
}

static const struct store_ops mem_ops = { .submit = mem_submit, .close = mem_close };
static struct mem_store mem;
static struct scsi_target target;
static struct scsi_lu lu;
static struct scsi_nexus nexus_a = { .id = 1, .port = "iqn.a,i,0x01" };
static struct scsi_nexus nexus_b = { .id = 2, .port = "iqn.b,i,0x02" };
static int done_calls;

static void drain(void)
{
	while (mem.queue) {
		struct store_req *r = mem.queue;

		mem.queue = r->next;
		r->done(r);
	}
}

static void on_done(struct scsi_task *t)
{
	(void)t;
	done_calls++;
}

/* Runs cdb (len bytes) with optional Data-Out; returns the task for inspection. */
static struct scsi_task *run(struct scsi_nexus *nx, uint64_t lun, const uint8_t *cdb,
			     size_t len, uint8_t *out, uint32_t out_len, uint32_t edtl)
{
	static struct scsi_task t;

	scsi_task_release(&t);
	memset(&t, 0, sizeof(t));
	memcpy(t.cdb, cdb, len);
	t.target = &target;
	t.lun = lun;
	t.nexus = nx;
	t.out = out;
	t.out_len = out_len;
	t.edtl = edtl;
	t.done = on_done;
	done_calls = 0;
	scsi_execute(&t);
	drain();
	return &t;
}

static int sense_is(const struct scsi_task *t, uint8_t key, uint8_t asc, uint8_t ascq)
{
	return t->status == SAM_STAT_CHECK_CONDITION && (t->sense[2] & 0x0f) == key &&
	       t->sense[12] == asc && t->sense[13] == ascq;
}

static struct scsi_task *rw10(uint8_t op, uint32_t lba, uint16_t n, uint8_t *buf)
{
	uint8_t cdb[10] = { op };

	put_be32(cdb + 2, lba);
	put_be16(cdb + 7, n);
	return run(&nexus_a, 0, cdb, 10, buf, buf ? n * 512u : 0, n * 512u);
}

int main(void)
{
	static uint8_t buf[8 * 512], two[2 * 512];
	struct scsi_task *t;
	struct scsi_lu other;
	uint8_t cdb[16];

	mem.st.ops = &mem_ops;
	mem.st.size = NBLK * 512ull;
	mem.data = calloc(NBLK, 512);
	is_int(scsi_lu_init(&lu, &mem.st, "iqn.2026-11.lan.vdisk:t/0"), 0, "LU set up");
	target.lu[0] = &lu;
	target.nlu = 1;

	/* identity: derived from the name alone */
	scsi_lu_init(&other, &mem.st, "iqn.2026-11.lan.vdisk:t/0");
	ok(memcmp(other.naa, lu.naa, 16) == 0 && strcmp(other.serial, lu.serial) == 0,
	   "same identity, same NAA and serial");
	scsi_lu_init(&other, &mem.st, "iqn.2026-11.lan.vdisk:t/1");
	ok(memcmp(other.naa, lu.naa, 16) != 0, "another LU, another NAA");
	is_int(lu.naa[0] >> 4, 6, "NAA type 6");

	memset(cdb, 0, sizeof(cdb));
	cdb[0] = INQUIRY;
	cdb[1] = 1;
	cdb[2] = 0x83;
	put_be16(cdb + 3, 255);
	t = run(&nexus_a, 0, cdb, 6, NULL, 0, 255);
	ok(t->status == SAM_STAT_GOOD && done_calls == 1, "INQUIRY VPD 83");
	ok(t->in_len > 24 && memcmp(t->in + 8, lu.naa, 16) == 0, "VPD 83 carries the NAA");
	cdb[2] = 0x42;
	t = run(&nexus_a, 0, cdb, 6, NULL, 0, 255);
	ok(sense_is(t, SENSE_ILLEGAL_REQUEST, ASC_INVALID_FIELD_CDB, 0), "unknown VPD page");
	t = run(&nexus_a, 5, cdb, 6, NULL, 0, 255);
	ok(sense_is(t, SENSE_ILLEGAL_REQUEST, ASC_LUN_NOT_SUPPORTED, 0), "no LU at LUN 5");
	cdb[1] = 0;
	cdb[2] = 0;
	t = run(&nexus_a, 5, cdb, 6, NULL, 0, 255);
	ok(t->status == SAM_STAT_GOOD && t->in[0] == 0x7f, "standard INQUIRY of a missing LU");

	memset(cdb, 0, sizeof(cdb));
	cdb[0] = READ_CAPACITY_10;
	t = run(&nexus_a, 0, cdb, 10, NULL, 0, 8);
	is_int(get_be32(t->in), NBLK - 1, "READ CAPACITY(10) last LBA");
	is_int(get_be32(t->in + 4), 512, "block length");

	/* data round trip */
	memset(buf, 0xab, sizeof(buf));
	t = rw10(WRITE_10, 100, 8, buf);
	is_int(t->status, SAM_STAT_GOOD, "WRITE(10) of 8 blocks");
	memset(buf, 0, sizeof(buf));
	t = rw10(READ_10, 100, 8, NULL);
	ok(t->status == SAM_STAT_GOOD && t->in_len == 4096 && t->in[0] == 0xab &&
	   t->in[4095] == 0xab, "READ(10) returns it");
	t = rw10(READ_10, NBLK - 4, 8, NULL);
	ok(sense_is(t, SENSE_ILLEGAL_REQUEST, ASC_LBA_OUT_OF_RANGE, 0), "read past the end");
	t = rw10(READ_10, 0xffffffff, 1, NULL);
	ok(sense_is(t, SENSE_ILLEGAL_REQUEST, ASC_LBA_OUT_OF_RANGE, 0), "LBA 2^32-1");
	memset(cdb, 0, sizeof(cdb));
	cdb[0] = READ_16;
	put_be64(cdb + 2, UINT64_MAX);
	put_be32(cdb + 10, 2);
	t = run(&nexus_a, 0, cdb, 16, NULL, 0, 1024);
	ok(sense_is(t, SENSE_ILLEGAL_REQUEST, ASC_LBA_OUT_OF_RANGE, 0),
	   "READ(16) at 2^64-1 does not wrap");
	cdb[0] = 0xc5;
	t = run(&nexus_a, 0, cdb, 16, NULL, 0, 0);
	ok(sense_is(t, SENSE_ILLEGAL_REQUEST, ASC_INVALID_OPCODE, 0), "unknown opcode");

	mem.fail_next = ENOSPC;
	t = rw10(WRITE_10, 0, 1, buf);
	ok(sense_is(t, SENSE_DATA_PROTECT, ASC_WRITE_PROTECTED, 0x07),
	   "out of space: SPACE ALLOCATION FAILED WRITE PROTECT");
	mem.fail_next = EIO;
	t = rw10(READ_10, 0, 1, NULL);
	ok(sense_is(t, SENSE_MEDIUM_ERROR, 0x11, 0), "I/O error on read: MEDIUM ERROR");

	/* write with less Data-Out than the CDB asks: whole blocks only */
	memset(buf, 0xcd, sizeof(buf));
	memset(cdb, 0, sizeof(cdb));
	cdb[0] = WRITE_10;
	put_be32(cdb + 2, 200);
	put_be16(cdb + 7, 2);
	t = run(&nexus_a, 0, cdb, 10, buf, 512, 512);
	ok(t->status == SAM_STAT_GOOD && t->out_want == 1024, "short Data-Out: GOOD, 1024 wanted");
	ok(mem.data[200 * 512] == 0xcd && mem.data[201 * 512] == 0, "only the block that came");

	/* COMPARE AND WRITE */
	memset(two, 0xab, 512);
	memset(two + 512, 0x11, 512);
	memset(cdb, 0, sizeof(cdb));
	cdb[0] = COMPARE_AND_WRITE;
	put_be64(cdb + 2, 100);
	cdb[13] = 1;
	t = run(&nexus_a, 0, cdb, 16, two, 1024, 1024);
	ok(t->status == SAM_STAT_GOOD && mem.data[100 * 512] == 0x11, "CAW match writes");
	t = run(&nexus_a, 0, cdb, 16, two, 1024, 1024);
	ok(sense_is(t, SENSE_MISCOMPARE, ASC_MISCOMPARE, 0), "CAW mismatch: MISCOMPARE");
	ok(t->sense[0] & 0x80 && get_be32(t->sense + 3) == 0, "offset of the first difference");

	/* RESERVE(6) from A blocks B */
	memset(cdb, 0, sizeof(cdb));
	cdb[0] = RESERVE_6;
	t = run(&nexus_a, 0, cdb, 6, NULL, 0, 0);
	is_int(t->status, SAM_STAT_GOOD, "RESERVE(6) by A");
	t = rw10(READ_10, 0, 1, NULL);
	is_int(t->status, SAM_STAT_GOOD, "A still reads");
	cdb[0] = TEST_UNIT_READY;
	t = run(&nexus_b, 0, cdb, 6, NULL, 0, 0);
	is_int(t->status, SAM_STAT_RESERVATION_CONFLICT, "B conflicts");
	scsi_nexus_gone(&lu, &nexus_a);
	t = run(&nexus_b, 0, cdb, 6, NULL, 0, 0);
	is_int(t->status, SAM_STAT_GOOD, "A's session ended: B runs");

	/* PERSISTENT RESERVE: A registers and takes Write Exclusive; B may read, not write */
	{
		uint8_t param[24] = { 0 };

		memset(cdb, 0, sizeof(cdb));
		cdb[0] = PERSISTENT_RESERVE_OUT;
		cdb[1] = 0;		/* REGISTER */
		put_be32(cdb + 5, 24);
		put_be64(param + 8, 0x1234);
		t = run(&nexus_a, 0, cdb, 10, param, 24, 24);
		is_int(t->status, SAM_STAT_GOOD, "PR REGISTER");
		cdb[1] = 1;		/* RESERVE */
		cdb[2] = 1;		/* Write Exclusive */
		put_be64(param, 0x1234);
		put_be64(param + 8, 0);
		t = run(&nexus_a, 0, cdb, 10, param, 24, 24);
		is_int(t->status, SAM_STAT_GOOD, "PR RESERVE Write Exclusive");
		memset(cdb, 0, sizeof(cdb));
		cdb[0] = READ_10;
		put_be16(cdb + 7, 1);
		t = run(&nexus_b, 0, cdb, 10, NULL, 0, 512);
		is_int(t->status, SAM_STAT_GOOD, "B reads under Write Exclusive");
		cdb[0] = WRITE_10;
		t = run(&nexus_b, 0, cdb, 10, buf, 512, 512);
		is_int(t->status, SAM_STAT_RESERVATION_CONFLICT, "B's write conflicts");
		memset(cdb, 0, sizeof(cdb));
		cdb[0] = PERSISTENT_RESERVE_IN;
		cdb[1] = 0;		/* READ KEYS */
		put_be16(cdb + 7, 64);
		t = run(&nexus_b, 0, cdb, 10, NULL, 0, 64);
		ok(t->status == SAM_STAT_GOOD && get_be32(t->in + 4) == 8 &&
		   get_be64(t->in + 8) == 0x1234, "READ KEYS lists A's key");
		memset(cdb, 0, sizeof(cdb));
		cdb[0] = PERSISTENT_RESERVE_OUT;
		cdb[1] = 3;		/* CLEAR */
		put_be32(cdb + 5, 24);
		put_be64(param, 0x9999);
		t = run(&nexus_a, 0, cdb, 10, param, 24, 24);
		is_int(t->status, SAM_STAT_RESERVATION_CONFLICT, "CLEAR with a wrong key conflicts");
		put_be64(param, 0x1234);
		t = run(&nexus_a, 0, cdb, 10, param, 24, 24);
		is_int(t->status, SAM_STAT_GOOD, "CLEAR with the key");
		put_be32(cdb + 5, 23);
		t = run(&nexus_a, 0, cdb, 10, param, 24, 24);
		ok(sense_is(t, SENSE_ILLEGAL_REQUEST, ASC_PARAM_LIST_LENGTH, 0),
		   "parameter list of 23 bytes");
	}

	/* REPORT LUNS allocation length below 16 */
	memset(cdb, 0, sizeof(cdb));
	cdb[0] = REPORT_LUNS;
	put_be32(cdb + 6, 15);
	t = run(&nexus_a, 0, cdb, 12, NULL, 0, 15);
	ok(sense_is(t, SENSE_ILLEGAL_REQUEST, ASC_INVALID_FIELD_CDB, 0), "REPORT LUNS alloc 15");
	put_be32(cdb + 6, 64);
	t = run(&nexus_a, 0, cdb, 12, NULL, 0, 64);
	ok(t->status == SAM_STAT_GOOD && get_be32(t->in) == 8, "REPORT LUNS lists one LUN");

	/* LUN reset releases RESERVE(6) */
	memset(cdb, 0, sizeof(cdb));
	cdb[0] = RESERVE_6;
	t = run(&nexus_a, 0, cdb, 6, NULL, 0, 0);
	is_int(t->status, SAM_STAT_GOOD, "RESERVE(6) by A again");
	scsi_lu_reset(&lu);
	cdb[0] = TEST_UNIT_READY;
	t = run(&nexus_b, 0, cdb, 6, NULL, 0, 0);
	is_int(t->status, SAM_STAT_GOOD, "LUN reset released it");

	/* Write cache: on by default (FUA and SYNCHRONIZE CACHE make writes durable); once an
	 * initiator turns it off by MODE SELECT, every write reaches the store as FUA. */
	{
		static uint8_t sense6[255], sel[64];
		uint8_t ms[6] = { MODE_SENSE_6, 0, 0x08, 0, sizeof(sense6), 0 };
		uint8_t msel[6] = { MODE_SELECT_6, 0x10, 0, 0, 0, 0 };
		uint32_t bd, plen;

		memset(buf, 0x5a, 512);
		rw10(WRITE_10, 7, 1, buf);
		ok(!(mem.last_write_flags & STORE_FUA), "WCE on: a plain WRITE(10) is not FUA");
		t = run(&nexus_a, 0, ms, 6, NULL, 0, sizeof(sense6));
		memcpy(sense6, t->in ? t->in : sense6, sizeof(sense6));
		bd = sense6[3];
		ok(t->status == SAM_STAT_GOOD && (sense6[4 + bd] & 0x3f) == 0x08 &&
		   (sense6[4 + bd + 2] & 0x04), "MODE SENSE: caching page reports WCE 1");
		plen = 4 + 2u + sense6[4 + bd + 1];
		memset(sel, 0, 4);
		memcpy(sel + 4, sense6 + 4 + bd, plen - 4);
		sel[4] &= 0x3f;			/* PS is reserved in MODE SELECT */
		sel[4 + 2] &= (uint8_t)~0x04;	/* WCE off */
		msel[4] = (uint8_t)plen;
		t = run(&nexus_a, 0, msel, 6, sel, plen, plen);
		is_int(t->status, SAM_STAT_GOOD, "MODE SELECT turns the write cache off");
		rw10(WRITE_10, 7, 1, buf);
		ok(mem.last_write_flags & STORE_FUA, "WCE off: every WRITE(10) reaches the store as FUA");
	}
	scsi_task_release(t);
	scsi_lu_fini(&lu);
	free(mem.data);
	return done_testing();
}
