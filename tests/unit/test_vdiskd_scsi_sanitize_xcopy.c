/* SANITIZE, EXTENDED COPY and RECEIVE COPY RESULTS over in-memory stores: what each writes,
 * what a running sanitize does to other commands, the failure mode, and the refusals of
 * malformed CDBs and parameter lists (nothing written for any of them). */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "vdisk-server/iscsi/iscsi_proto.h"
#include "vdisk-server/scsi/scsi.h"
#include "vdisk-server/scsi/scsi_cdb.h"
#include "vdisk-server/scsi/scsi_xcopy.h"
#include "tests/lib/tap.h"

#define NBLK 8192u
#define BS 512u
#define SENSE_COPY_ABORTED_KEY 0x0a

struct mem_store {
	struct store st;
	uint8_t *data;
	struct store_req *head, *tail;	/* completed by drain(), never inside submit */
	int fail_at;			/* fail the request with this number (1-based), 0: none */
	int nreq, writes, unmaps, flushes;
};

static int mem_submit(struct store *st, struct store_req *req)
{
	struct mem_store *m = (struct mem_store *)st;
	uint8_t *p = m->data + req->offset;

	req->result = 0;
	if (++m->nreq == m->fail_at)
		req->result = -EIO;
	else if (req->op == STORE_OP_READ)
		memcpy(req->iov[0].iov_base, p, req->length);
	else if (req->op == STORE_OP_WRITE)
		memcpy(p, req->iov[0].iov_base, req->length);
	else if (req->op == STORE_OP_UNMAP)
		memset(p, 0, req->length);	/* a base of zeros shows again */
	m->writes += req->op == STORE_OP_WRITE;
	m->unmaps += req->op == STORE_OP_UNMAP;
	m->flushes += req->op == STORE_OP_FLUSH;
	req->next = NULL;
	if (m->tail)
		m->tail->next = req;
	else
		m->head = req;
	m->tail = req;
	return 0;
}

static void mem_close(struct store *st)
{
	(void)st;
}

static const struct store_ops mem_ops = { .submit = mem_submit, .close = mem_close };
static struct mem_store mem0, mem1;
static struct scsi_target target;
static struct scsi_lu lu0, lu1;
static struct scsi_nexus nexus_a = { .id = 1, .port = "iqn.a,i,0x01" };
static struct scsi_nexus nexus_b = { .id = 2, .port = "iqn.b,i,0x02" };

static void mem_setup(struct mem_store *m, int thin)
{
	memset(m, 0, sizeof(*m));
	m->st.ops = &mem_ops;
	m->st.size = NBLK * (uint64_t)BS;
	m->st.thin = thin;
	m->data = calloc(NBLK, BS);
}

/* Completes one queued request of either store; 0 when none was queued. */
static int step(void)
{
	struct mem_store *ms[] = { &mem0, &mem1 };

	for (int i = 0; i < 2; i++) {
		struct store_req *r = ms[i]->head;

		if (!r)
			continue;
		ms[i]->head = r->next;
		if (!ms[i]->head)
			ms[i]->tail = NULL;
		r->done(r);
		return 1;
	}
	return 0;
}

static void drain(void)
{
	while (step())
		;
}

static void on_done(struct scsi_task *t)
{
	(void)t;
}

/* Starts cdb on t without completing its store requests. */
static void start(struct scsi_task *t, struct scsi_nexus *nx, uint64_t lun, const uint8_t *cdb,
		  size_t len, uint8_t *out, uint32_t out_len)
{
	scsi_task_release(t);
	memset(t, 0, sizeof(*t));
	memcpy(t->cdb, cdb, len);
	t->target = &target;
	t->lun = lun;
	t->nexus = nx;
	t->out = out;
	t->out_len = out_len;
	t->edtl = out_len;
	t->done = on_done;
	scsi_execute(t);
}

static struct scsi_task *run(struct scsi_nexus *nx, uint64_t lun, const uint8_t *cdb,
			     size_t len, uint8_t *out, uint32_t out_len)
{
	static struct scsi_task t;

	start(&t, nx, lun, cdb, len, out, out_len);
	drain();
	return &t;
}

/* Runs a command that needs no store request, leaving queued requests queued. */
static struct scsi_task *probe(struct scsi_nexus *nx, const uint8_t *cdb, size_t len)
{
	static struct scsi_task t;

	start(&t, nx, 0, cdb, len, NULL, 0);
	return &t;
}

static int sense_is(const struct scsi_task *t, uint8_t key, uint8_t asc, uint8_t ascq)
{
	return t->status == SAM_STAT_CHECK_CONDITION && (t->sense[2] & 0x0f) == key &&
	       t->sense[12] == asc && t->sense[13] == ascq;
}

/* ILLEGAL REQUEST with the asc and a field pointer to byte (SKSV, C/D as in_cdb). */
static int field_is(const struct scsi_task *t, uint8_t asc, int in_cdb, uint16_t byte)
{
	return sense_is(t, SENSE_ILLEGAL_REQUEST, asc, 0) && (t->sense[15] & 0x80) &&
	       !!(t->sense[15] & 0x40) == in_cdb && get_be16(t->sense + 16) == byte;
}

static struct scsi_task *sanitize(struct scsi_nexus *nx, uint8_t byte1, uint8_t *par,
				  uint16_t plen)
{
	uint8_t cdb[10] = { SANITIZE, byte1 };

	put_be16(cdb + 7, plen);
	return run(nx, 0, cdb, 10, par, plen);
}

static int all_bytes(const uint8_t *p, size_t n, uint8_t v)
{
	for (size_t i = 0; i < n; i++)
		if (p[i] != v)
			return 0;
	return 1;
}

static struct scsi_task *rsoc_one(uint64_t lun, uint8_t op, uint16_t sa)
{
	uint8_t cdb[12] = { MAINTENANCE_IN, MI_REPORT_SUPPORTED_OPCODES, 2, op };

	put_be16(cdb + 4, sa);
	put_be32(cdb + 6, 512);
	return run(&nexus_a, lun, cdb, 12, NULL, 0);
}

static void test_sanitize(void)
{
	static uint8_t par[BS + 8], before[NBLK * BS];
	uint8_t cdb[16] = { 0 };
	struct scsi_task *t, bg;

	t = rsoc_one(0, SANITIZE, SANITIZE_OVERWRITE);
	is_int(t->in[1] & 7, 3, "RSOC: OVERWRITE supported");
	t = rsoc_one(0, SANITIZE, SANITIZE_BLOCK_ERASE);
	is_int(t->in[1] & 7, 3, "RSOC: BLOCK ERASE supported on a thin LU");
	t = rsoc_one(1, SANITIZE, SANITIZE_CRYPTO_ERASE);
	is_int(t->in[1] & 7, 1, "RSOC: CRYPTO ERASE not offered where UNMAP is not");
	cdb[0] = INQUIRY;
	cdb[1] = 1;
	cdb[2] = 0xb1;
	put_be16(cdb + 3, 64);
	t = run(&nexus_a, 0, cdb, 6, NULL, 0);
	is_int(t->in[7], 0x50, "VPD B1: WABEREQ 01b, WACEREQ 01b");

	/* OVERWRITE with a 3-byte pattern: it repeats from the start of every block */
	memset(mem0.data, 0x11, NBLK * BS);
	memset(par, 0, sizeof(par));
	par[0] = 1;
	put_be16(par + 2, 3);
	par[4] = 0xde;
	par[5] = 0xad;
	par[6] = 0xbe;
	mem0.flushes = 0;
	t = sanitize(&nexus_a, SANITIZE_OVERWRITE, par, 7);
	is_int(t->status, SAM_STAT_GOOD, "OVERWRITE: GOOD");
	ok(mem0.data[0] == 0xde && mem0.data[3] == 0xde && mem0.data[510] == 0xde &&
	   mem0.data[511] == 0xad && mem0.data[512] == 0xde, "pattern from each block's start");
	ok(memcmp(mem0.data + (NBLK - 1) * BS, mem0.data, BS) == 0, "last block overwritten too");
	is_int(mem0.flushes, 1, "then flushed");

	/* two passes, inverted between them: the second leaves the inverse */
	par[0] = 0x80 | 2;
	put_be16(par + 2, 1);
	par[4] = 0x0f;
	t = sanitize(&nexus_a, SANITIZE_OVERWRITE | 0x20, par, 5);
	ok(t->status == SAM_STAT_GOOD && all_bytes(mem0.data, NBLK * BS, 0xf0),
	   "OWCOUNT 2 with INVERT: every byte inverted");

	/* malformed: sense, nothing written */
	memcpy(before, mem0.data, sizeof(before));
	mem0.writes = mem0.unmaps = 0;
	par[0] = 1;
	put_be16(par + 2, 4);
	t = sanitize(&nexus_a, SANITIZE_OVERWRITE, par, 4);
	ok(field_is(t, ASC_INVALID_FIELD_CDB, 1, 7), "OVERWRITE: parameter list of 4 bytes");
	t = sanitize(&nexus_a, SANITIZE_OVERWRITE, par, BS + 5);
	ok(field_is(t, ASC_INVALID_FIELD_CDB, 1, 7), "OVERWRITE: parameter list over block + 4");
	par[0] = 0;
	t = sanitize(&nexus_a, SANITIZE_OVERWRITE, par, 8);
	ok(field_is(t, ASC_INVALID_FIELD_PARAM, 0, 0), "OVERWRITE COUNT 0");
	par[0] = 0x21;
	t = sanitize(&nexus_a, SANITIZE_OVERWRITE, par, 8);
	ok(field_is(t, ASC_INVALID_FIELD_PARAM, 0, 0), "TEST field set");
	par[0] = 1;
	put_be16(par + 2, 0);
	t = sanitize(&nexus_a, SANITIZE_OVERWRITE, par, 8);
	ok(field_is(t, ASC_INVALID_FIELD_PARAM, 0, 2), "pattern length 0");
	put_be16(par + 2, BS + 1);
	t = sanitize(&nexus_a, SANITIZE_OVERWRITE, par, BS + 4);
	ok(field_is(t, ASC_INVALID_FIELD_PARAM, 0, 2), "pattern longer than a block");
	put_be16(par + 2, 5);
	t = sanitize(&nexus_a, SANITIZE_OVERWRITE, par, 8);
	ok(field_is(t, ASC_INVALID_FIELD_PARAM, 0, 2), "pattern longer than the list");
	put_be16(par + 2, 4);
	memset(cdb, 0, sizeof(cdb));
	cdb[0] = SANITIZE;
	cdb[1] = SANITIZE_OVERWRITE;
	put_be16(cdb + 7, 8);
	t = run(&nexus_a, 0, cdb, 10, par, 6);
	ok(sense_is(t, SENSE_ILLEGAL_REQUEST, ASC_PARAM_LIST_LENGTH, 0), "Data-Out short of the list");
	cdb[3] = 1;
	t = run(&nexus_a, 0, cdb, 10, par, 8);
	ok(field_is(t, ASC_INVALID_FIELD_CDB, 1, 3), "reserved CDB byte 3");
	t = sanitize(&nexus_a, SANITIZE_OVERWRITE | 0x40, par, 8);
	ok(field_is(t, ASC_INVALID_FIELD_CDB, 1, 1), "reserved bit in byte 1");
	t = sanitize(&nexus_a, 0x05, NULL, 0);
	ok(field_is(t, ASC_INVALID_FIELD_CDB, 1, 1), "unknown service action");
	t = sanitize(&nexus_a, SANITIZE_OVERWRITE | 0x80, par, 8);
	ok(field_is(t, ASC_INVALID_FIELD_CDB, 1, 1), "IMMED refused");
	t = sanitize(&nexus_a, SANITIZE_BLOCK_ERASE, par, 8);
	ok(field_is(t, ASC_INVALID_FIELD_CDB, 1, 7), "BLOCK ERASE with a parameter list");
	t = sanitize(&nexus_a, SANITIZE_EXIT_FAILURE_MODE, par, 8);
	ok(field_is(t, ASC_INVALID_FIELD_CDB, 1, 7), "EXIT FAILURE MODE with a parameter list");
	t = run(&nexus_a, 1, (uint8_t[10]){ SANITIZE, SANITIZE_BLOCK_ERASE }, 10, NULL, 0);
	ok(field_is(t, ASC_INVALID_FIELD_CDB, 1, 1), "BLOCK ERASE on an LU without UNMAP");
	lu0.swp = 1;
	t = sanitize(&nexus_a, SANITIZE_OVERWRITE, par, 8);
	ok(sense_is(t, SENSE_DATA_PROTECT, ASC_WRITE_PROTECTED, 0), "write protected (SWP)");
	lu0.swp = 0;
	lu0.reserved_by = nexus_b.id;
	t = sanitize(&nexus_a, SANITIZE_BLOCK_ERASE, NULL, 0);
	is_int(t->status, SAM_STAT_RESERVATION_CONFLICT, "another nexus holds RESERVE(6)");
	lu0.reserved_by = 0;
	ok(mem0.writes == 0 && mem0.unmaps == 0 && memcmp(before, mem0.data, sizeof(before)) == 0,
	   "no refused SANITIZE wrote anything");

	/* BLOCK ERASE: every block unmapped (the zero base shows), then flushed */
	mem0.flushes = 0;
	t = sanitize(&nexus_a, SANITIZE_BLOCK_ERASE, NULL, 0);
	ok(t->status == SAM_STAT_GOOD && all_bytes(mem0.data, NBLK * BS, 0) &&
	   mem0.writes == 0 && mem0.flushes == 1, "BLOCK ERASE unmaps the whole LU");
	memset(mem0.data, 0x22, NBLK * BS);
	t = sanitize(&nexus_a, SANITIZE_CRYPTO_ERASE, NULL, 0);
	ok(t->status == SAM_STAT_GOOD && all_bytes(mem0.data, NBLK * BS, 0),
	   "CRYPTO ERASE deallocates the same way");

	/* while one runs: NOT READY with progress, INQUIRY and REQUEST SENSE still answer */
	par[0] = 1;
	put_be16(par + 2, 1);
	par[4] = 0x33;
	memset(cdb, 0, sizeof(cdb));
	cdb[0] = SANITIZE;
	cdb[1] = SANITIZE_OVERWRITE;
	put_be16(cdb + 7, 5);
	memset(&bg, 0, sizeof(bg));
	start(&bg, &nexus_a, 0, cdb, 10, par, 5);
	step();
	step();
	ok(lu0.sanitizing && bg.status == SAM_STAT_GOOD, "sanitize under way");
	t = probe(&nexus_b, (uint8_t[6]){ TEST_UNIT_READY }, 6);
	ok(sense_is(t, SENSE_NOT_READY, 0x04, 0x1b) && (t->sense[15] & 0x80) &&
	   get_be16(t->sense + 16) > 0, "TEST UNIT READY: SANITIZE IN PROGRESS with progress");
	t = probe(&nexus_b, (uint8_t[16]){ READ_16, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1 }, 16);
	ok(sense_is(t, SENSE_NOT_READY, 0x04, 0x1b), "READ(16) refused too");
	t = probe(&nexus_b, (uint8_t[6]){ INQUIRY, 0, 0, 0, 96 }, 6);
	is_int(t->status, SAM_STAT_GOOD, "INQUIRY answered");
	t = probe(&nexus_b, (uint8_t[6]){ REQUEST_SENSE, 0, 0, 0, 18 }, 6);
	ok(t->status == SAM_STAT_GOOD && t->in_len == 18 && (t->in[2] & 0x0f) == SENSE_NOT_READY &&
	   t->in[12] == 0x04 && t->in[13] == 0x1b, "REQUEST SENSE reports it as data");
	drain();
	ok(!lu0.sanitizing && bg.status == SAM_STAT_GOOD && all_bytes(mem0.data, NBLK * BS, 0x33),
	   "it ends GOOD with every block written");
	t = run(&nexus_b, 0, (uint8_t[6]){ TEST_UNIT_READY }, 6, NULL, 0);
	is_int(t->status, SAM_STAT_GOOD, "ready again");

	/* a WRITE SAME of two chunks already running: the sanitize waits for its chunk in the
	 * store, the next chunk is refused, and nothing of it survives */
	{
		static struct scsi_task ws;
		static uint8_t blk[BS];
		uint8_t wcdb[16] = { WRITE_SAME_16 };

		memset(blk, 0x55, BS);
		put_be32(wcdb + 10, 4096);
		mem0.writes = 0;
		start(&ws, &nexus_b, 0, wcdb, 16, blk, BS);
		par[4] = 0x66;
		start(&bg, &nexus_a, 0, cdb, 10, par, 5);
		ok(lu0.sanitizing && lu0.sanitize_wait == &bg && mem0.writes == 1,
		   "SANITIZE waits for the request already in the store");
		drain();
		ok(sense_is(&ws, SENSE_NOT_READY, 0x04, 0x1b), "the WRITE SAME's next chunk refused");
		ok(bg.status == SAM_STAT_GOOD && !lu0.sanitize_wait &&
		   all_bytes(mem0.data, NBLK * BS, 0x66), "then it runs; nothing older survives");
		scsi_task_release(&ws);
		scsi_task_release(&bg);
	}

	/* a failure: the failure mode until leaving it is allowed (AUSE) or a sanitize works */
	mem0.nreq = 0;
	mem0.fail_at = 3;
	t = sanitize(&nexus_a, SANITIZE_OVERWRITE, par, 5);
	ok(sense_is(t, SENSE_MEDIUM_ERROR, 0x0c, 0), "write error: MEDIUM ERROR");
	mem0.fail_at = 0;
	t = run(&nexus_b, 0, (uint8_t[16]){ READ_16, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1 }, 16,
		NULL, 0);
	ok(sense_is(t, SENSE_MEDIUM_ERROR, 0x31, 0x03), "then reads get SANITIZE COMMAND FAILED");
	t = sanitize(&nexus_a, SANITIZE_EXIT_FAILURE_MODE, NULL, 0);
	ok(field_is(t, ASC_INVALID_FIELD_CDB, 1, 1), "no leaving it when AUSE was 0");
	mem0.nreq = 0;
	mem0.fail_at = 2;
	t = sanitize(&nexus_a, SANITIZE_BLOCK_ERASE | 0x20, NULL, 0);
	mem0.fail_at = 0;
	ok(t->status == SAM_STAT_CHECK_CONDITION && lu0.sanitize_failed, "a failed erase, AUSE 1");
	t = sanitize(&nexus_a, SANITIZE_EXIT_FAILURE_MODE, NULL, 0);
	is_int(t->status, SAM_STAT_GOOD, "EXIT FAILURE MODE");
	t = run(&nexus_b, 0, (uint8_t[16]){ READ_16, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1 }, 16,
		NULL, 0);
	is_int(t->status, SAM_STAT_GOOD, "reads work again");
}

/* An identification descriptor target descriptor naming lu. */
static uint8_t *put_target(uint8_t *p, const struct scsi_lu *lu, int nul)
{
	memset(p, 0, XCOPY_TARGET_LEN);
	p[0] = 0xe4;
	p[1] = nul ? 0x20 : 0;
	p[4] = 1;
	p[5] = 3;
	p[7] = 16;
	memcpy(p + 8, lu->naa, 16);
	put_be24(p + 29, BS);
	return p + XCOPY_TARGET_LEN;
}

static uint8_t *put_segment(uint8_t *p, uint16_t src, uint16_t dst, uint16_t n,
			    uint64_t src_lba, uint64_t dst_lba)
{
	memset(p, 0, XCOPY_SEGMENT_LEN);
	p[0] = 0x02;
	put_be16(p + 2, XCOPY_SEGMENT_LEN - 4);
	put_be16(p + 4, src);
	put_be16(p + 6, dst);
	put_be16(p + 10, n);
	put_be64(p + 12, src_lba);
	put_be64(p + 20, dst_lba);
	return p + XCOPY_SEGMENT_LEN;
}

static void put_header(uint8_t *p, uint8_t id, uint8_t usage, uint32_t tlen, uint32_t slen)
{
	memset(p, 0, XCOPY_HEADER_LEN);
	p[0] = id;
	p[1] = (uint8_t)(usage << 3);
	put_be16(p + 2, (uint16_t)tlen);
	put_be32(p + 8, slen);
}

static struct scsi_task *xcopy(struct scsi_nexus *nx, uint8_t *par, uint32_t plen)
{
	uint8_t cdb[16] = { EXTENDED_COPY };

	put_be32(cdb + 10, plen);
	return run(nx, 0, cdb, 16, par, plen);
}

static struct scsi_task *copy_status(struct scsi_nexus *nx, uint8_t id)
{
	uint8_t cdb[16] = { RECEIVE_COPY_RESULTS, RCR_COPY_STATUS, id };

	put_be32(cdb + 10, 64);
	return run(nx, 0, cdb, 16, NULL, 0);
}

/* A one-segment copy list: targets lu0 and lu1, segment src -> dst. */
static uint32_t one_copy(uint8_t *par, uint8_t id, uint8_t usage, uint16_t src, uint16_t dst,
			 uint16_t n, uint64_t src_lba, uint64_t dst_lba)
{
	uint8_t *p = par + XCOPY_HEADER_LEN;

	p = put_target(p, &lu0, 0);
	p = put_target(p, &lu1, 0);
	p = put_segment(p, src, dst, n, src_lba, dst_lba);
	put_header(par, id, usage, 2 * XCOPY_TARGET_LEN, XCOPY_SEGMENT_LEN);
	return (uint32_t)(p - par);
}

static void test_xcopy(void)
{
	static uint8_t par[XCOPY_MAX_PARAM_LEN + 64], before0[NBLK * BS], before1[NBLK * BS];
	uint8_t cdb[16] = { 0 };
	struct scsi_task *t;
	uint32_t plen;
	uint8_t *p;

	for (uint32_t i = 0; i < NBLK * BS; i++)
		mem0.data[i] = (uint8_t)(i / BS * 7 + i);
	memset(mem1.data, 0, NBLK * BS);

	cdb[0] = INQUIRY;
	cdb[1] = 1;
	cdb[2] = 0x8f;
	put_be16(cdb + 3, 255);
	t = run(&nexus_a, 0, cdb, 6, NULL, 0);
	ok(t->status == SAM_STAT_GOOD && t->in[1] == 0x8f && get_be16(t->in + 4) == 1 &&
	   t->in[9] == EXTENDED_COPY && t->in[12] == RECEIVE_COPY_RESULTS,
	   "VPD 8F lists EXTENDED COPY and RECEIVE COPY RESULTS");

	/* within one LU, a copy of more than one chunk */
	plen = one_copy(par, 1, XCOPY_USAGE_HOLD, 0, 0, 3000, 0, 4000);
	t = xcopy(&nexus_a, par, plen);
	ok(t->status == SAM_STAT_GOOD && memcmp(mem0.data + 4000 * BS, mem0.data, 3000 * BS) == 0,
	   "3000 blocks copied inside LU 0");
	t = copy_status(&nexus_a, 1);
	ok(t->status == SAM_STAT_GOOD && t->in[4] == 1 && get_be16(t->in + 5) == 1 &&
	   get_be32(t->in + 8) == 3000 * BS, "COPY STATUS: done, 1 segment, bytes moved");
	t = copy_status(&nexus_a, 1);
	ok(field_is(t, ASC_INVALID_FIELD_CDB, 1, 2), "reported once, then unknown");
	t = copy_status(&nexus_b, 2);
	ok(field_is(t, ASC_INVALID_FIELD_CDB, 1, 2), "no copy with that list id");

	/* overlapping, destination above the source: copied from the end */
	memcpy(before0, mem0.data, NBLK * BS);
	plen = one_copy(par, 2, XCOPY_USAGE_DISCARD, 0, 0, 2500, 100, 600);
	t = xcopy(&nexus_a, par, plen);
	ok(t->status == SAM_STAT_GOOD &&
	   memcmp(mem0.data + 600 * BS, before0 + 100 * BS, 2500 * BS) == 0,
	   "overlapping copy keeps the source's old content");
	t = copy_status(&nexus_a, 2);
	ok(field_is(t, ASC_INVALID_FIELD_CDB, 1, 2), "LIST ID USAGE 10b: nothing held");

	/* to another LU of the target */
	plen = one_copy(par, 3, XCOPY_USAGE_DISCARD, 0, 1, 64, 10, NBLK - 64);
	t = xcopy(&nexus_a, par, plen);
	ok(t->status == SAM_STAT_GOOD &&
	   memcmp(mem1.data + (NBLK - 64) * BS, mem0.data + 10 * BS, 64 * BS) == 0,
	   "copied to the last blocks of LU 1");

	cdb[0] = RECEIVE_COPY_RESULTS;
	cdb[1] = RCR_OPERATING_PARAMETERS;
	put_be32(cdb + 10, 64);
	t = run(&nexus_a, 0, cdb, 16, NULL, 0);
	ok(t->status == SAM_STAT_GOOD && get_be16(t->in + 8) == XCOPY_MAX_TARGETS &&
	   get_be16(t->in + 10) == XCOPY_MAX_SEGMENTS &&
	   get_be32(t->in + 12) == XCOPY_MAX_LIST_LEN && t->in[43] == 2,
	   "OPERATING PARAMETERS: our limits and the two descriptor types");
	cdb[1] = 0x05;
	t = run(&nexus_a, 0, cdb, 16, NULL, 0);
	ok(field_is(t, ASC_INVALID_FIELD_CDB, 1, 1), "RECEIVE COPY RESULTS: unknown service action");

	/* refusals: nothing written */
	memcpy(before0, mem0.data, NBLK * BS);
	memcpy(before1, mem1.data, NBLK * BS);
	mem0.writes = mem1.writes = 0;
	t = xcopy(&nexus_a, par, 0);
	is_int(t->status, SAM_STAT_GOOD, "empty parameter list: nothing to do");
	plen = one_copy(par, 4, 0, 0, 1, 8, 0, 0);
	t = xcopy(&nexus_a, par, plen - 1);
	ok(sense_is(t, SENSE_ILLEGAL_REQUEST, ASC_PARAM_LIST_LENGTH, 0), "segment cut short");
	t = xcopy(&nexus_a, par, 40);
	ok(sense_is(t, SENSE_ILLEGAL_REQUEST, ASC_PARAM_LIST_LENGTH, 0), "target cut short");
	memset(cdb, 0, sizeof(cdb));
	cdb[0] = EXTENDED_COPY;
	put_be32(cdb + 10, plen);
	t = run(&nexus_a, 0, cdb, 16, par, 20);
	ok(sense_is(t, SENSE_ILLEGAL_REQUEST, ASC_PARAM_LIST_LENGTH, 0), "Data-Out short of it");
	cdb[1] = 0x01;		/* LID4 */
	t = run(&nexus_a, 0, cdb, 16, par, plen);
	ok(field_is(t, ASC_INVALID_FIELD_CDB, 1, 1), "LID4 service action not offered");
	cdb[1] = 0;
	cdb[5] = 1;
	t = run(&nexus_a, 0, cdb, 16, par, plen);
	ok(field_is(t, ASC_INVALID_FIELD_CDB, 1, 5), "reserved CDB byte");
	par[XCOPY_HEADER_LEN] = 0xe0;		/* FC N_Port_Name target */
	t = xcopy(&nexus_a, par, plen);
	ok(sense_is(t, SENSE_ILLEGAL_REQUEST, ASC_INVALID_FIELD_PARAM, 0x07),
	   "unsupported target descriptor type");
	plen = one_copy(par, 4, 0, 0, 1, 8, 0, 0);
	par[XCOPY_HEADER_LEN + 2 * XCOPY_TARGET_LEN] = 0x03;	/* stream -> stream */
	t = xcopy(&nexus_a, par, plen);
	ok(sense_is(t, SENSE_ILLEGAL_REQUEST, ASC_INVALID_FIELD_PARAM, 0x09),
	   "unsupported segment descriptor type");
	p = par + XCOPY_HEADER_LEN;
	for (int i = 0; i <= XCOPY_MAX_TARGETS; i++)
		p = put_target(p, &lu0, 0);
	p = put_segment(p, 0, 0, 1, 0, 1);
	put_header(par, 4, 0, (XCOPY_MAX_TARGETS + 1) * XCOPY_TARGET_LEN, XCOPY_SEGMENT_LEN);
	t = xcopy(&nexus_a, par, (uint32_t)(p - par));
	ok(sense_is(t, SENSE_ILLEGAL_REQUEST, ASC_INVALID_FIELD_PARAM, 0x06), "too many targets");
	p = put_target(par + XCOPY_HEADER_LEN, &lu0, 0);
	for (int i = 0; i <= XCOPY_MAX_SEGMENTS; i++)
		p = put_segment(p, 0, 0, 1, 0, 1);
	put_header(par, 4, 0, XCOPY_TARGET_LEN, (XCOPY_MAX_SEGMENTS + 1) * XCOPY_SEGMENT_LEN);
	t = xcopy(&nexus_a, par, (uint32_t)(p - par));
	ok(sense_is(t, SENSE_ILLEGAL_REQUEST, ASC_INVALID_FIELD_PARAM, 0x08), "too many segments");
	p = put_target(par + XCOPY_HEADER_LEN, &lu0, 0);
	for (int i = 0; i <= XCOPY_MAX_SEGMENTS + 4; i++)
		p = put_segment(p, 0, 0, 1, 0, 1);
	put_header(par, 4, 0, XCOPY_TARGET_LEN, (XCOPY_MAX_SEGMENTS + 5) * XCOPY_SEGMENT_LEN);
	t = xcopy(&nexus_a, par, (uint32_t)(p - par));
	ok(sense_is(t, SENSE_ILLEGAL_REQUEST, ASC_PARAM_LIST_LENGTH, 0),
	   "descriptors over the maximum list length");
	plen = one_copy(par, 4, 0, 0, 1, 8, 0, 0);
	put_be32(par + 12, 4);			/* inline data */
	t = xcopy(&nexus_a, par, plen);
	ok(field_is(t, ASC_INVALID_FIELD_PARAM, 0, 12), "inline data refused");
	plen = one_copy(par, 4, 0, 0, 2, 8, 0, 0);
	t = xcopy(&nexus_a, par, plen);
	ok(sense_is(t, SENSE_COPY_ABORTED_KEY, 0x0d, 0x02), "destination index past the targets");
	plen = one_copy(par, 4, 0, 0, 1, 8, 0, 0);
	put_target(par + XCOPY_HEADER_LEN + XCOPY_TARGET_LEN, &lu1, 1);
	t = xcopy(&nexus_a, par, plen);
	ok(sense_is(t, SENSE_COPY_ABORTED_KEY, 0x0d, 0x02), "NUL target");
	plen = one_copy(par, 4, 0, 0, 1, 8, 0, 0);
	par[XCOPY_HEADER_LEN + XCOPY_TARGET_LEN + 8] ^= 0xff;	/* names no LU */
	t = xcopy(&nexus_a, par, plen);
	ok(sense_is(t, SENSE_COPY_ABORTED_KEY, 0x0d, 0x02), "a designator of no LU here");
	plen = one_copy(par, 4, 0, 0, 1, 8, 0, NBLK - 7);
	t = xcopy(&nexus_a, par, plen);
	ok(t->status == SAM_STAT_CHECK_CONDITION && (t->sense[2] & 0x0f) == SENSE_COPY_ABORTED_KEY,
	   "destination past the end: COPY ABORTED");
	plen = one_copy(par, 4, 0, 0, 1, 8, UINT64_MAX - 2, 0);
	t = xcopy(&nexus_a, par, plen);
	ok((t->sense[2] & 0x0f) == SENSE_COPY_ABORTED_KEY, "source LBA near 2^64");
	plen = one_copy(par, 4, 0, 0, 1, 8, 0, 0);
	lu1.reserved_by = nexus_b.id;
	t = xcopy(&nexus_a, par, plen);
	ok(sense_is(t, SENSE_COPY_ABORTED_KEY, 0x0d, 0x02), "destination LU reserved by another");
	lu1.reserved_by = 0;
	lu1.swp = 1;
	t = xcopy(&nexus_a, par, plen);
	ok(sense_is(t, SENSE_DATA_PROTECT, ASC_WRITE_PROTECTED, 0), "destination write protected");
	lu1.swp = 0;
	ok(mem0.writes == 0 && mem1.writes == 0 && memcmp(before0, mem0.data, NBLK * BS) == 0 &&
	   memcmp(before1, mem1.data, NBLK * BS) == 0, "no refused EXTENDED COPY wrote anything");

	/* an I/O error on the way: COPY ABORTED with the cause, status kept */
	plen = one_copy(par, 5, XCOPY_USAGE_HOLD, 0, 1, 4096, 0, 0);
	mem0.nreq = 0;
	mem0.fail_at = 2;
	t = xcopy(&nexus_a, par, plen);
	mem0.fail_at = 0;
	ok(sense_is(t, SENSE_COPY_ABORTED_KEY, 0x11, 0), "read error: COPY ABORTED, UNRECOVERED READ");
	ok(t->lu == &lu0, "task back on the LU it addressed");
	t = copy_status(&nexus_a, 5);
	ok(t->status == SAM_STAT_GOOD && t->in[4] == 2 && get_be32(t->in + 8) == 2048 * BS,
	   "COPY STATUS: completed with errors after one chunk");
}

static void test_parser(void)
{
	static uint8_t par[XCOPY_MAX_PARAM_LEN];
	struct xcopy_list list;
	struct xcopy_error err;
	uint32_t plen = one_copy(par, 9, 0, 0, 1, 8, 0, 0);

	ok(xcopy_parse(par, plen, &list, &err) == 0 && list.ntargets == 2 &&
	   list.nsegments == 1 && list.segments[0].dst == 1 && list.list_id == 9,
	   "parser: a good list");
	ok(xcopy_parse(par, 15, &list, &err) == -EINVAL && err.asc == ASC_PARAM_LIST_LENGTH,
	   "parser: shorter than the header");
	put_be16(par + 2, 0xffff);
	put_be32(par + 8, 0xffffffff);
	ok(xcopy_parse(par, plen, &list, &err) == -EINVAL && err.asc == ASC_PARAM_LIST_LENGTH,
	   "parser: declared lengths far past the list");
	plen = one_copy(par, 9, 0, 0, 1, 8, 0, 0);
	put_be32(par + 8, 0xffffffff - 31);
	ok(xcopy_parse(par, plen, &list, &err) == -EINVAL && err.asc == ASC_PARAM_LIST_LENGTH,
	   "parser: lengths whose sum wraps");
	plen = one_copy(par, 9, 0, 0, 1, 8, 0, 0);
	par[XCOPY_HEADER_LEN + 7] = 21;
	ok(xcopy_parse(par, plen, &list, &err) == -EINVAL && err.field == XCOPY_HEADER_LEN + 7,
	   "parser: designator longer than its field");
	plen = one_copy(par, 9, 0, 0, 1, 8, 0, 0);
	put_be16(par + XCOPY_HEADER_LEN + 2 * XCOPY_TARGET_LEN + 2, 0xfff0);
	ok(xcopy_parse(par, plen, &list, &err) == -EINVAL &&
	   err.field == XCOPY_HEADER_LEN + 2 * XCOPY_TARGET_LEN + 2,
	   "parser: segment descriptor length not 24");
	plen = one_copy(par, 9, 1, 0, 1, 8, 0, 0);
	ok(xcopy_parse(par, plen, &list, &err) == -EINVAL && err.field == 1,
	   "parser: reserved LIST ID USAGE");
	plen = one_copy(par, 9, XCOPY_USAGE_NONE, 0, 1, 8, 0, 0);
	ok(xcopy_parse(par, plen, &list, &err) == -EINVAL && err.field == 0,
	   "parser: LIST ID USAGE 11b with a list id");
	plen = one_copy(par, 9, 0, 0, 1, 8, 0, 0);
	put_be16(par + 2, 31);
	ok(xcopy_parse(par, plen, &list, &err) == -EINVAL && err.asc == ASC_PARAM_LIST_LENGTH,
	   "parser: target list not a whole descriptor");
	plen = one_copy(par, 9, 0, 0, 1, 8, 0, 0);
	par[XCOPY_HEADER_LEN + 1] = 0xc0;	/* LU ID TYPE 11b: ignored (SPC-4) */
	ok(xcopy_parse(par, plen, &list, &err) == 0, "parser: LU ID TYPE ignored");
}

int main(void)
{
	mem_setup(&mem0, 1);
	mem_setup(&mem1, 0);
	if (scsi_lu_init(&lu0, &mem0.st, "iqn.2026-11.lan.vdisk:t/0") < 0 ||
	    scsi_lu_init(&lu1, &mem1.st, "iqn.2026-11.lan.vdisk:t/1") < 0)
		return 1;
	target.lu[0] = &lu0;
	target.lu[1] = &lu1;
	target.nlu = 2;
	test_sanitize();
	test_xcopy();
	test_parser();
	scsi_lu_fini(&lu0);
	scsi_lu_fini(&lu1);
	free(mem0.data);
	free(mem1.data);
	return done_testing();
}
