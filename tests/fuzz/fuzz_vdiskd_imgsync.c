/* Fuzz the vdiskd side of image sync: READ DIGESTS CDBs from the peer's vdiskctl, run
 * through the SCSI layer (vendor opcodes C0h-FFh) on an image-sync LU over an in-memory image
 * whose size the input also picks, and target names parsed for the image. Input: [0..1] image
 * size in 512-byte sectors (little endian, at most MAX_SECTORS), [2..17] the CDB, the rest a
 * target name. A command that succeeds must return exactly one digest per block asked for
 * within the image; anything else must be ILLEGAL REQUEST without data. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "common/image_sync_proto.h"
#include "common/log.h"
#include "vdisk-server/scsi/image_sync_lu.h"
#include "vdisk-server/scsi/scsi.h"

#define MAX_SECTORS (40u * IS_BLOCK / 512u)

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

struct mem_store {
	struct store st;
	struct store_req *queue;
};

static uint8_t image[MAX_SECTORS * 512u];

static int mem_submit(struct store *st, struct store_req *req)
{
	struct mem_store *m = (struct mem_store *)st;

	if (req->offset > st->size || req->length > st->size - req->offset ||
	    req->iovcnt != 1 || req->iov[0].iov_len != req->length)
		abort();	/* the LU asked for something outside the image */
	memcpy(req->iov[0].iov_base, image + req->offset, req->length);
	req->result = 0;
	req->next = m->queue;
	m->queue = req;
	return 0;
}

static void mem_close(struct store *st)
{
	(void)st;
}

static const struct store_ops mem_ops = { .submit = mem_submit, .close = mem_close };

static void on_done(struct scsi_task *t)
{
	(void)t;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct mem_store mem = { .st = { .ops = &mem_ops } };
	static struct scsi_nexus nexus = { .id = 1, .port = "iqn.f,i,0x01" };
	struct scsi_target target = { .nlu = 1 };
	struct scsi_task t;
	struct scsi_lu lu;
	struct is_req r;
	unsigned field;
	char name[256];
	int rc;

	if (size < 18)
		return 0;
	log_init("fuzz", 0, LOG_CRIT);	/* refusals are expected */
	mem.st.size = (uint64_t)((data[0] | data[1] << 8) % (MAX_SECTORS + 1)) * 512u;
	if (!mem.st.size)
		mem.st.size = 512;
	if (scsi_lu_init(&lu, &mem.st, "fuzz") < 0)
		return 0;
	image_sync_lu_attach(&lu);
	target.lu[0] = &lu;
	memset(&t, 0, sizeof(t));
	memcpy(t.cdb, data + 2, 16);
	t.cdb[0] |= 0xC0;	/* vendor opcodes only: SBC has its own fuzzing (fuzz_iscsi_pdu) */
	t.target = &target;
	t.nexus = &nexus;
	t.edtl = 1u << 20;
	t.done = on_done;
	rc = is_cdb_parse(t.cdb, mem.st.size, &r, &field);
	scsi_execute(&t);
	while (mem.queue) {
		struct store_req *q = mem.queue;

		mem.queue = q->next;
		q->done(q);
	}
	if (rc == 0 && (t.status != SAM_STAT_GOOD || t.in_len != r.count * IS_DIGEST_LEN ||
			r.count == 0 || r.count > IS_MAX_BLOCKS ||
			r.first + r.count > is_nblocks(mem.st.size)))
		abort();
	if (rc < 0 && t.cdb[0] == IS_OPCODE &&
	    (t.status != SAM_STAT_CHECK_CONDITION || t.in_len || (t.sense[2] & 15) != 5))
		abort();
	scsi_task_release(&t);
	scsi_lu_fini(&lu);

	size -= 18;
	if (size >= sizeof(name))
		size = sizeof(name) - 1;
	memcpy(name, data + 18, size);
	name[size] = '\0';
	{
		const char *img = is_target_image("iqn.2026-11.lan.vdisk:disk", name);

		if (img && (!*img || strchr(img, '/') || img < name || img >= name + sizeof(name)))
			abort();
	}
	return 0;
}
