/* libFuzzer: the replica side of the replication protocol. The peer is authenticated (CHAP
 * with the pair secret), but a bug or a damaged copy on the other server must still be
 * refused cleanly: input = a 16-byte CDB, then the Data-Out, run on a replica LU (WRITE BATCH
 * included: its records go to a store that refuses them). The same bytes also go to the
 * decoders alone. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "vdisk-server/mirror/mirror_proto.h"
#include "vdisk-server/scsi/replica_lu.h"

static int nop_submit(struct store *st, struct store_req *req)
{
	(void)st, (void)req;
	return -1;
}

static int nop_reset(struct store *st)
{
	(void)st;
	return 0;
}

static void nop_close(struct store *st)
{
	(void)st;
}

static const struct store_ops ops = { .submit = nop_submit, .reset = nop_reset,
				      .close = nop_close };
static struct store mem = { .ops = &ops, .size = 1u << 24 };

static void on_done(struct scsi_task *t)
{
	(void)t;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct mirror_meta meta;
	static struct scsi_lu lu;
	static struct scsi_target tg;
	static struct replica r;
	static struct scsi_nexus nx = { .id = 1, .port = "iqn.peer,i,0x01" };
	static struct scsi_task t;
	struct mp_state s;
	uint8_t *out = NULL;

	if (!tg.nlu) {
		char path[] = "/tmp/fuzz_mirror.XXXXXX";
		int fd = mkstemp(path);

		if (fd < 0)
			abort();
		close(fd);
		unlink(path);
		if (mirror_meta_open(path, mem.size, 0, &meta) < 0)
			abort();
		unlink(path);	/* the descriptor stays */
		scsi_lu_init(&lu, &mem, "fuzz/img");
		r.meta = &meta;
		r.st = &mem;
		r.name = "fuzz";
		replica_lu_attach(&lu, &r);
		tg.lu[0] = &lu;
		tg.nlu = 1;
	}
	mp_state_decode(data, size, &s);
	if (size >= 8) {
		/* a WRITE BATCH's records: the first byte says how many, the rest is the list */
		struct mp_batch_rec recs[MP_BATCH_MAX];

		mp_batch_parse(data + 1, size - 1, data[0], 1u << 15, recs);
	}
	if (size < 16)
		return 0;
	memset(&t, 0, sizeof(t));
	memcpy(t.cdb, data, 16);
	t.cdb[0] = MP_OPCODE;
	if (size > 16) {
		out = malloc(size - 16);	/* its own buffer: ASan sees any overread */
		if (!out)
			return 0;
		memcpy(out, data + 16, size - 16);
	}
	t.target = &tg;
	t.nexus = &nx;
	t.out = out;
	t.out_len = (uint32_t)(size - 16);
	t.edtl = 1u << 20;
	t.done = on_done;
	scsi_execute(&t);
	scsi_task_release(&t);
	free(out);
	return 0;
}
