/* Image sync, vdiskd side: READ DIGESTS CDB checks with must-fail vectors, the image name in
 * a target name, and the vendor command on an LU over an in-memory store (digests of whole
 * and short blocks, ILLEGAL REQUEST for malformed CDBs, MEDIUM ERROR for a failed read). */
#include <endian.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "common/image_sync_proto.h"
#include "vdisk-server/scsi/image_sync_lu.h"
#include "vdisk-server/scsi/scsi.h"
#include "tests/lib/tap.h"

/* 37 whole blocks and a short one of 4 KiB: three store reads of 16, 16 and 6 blocks */
#define WHOLE 37u
#define IMG_SIZE (WHOLE * IS_BLOCK + 4096u)

struct mem_store {
	struct store st;
	uint8_t *data;
	struct store_req *queue;	/* completed by drain(), never inside submit */
	int fail_reads;
	unsigned reads;
};

static int mem_submit(struct store *st, struct store_req *req)
{
	struct mem_store *m = (struct mem_store *)st;

	m->reads++;
	req->result = 0;
	if (req->offset + req->length > st->size || req->iovcnt != 1 ||
	    req->iov[0].iov_len != req->length)
		req->result = -EINVAL;
	else if (m->fail_reads)
		req->result = -EIO;
	else if (req->op == STORE_OP_READ)
		memcpy(req->iov[0].iov_base, m->data + req->offset, req->length);
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
static struct scsi_nexus nexus = { .id = 1, .port = "iqn.sync,i,0x01" };
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

static struct scsi_task *run(const uint8_t cdb[16])
{
	static struct scsi_task t;

	scsi_task_release(&t);
	memset(&t, 0, sizeof(t));
	memcpy(t.cdb, cdb, 16);
	t.target = &target;
	t.nexus = &nexus;
	t.edtl = 1u << 20;
	t.done = on_done;
	done_calls = 0;
	scsi_execute(&t);
	drain();
	return &t;
}

static int illegal(const struct scsi_task *t, uint8_t asc)
{
	return t->status == SAM_STAT_CHECK_CONDITION && (t->sense[2] & 0x0f) ==
	       SENSE_ILLEGAL_REQUEST && t->sense[12] == asc && t->in_len == 0;
}

static void put32(uint8_t *p, uint32_t v)
{
	v = htobe32(v);
	memcpy(p, &v, 4);
}

/* must-fail and must-pass vectors for is_cdb_parse */
static void test_parse(void)
{
	static const struct {
		const char *what;
		uint64_t first;
		uint32_t alloc;
		uint8_t op, sa, b14;
		uint64_t size;
		int rc;
		unsigned field;
		uint32_t count;
	} v[] = {
		{ "whole image", 0, 38 * 32, IS_OPCODE, 1, 0, IMG_SIZE, 0, 0, 38 },
		{ "clipped at the end", 36, 256 * 32, IS_OPCODE, 1, 0, IMG_SIZE, 0, 0, 2 },
		{ "the short last block", 37, 32, IS_OPCODE, 1, 0, IMG_SIZE, 0, 0, 1 },
		{ "the mirror's opcode", 0, 32, 0xC0, 1, 0, IMG_SIZE, -ENOTSUP, 0, 0 },
		{ "service action 0", 0, 32, IS_OPCODE, 0, 0, IMG_SIZE, -EINVAL, 1, 0 },
		{ "service action 2", 0, 32, IS_OPCODE, 2, 0, IMG_SIZE, -EINVAL, 1, 0 },
		{ "allocation 0", 0, 0, IS_OPCODE, 1, 0, IMG_SIZE, -EINVAL, 10, 0 },
		{ "allocation not whole digests", 0, 33, IS_OPCODE, 1, 0, IMG_SIZE, -EINVAL, 10, 0 },
		{ "allocation 257 digests", 0, 257 * 32, IS_OPCODE, 1, 0, IMG_SIZE, -EINVAL, 10, 0 },
		{ "allocation 2^32-32", 0, 0xffffffe0u, IS_OPCODE, 1, 0, IMG_SIZE, -EINVAL, 10, 0 },
		{ "reserved byte 14", 0, 32, IS_OPCODE, 1, 1, IMG_SIZE, -EINVAL, 14, 0 },
		{ "first block = count", 38, 32, IS_OPCODE, 1, 0, IMG_SIZE, -ERANGE, 2, 0 },
		{ "first block 2^64-1", UINT64_MAX, 32, IS_OPCODE, 1, 0, IMG_SIZE, -ERANGE, 2, 0 },
		{ "empty image", 0, 32, IS_OPCODE, 1, 0, 0, -ERANGE, 2, 0 },
		{ "256 blocks at 2^40", 1ull << 40, 256 * 32, IS_OPCODE, 1, 0, UINT64_MAX, 0, 0, 256 },
	};

	for (size_t i = 0; i < sizeof(v) / sizeof(v[0]); i++) {
		uint8_t cdb[16];
		struct is_req r = { 0, 0 };
		unsigned field = 99;
		int rc;

		is_cdb_build(cdb, v[i].first, 1);
		cdb[0] = v[i].op;
		cdb[1] = v[i].sa;
		put32(cdb + 10, v[i].alloc);
		cdb[14] = v[i].b14;
		rc = is_cdb_parse(cdb, v[i].size, &r, &field);
		ok(rc == v[i].rc && (rc != -EINVAL || field == v[i].field) &&
		   (rc || (r.first == v[i].first && r.count == v[i].count)),
		   "parse: %s (rc %d field %u count %u)", v[i].what, rc, field, r.count);
	}
	is_int((int)is_nblocks(0), 0, "0 bytes: 0 blocks");
	is_int((int)is_nblocks(512), 1, "512 bytes: 1 block");
	is_int((int)is_nblocks(IS_BLOCK), 1, "64 KiB: 1 block");
	is_int((int)is_nblocks(IS_BLOCK + 512), 2, "64 KiB + 512: 2 blocks");
}

static void test_target_names(void)
{
	const char *iqn = "iqn.2026-11.lan.vdisk:disk";
	const char *name = is_target_image(iqn, "iqn.2026-11.lan.vdisk:disk:image.win10");

	ok(name && strcmp(name, "win10") == 0, "target name carries image win10");
	ok(!is_target_image(iqn, iqn), "the clients' target is no image target");
	ok(!is_target_image(iqn, "iqn.2026-11.lan.vdisk:disk:image."), "empty image name");
	ok(!is_target_image(iqn, "iqn.2026-11.lan.vdisk:disk:imagewin10"), "no separator");
	ok(!is_target_image(iqn, "iqn.2026-11.lan.vdisk:other:image.win10"), "another prefix");
	ok(!is_target_image(iqn, "iqn.2026-11.lan.vdisk:disk:image.../etc"), "a '/' refused");
	ok(!is_target_image(iqn, "iqn.2026-11.lan.vdisk:disk:image.a\nb"), "a newline refused");
	ok(!is_target_image(iqn, "iqn.2026-11.lan"), "shorter than the prefix");
}

static void test_vendor(void)
{
	uint8_t cdb[16], want[IS_DIGEST_LEN];
	struct scsi_task *t;
	int all = 1;

	mem.st.ops = &mem_ops;
	mem.st.size = IMG_SIZE;
	mem.data = malloc(IMG_SIZE);
	for (size_t i = 0; i < IMG_SIZE; i++)
		mem.data[i] = (uint8_t)(i * 7 + i / 4099);
	is_int(scsi_lu_init(&lu, &mem.st, "iqn.2026-11.lan.vdisk:disk:image.t"), 0, "LU set up");
	image_sync_lu_attach(&lu);
	target.lu[0] = &lu;
	target.nlu = 1;

	is_cdb_build(cdb, 0, IS_MAX_BLOCKS);
	t = run(cdb);
	ok(done_calls == 1 && t->status == SAM_STAT_GOOD && t->in_len == 38 * IS_DIGEST_LEN,
	   "READ DIGESTS of the whole image: 38 digests (in_len %u)", t->in_len);
	for (unsigned b = 0; b < 38 && t->in_len == 38 * IS_DIGEST_LEN; b++) {
		size_t len = b < WHOLE ? IS_BLOCK : 4096;

		is_digest(mem.data + (size_t)b * IS_BLOCK, len, want);
		all &= memcmp(t->in + b * IS_DIGEST_LEN, want, IS_DIGEST_LEN) == 0;
	}
	ok(all && mem.reads == 3, "each is the SHA-256 of its block, the short last one of 4 KiB "
	   "only (3 reads)");

	is_cdb_build(cdb, WHOLE, 1);
	t = run(cdb);
	is_digest(mem.data + WHOLE * IS_BLOCK, 4096, want);
	ok(t->status == SAM_STAT_GOOD && t->in_len == IS_DIGEST_LEN &&
	   memcmp(t->in, want, IS_DIGEST_LEN) == 0, "the last block alone");

	is_cdb_build(cdb, WHOLE + 1, 1);
	ok(illegal(run(cdb), ASC_LBA_OUT_OF_RANGE), "first block past the end: ILLEGAL REQUEST, "
	   "LBA out of range");
	is_cdb_build(cdb, 0, 1);
	cdb[1] = 7;
	ok(illegal(run(cdb), ASC_INVALID_FIELD_CDB), "unknown service action: invalid field");
	is_cdb_build(cdb, 0, 1);
	put32(cdb + 10, 31);
	ok(illegal(run(cdb), ASC_INVALID_FIELD_CDB), "allocation length 31: invalid field");
	put32(cdb + 10, 0x7fffffe0u);
	ok(illegal(run(cdb), ASC_INVALID_FIELD_CDB), "allocation length 2 GiB: invalid field");
	is_cdb_build(cdb, 0, 1);
	cdb[0] = 0xC5;
	ok(illegal(run(cdb), ASC_INVALID_OPCODE), "another vendor opcode: invalid opcode");

	mem.fail_reads = 1;
	is_cdb_build(cdb, 0, 2);
	t = run(cdb);
	ok(done_calls == 1 && t->status == SAM_STAT_CHECK_CONDITION &&
	   (t->sense[2] & 0x0f) == SENSE_MEDIUM_ERROR && t->in_len == 0,
	   "a failed read: MEDIUM ERROR, no data");
	mem.fail_reads = 0;
	is_int((int)lu.inflight, 0, "nothing left in flight");
	scsi_task_release(run(cdb));
	scsi_lu_fini(&lu);
	free(mem.data);
}

int main(void)
{
	test_parse();
	test_target_names();
	test_vendor();
	return done_testing();
}
