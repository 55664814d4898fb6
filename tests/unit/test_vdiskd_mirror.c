/* The mirror's pieces that need no peer: the state file (generations, dirty bits, activity
 * log, write-back), the wire encoding of a copy's state and of a write batch, and the replica
 * side of the vendor command, including malformed CDBs and parameter lists. */
#include <endian.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "vdisk-server/mirror/mirror_meta.h"
#include "vdisk-server/mirror/mirror_proto.h"
#include "vdisk-server/scsi/replica_lu.h"
#include "vdisk-server/scsi/scsi.h"
#include "vdisk-server/scsi/scsi_cdb.h"
#include "vdisk-server/store/store_io.h"
#include "tests/lib/tap.h"

#define DISK (100ull * MIRROR_CHUNK + 4096)	/* 101 chunks, the last one short */

static char dir[] = "/tmp/test_mirror.XXXXXX";
static char path[256];

/* ---- a store that counts resets and keeps the writes it is given, for the replica ---- */
static int resets, reset_rc;
static struct store_req *held[MP_BATCH_MAX];
static unsigned nheld, submit_fail_at = ~0u;

static int hold_submit(struct store *st, struct store_req *req)
{
	(void)st;
	if (nheld == submit_fail_at || nheld == MP_BATCH_MAX)
		return -ENOMEM;
	held[nheld++] = req;
	return 0;
}

/* The store completes what it holds, the i-th with result rc (the others 0). */
static void complete_held(unsigned i_fail, int rc)
{
	unsigned n = nheld;

	nheld = 0;
	for (unsigned i = 0; i < n; i++) {
		held[i]->result = i == i_fail ? rc : 0;
		held[i]->done(held[i]);
	}
}

static int count_reset(struct store *st)
{
	(void)st;
	resets++;
	return reset_rc;
}

static void nop_close(struct store *st)
{
	(void)st;
}

static const struct store_ops ops = { .submit = hold_submit, .reset = count_reset,
				      .close = nop_close };
static struct store mem = { .ops = &ops, .size = DISK };

static int finished;

static void on_done(struct scsi_task *t)
{
	(void)t;
	finished++;
}

static struct scsi_task *run(struct scsi_target *tg, const uint8_t cdb[16], uint8_t *out,
			     uint32_t out_len)
{
	static struct scsi_task t;
	static struct scsi_nexus nx = { .id = 1, .port = "iqn.peer,i,0x01" };

	scsi_task_release(&t);
	memset(&t, 0, sizeof(t));
	memcpy(t.cdb, cdb, 16);
	t.target = tg;
	t.nexus = &nx;
	t.out = out;
	t.out_len = out_len;
	t.edtl = out_len ? out_len : 1u << 20;
	t.done = on_done;
	scsi_execute(&t);
	return &t;
}

static int illegal(const struct scsi_task *t)
{
	return t->status == SAM_STAT_CHECK_CONDITION && (t->sense[2] & 0x0f) == SENSE_ILLEGAL_REQUEST;
}

static int busy_20(void *arg, uint64_t chunk)
{
	(void)arg;
	return chunk == 20;
}

/* The state file's fault sweep: one sequence of marks, syncs, a new generation, a clear
 * written back (a write still in flight), run again with the Nth disk call failing, N = 1, 2,
 * ... until none fails.
 * Reopened without faults, the file must open, every chunk marked and synced without an
 * error and not cleared since must still be marked (a cleared one may be either: a bit kept
 * for nothing only costs a copy), and the generation is the new one if setting it
 * succeeded, else the old or the new. */
static int sweep_n, sweep_calls;

static int sweep_fault(void *arg, enum store_io_kind kind, int fd, uint64_t off, uint64_t len)
{
	(void)arg; (void)kind; (void)fd; (void)off; (void)len;
	return __atomic_add_fetch(&sweep_calls, 1, __ATOMIC_RELAXED) == sweep_n ? -EIO : 0;
}

/* chunk 10's write is still in flight: the write-back must keep its activity bit */
static int busy_10(void *arg, uint64_t chunk)
{
	(void)arg;
	return chunk == 10;
}

/* marks chunk c (a write of 4 KiB in it) and syncs: 1 when both succeeded */
static int sweep_mark(struct mirror_meta *m, uint64_t c, int active)
{
	uint64_t off = c * MIRROR_CHUNK + 512;
	int rc = active ? mirror_meta_mark_active(m, off, 4096) : mirror_meta_mark(m, off, 4096);

	return rc == 0 && mirror_meta_sync(m) == 0;
}

static void test_meta_sweep(void)
{
	unsigned runs = 0, bad = 0;
	char p[300];

	snprintf(p, sizeof(p), "%s/SWEEP.mirror", dir);
	for (sweep_n = 1;; sweep_n++) {
		struct mirror_meta m;
		uint64_t gen0, gen1;
		int kept2, kept10, kept20, gen_set;

		unlink(p);
		if (mirror_meta_open(p, DISK, 0, &m)) {
			bad++;
			break;
		}
		gen0 = m.gen;
		gen1 = gen0 + 1;
		sweep_calls = 0;
		store_io_set_fault(sweep_fault, NULL);
		sweep_mark(&m, 1, 0);
		kept2 = sweep_mark(&m, 2, 0);
		gen_set = mirror_meta_set_gen(&m, gen1, gen0, 0) == 0;
		kept10 = sweep_mark(&m, 10, 1);
		mirror_meta_clear(&m, 1);
		if (mirror_meta_writeback(&m, busy_10, NULL) == 0)
			mirror_meta_sync(&m);
		kept20 = sweep_mark(&m, 20, 0);
		mirror_meta_close(&m);
		store_io_set_fault(NULL, NULL);
		runs++;
		if (mirror_meta_open(p, DISK, 0, &m)) {
			diag("run %d: the state file does not open again", sweep_n);
			bad++;
			continue;
		}
		/* chunk 1 was cleared (on both sides): either state is right for it */
		if ((kept2 && !mirror_meta_test(&m, 2)) || (kept10 && !mirror_meta_test(&m, 10)) ||
		    (kept20 && !mirror_meta_test(&m, 20)) || (gen_set && m.gen != gen1) ||
		    (m.gen != gen0 && m.gen != gen1)) {
			diag("run %d: a synced mark or the generation was lost (bits 1 %d 2 %d 10 %d "
			     "20 %d, gen %s)", sweep_n, mirror_meta_test(&m, 1),
			     mirror_meta_test(&m, 2), mirror_meta_test(&m, 10),
			     mirror_meta_test(&m, 20), m.gen == gen1 ? "new" : "old");
			bad++;
		}
		mirror_meta_close(&m);
		if (sweep_calls < sweep_n)
			break;		/* no fault met: every call was swept */
	}
	unlink(p);
	ok(runs > 5, "the state file's fault sweep ran %u times", runs);
	is_int(bad, 0, "it opened again after each, with every synced mark and the generation");
}

static void test_meta(void)
{
	struct mirror_meta m;
	uint64_t gen;
	int fd;

	/* as a secondary creates one: no copy of anything yet, in the one header write */
	snprintf(path, sizeof(path), "%s/PC009.mirror", dir);
	is_int(mirror_meta_open(path, DISK, MIRROR_INCONSISTENT, &m), 0, "created inconsistent");
	mirror_meta_close(&m);
	is_int(mirror_meta_open(path, DISK, 0, &m), 0, "reopened");
	ok(m.gen == 0 && m.peer_gen == 0 && (m.flags & MIRROR_INCONSISTENT),
	   "a file created inconsistent: generation 0 and inconsistent on disk");
	mirror_meta_close(&m);
	unlink(path);

	snprintf(path, sizeof(path), "%s/PC001.mirror", dir);
	is_int(mirror_meta_open(path, DISK, 0, &m), 0, "state file created");
	ok(m.gen != 0 && m.peer_gen == 0 && m.nset == 0 && m.nchunks == 101,
	   "new: a random generation, no peer generation, 101 chunks, no bit");
	gen = m.gen;
	is_int(mirror_meta_mark(&m, MIRROR_CHUNK - 512, 1024), 0, "mark a write across 2 chunks");
	is_int((int)m.nset, 2, "two chunks dirty");
	mirror_meta_mark(&m, 0, 512);
	is_int((int)m.nset, 2, "marking a dirty chunk again changes nothing");
	mirror_meta_mark(&m, DISK - 512, 512);
	ok(mirror_meta_test(&m, 100), "the short last chunk can be marked");
	mirror_meta_mark(&m, DISK, 4096);
	is_int((int)m.nset, 3, "a range past the end marks nothing");
	mirror_meta_mark_active(&m, 50 * (uint64_t)MIRROR_CHUNK, 512);
	ok(!mirror_meta_test(&m, 50) && m.nset == 3, "the activity log is not dirty in memory");
	is_int((int)mirror_meta_next(&m, 2), 100, "next set bit after 1 is 100");
	is_int((int)mirror_meta_next(&m, 101), 101, "none after the end");
	mirror_meta_set_gen(&m, gen + 1, gen, 0);
	mirror_meta_close(&m);

	is_int(mirror_meta_open(path, DISK, MIRROR_INCONSISTENT, &m), 0, "reopened");
	ok(m.gen == gen + 1 && m.peer_gen == gen && !(m.flags & MIRROR_INCONSISTENT),
	   "generations survive a close; a new file's flags do not touch an existing one");
	ok(m.nset == 4 && mirror_meta_test(&m, 50),
	   "after a restart the activity log counts as dirty (3 + 1)");
	mirror_meta_clear(&m, 50);
	mirror_meta_clear(&m, 0);
	mirror_meta_writeback(&m, NULL, NULL);
	mirror_meta_close(&m);
	mirror_meta_open(path, DISK, 0, &m);
	ok(m.nset == 2 && !mirror_meta_test(&m, 0) && !mirror_meta_test(&m, 50),
	   "write-back persists cleared bits");
	{
		uint8_t words[16] = { 0 };

		words[0] = 0x05;	/* chunks 0 and 2 */
		words[8 + 4] = 0x80;	/* chunk 64 + 39 = 103: past the end, dropped */
		mirror_meta_merge(&m, 0, words, 2);
		ok(mirror_meta_test(&m, 0) && mirror_meta_test(&m, 2) && m.nset == 4,
		   "a peer's bitmap merges in, bits past the end ignored");
	}
	mirror_meta_clear_all(&m);
	is_int((int)m.nset, 0, "clear all");

	/* the activity log waits for the peer's flush */
	mirror_meta_writeback(&m, NULL, NULL);
	mirror_meta_mark_active(&m, 10 * (uint64_t)MIRROR_CHUNK, 512);
	mirror_meta_mark_active(&m, 11 * (uint64_t)MIRROR_CHUNK, 512);
	ok(mirror_meta_active(&m), "mirrored writes leave activity bits");
	is_int((int)mirror_meta_snapshot(&m, NULL, NULL), 0,
	       "chunks written since the last snapshot are hot: nothing clearable yet");
	mirror_meta_mark_active(&m, 12 * (uint64_t)MIRROR_CHUNK, 512);
	is_int((int)mirror_meta_snapshot(&m, NULL, NULL), 2,
	       "a flush to the peer notes the 2 chunks idle for an interval, not chunk 12");
	mirror_meta_mark_active(&m, 11 * (uint64_t)MIRROR_CHUNK, 512);
	mirror_meta_clear_snapshot(&m, NULL, NULL);
	ok(!(m.file_bits[0] & (1ull << 10)) && (m.file_bits[0] & (1ull << 11)) &&
	   (m.file_bits[0] & (1ull << 12)),
	   "its completion clears chunk 10, not chunk 11 written again after the flush was sent");
	mirror_meta_mark_active(&m, 20 * (uint64_t)MIRROR_CHUNK, 512);
	mirror_meta_snapshot(&m, NULL, NULL);	/* chunk 20 no longer recent */
	is_int((int)mirror_meta_snapshot(&m, busy_20, NULL), 2,
	       "a chunk still being written is not clearable by a flush sent now");
	mirror_meta_clear_snapshot(&m, NULL, NULL);
	ok((m.file_bits[0] & (1ull << 20)) && !(m.file_bits[0] & (1ull << 11)),
	   "so its bit stays in the file");
	mirror_meta_mark_active(&m, 11 * (uint64_t)MIRROR_CHUNK, 512);
	mirror_meta_activity_dirty(&m);
	ok(m.nset == 2 && mirror_meta_test(&m, 11) && mirror_meta_test(&m, 20),
	   "peer lost: the write it may not have flushed becomes dirty");
	mirror_meta_close(&m);

	is_int(mirror_meta_open(path, DISK + MIRROR_CHUNK, 0, &m), -EINVAL,
	       "a state file of another disk size is refused");
	fd = open(path, O_WRONLY);
	ok(fd >= 0 && pwrite(fd, "garbage!", 8, 0) == 8, "header damaged");
	close(fd);
	is_int(mirror_meta_open(path, DISK, 0, &m), -EINVAL, "a damaged header is refused");
	unlink(path);
}

static void test_wire(void)
{
	struct mp_state s = { .gen = 7, .peer_gen = 5, .flags = MIRROR_INCONSISTENT,
			      .size = DISK, .nchunks = 101, .nset = 3 }, d;
	uint8_t buf[MP_STATE_LEN + 1];

	memset(s.fingerprint, 0xab, sizeof(s.fingerprint));
	mp_state_encode(&s, buf);
	is_int(mp_state_decode(buf, MP_STATE_LEN, &d), 0, "state round trip");
	ok(d.gen == 7 && d.peer_gen == 5 && d.flags == MIRROR_INCONSISTENT && d.nset == 3 &&
	   d.fingerprint[31] == 0xab, "fields kept");
	is_int(mp_state_decode(buf, MP_STATE_LEN - 1, &d), -EINVAL, "short: refused");
	is_int(mp_state_decode(buf, MP_STATE_LEN + 1, &d), -EINVAL, "long: refused");
	is_int(mp_state_decode(NULL, 0, &d), -EINVAL, "nothing: refused");
	buf[0] = 'X';
	is_int(mp_state_decode(buf, MP_STATE_LEN, &d), -EINVAL, "bad magic: refused");
	mp_state_encode(&s, buf);
	buf[7] = 9;
	is_int(mp_state_decode(buf, MP_STATE_LEN, &d), -EINVAL, "other version: refused");
	s.nset = 102;
	mp_state_encode(&s, buf);
	is_int(mp_state_decode(buf, MP_STATE_LEN, &d), -EINVAL, "more bits set than chunks: refused");
}

static void test_batch_parse(void)
{
	struct mp_batch_rec in[3] = {
		{ .lba = 8, .nblk = 8, .flags = 0 },
		{ .lba = 0, .nblk = 1, .flags = MP_REC_FUA },
		{ .lba = 100, .nblk = 16, .flags = 0 },
	}, out[MP_BATCH_MAX];
	size_t len = 3 * MP_BATCH_REC_LEN + (8 + 1 + 16) * 512;
	uint8_t *buf = calloc(1, MP_BATCH_BYTES + 16);

	for (int i = 0; i < 3; i++)
		mp_batch_rec_encode(&in[i], buf + i * MP_BATCH_REC_LEN);
	is_int(mp_batch_parse(buf, len, 3, 116, out), 0, "batch: round trip");
	ok(out[0].lba == 8 && out[0].nblk == 8 && out[1].flags == MP_REC_FUA &&
	   out[2].lba == 100 && out[2].nblk == 16, "batch: records kept");
	is_int(mp_batch_parse(buf, len - 512, 3, 116, out), -EINVAL, "batch: data short: refused");
	is_int(mp_batch_parse(buf, len + 512, 3, 116, out), -EINVAL, "batch: data long: refused");
	is_int(mp_batch_parse(buf, 2 * MP_BATCH_REC_LEN, 3, 116, out), -EINVAL,
	       "batch: shorter than its records: refused");
	is_int(mp_batch_parse(buf, len, 0, 116, out), -EINVAL, "batch: no record: refused");
	is_int(mp_batch_parse(buf, len, MP_BATCH_MAX + 1, 116, out), -EINVAL,
	       "batch: too many records: refused");
	is_int(mp_batch_parse(buf, MP_BATCH_BYTES + 16, 3, 116, out), -EINVAL,
	       "batch: too long: refused");
	is_int(mp_batch_parse(NULL, 0, 1, 116, out), -EINVAL, "batch: nothing: refused");
	is_int(mp_batch_parse(buf, len, 3, 115, out), -EINVAL, "batch: past the disk's end: refused");
	in[2].lba = UINT64_MAX - 4;
	mp_batch_rec_encode(&in[2], buf + 2 * MP_BATCH_REC_LEN);
	is_int(mp_batch_parse(buf, len, 3, 116, out), -EINVAL, "batch: LBA wrapping: refused");
	in[2].lba = 100;
	in[2].nblk = 0;
	mp_batch_rec_encode(&in[2], buf + 2 * MP_BATCH_REC_LEN);
	is_int(mp_batch_parse(buf, len - 16 * 512, 3, 116, out), -EINVAL,
	       "batch: an empty record: refused");
	in[2].nblk = 16;
	in[2].flags = 2;
	mp_batch_rec_encode(&in[2], buf + 2 * MP_BATCH_REC_LEN);
	is_int(mp_batch_parse(buf, len, 3, 116, out), -EINVAL, "batch: unknown flags: refused");
	in[2].flags = 0;
	in[2].lba = 15;		/* overlaps [8, 16) */
	mp_batch_rec_encode(&in[2], buf + 2 * MP_BATCH_REC_LEN);
	is_int(mp_batch_parse(buf, len, 3, 116, out), -EINVAL, "batch: overlapping records: refused");
	free(buf);
}

static void test_replica_batch(struct scsi_target *tg)
{
	struct mp_batch_rec recs[2] = {
		{ .lba = 16, .nblk = 8, .flags = 0 },
		{ .lba = 2, .nblk = 1, .flags = MP_REC_FUA },
	};
	uint8_t cdb[16], buf[2 * MP_BATCH_REC_LEN + 9 * 512];
	uint32_t len = sizeof(buf);
	struct scsi_task *t;

	mp_batch_rec_encode(&recs[0], buf);
	mp_batch_rec_encode(&recs[1], buf + MP_BATCH_REC_LEN);
	memset(buf + 2 * MP_BATCH_REC_LEN, 0xa1, 8 * 512);
	memset(buf + 2 * MP_BATCH_REC_LEN + 8 * 512, 0xb2, 512);
	mp_cdb(cdb, MP_WRITE_BATCH, 2, len);
	finished = 0;
	t = run(tg, cdb, buf, len);
	ok(nheld == 2 && finished == 0, "WRITE BATCH: one store write per record, none done yet");
	ok(held[0]->offset == 16 * 512 && held[0]->length == 8 * 512 &&
	   held[0]->flags == STORE_LOOP_OK && held[0]->iov[0].iov_len == 8 * 512 &&
	   ((uint8_t *)held[0]->iov[0].iov_base)[0] == 0xa1 &&
	   held[1]->offset == 2 * 512 && held[1]->length == 512 &&
	   held[1]->flags == (STORE_FUA | STORE_LOOP_OK) &&
	   ((uint8_t *)held[1]->iov[0].iov_base)[511] == 0xb2,
	   "WRITE BATCH: each record's range, flags (the loop may write it) and data");
	complete_held(~0u, 0);
	ok(finished == 1 && t->status == SAM_STAT_GOOD, "WRITE BATCH: GOOD once every write is done");

	{
		static const uint8_t w16[16] = { WRITE_16, 0, 0, 0, 0, 0, 0, 0, 0, 4, 0, 0, 0, 1 };

		finished = 0;
		t = run(tg, w16, buf, 512);
		ok(nheld == 1 && held[0]->offset == 4 * 512 && held[0]->flags == STORE_LOOP_OK,
		   "a plain WRITE(16) to the replica: the loop may write it too");
		complete_held(~0u, 0);
		ok(finished == 1 && t->status == SAM_STAT_GOOD, "WRITE(16) to the replica: GOOD");
	}

	t = run(tg, cdb, buf, len);
	complete_held(1, -EIO);
	ok(finished == 2 && t->status == SAM_STAT_CHECK_CONDITION &&
	   (t->sense[2] & 0x0f) == SENSE_MEDIUM_ERROR, "WRITE BATCH: a failed write fails it");
	submit_fail_at = 1;
	t = run(tg, cdb, buf, len);
	ok(nheld == 1 && finished == 2, "WRITE BATCH: a refused record: the ones before still run");
	complete_held(~0u, 0);
	submit_fail_at = ~0u;
	ok(finished == 3 && t->status == SAM_STAT_CHECK_CONDITION,
	   "WRITE BATCH: a refused record fails it, after the ones submitted are done");
	mp_cdb(cdb, MP_WRITE_BATCH, 2, len - 512);
	t = run(tg, cdb, buf, len - 512);
	ok(illegal(t) && nheld == 0, "WRITE BATCH: data shorter than the records: refused, nothing "
	   "written");
	mp_cdb(cdb, MP_WRITE_BATCH, 2, len);
	t = run(tg, cdb, buf, len - 512);
	ok(illegal(t) && nheld == 0, "WRITE BATCH: less Data-Out than the CDB says: refused");
	recs[1].lba = DISK / 512;
	mp_batch_rec_encode(&recs[1], buf + MP_BATCH_REC_LEN);
	t = run(tg, cdb, buf, len);
	ok(illegal(t) && nheld == 0, "WRITE BATCH: a record past the disk's end: refused, nothing "
	   "written");
}

static void test_replica(void)
{
	static struct scsi_lu lu;
	static struct scsi_target tg;
	static struct replica r;
	struct mirror_meta m;
	struct mp_state s, got;
	struct scsi_task *t;
	uint8_t cdb[16], out[MP_STATE_LEN];
	uint64_t le;

	snprintf(path, sizeof(path), "%s/PC002.mirror", dir);
	mirror_meta_open(path, DISK, 0, &m);
	mirror_meta_mark(&m, 3 * (uint64_t)MIRROR_CHUNK, 512);
	scsi_lu_init(&lu, &mem, "PC002/img");
	tg.lu[0] = &lu;
	tg.nlu = 1;
	r.meta = &m;
	r.st = &mem;
	r.name = "PC002";
	memset(r.fingerprint, 0x11, sizeof(r.fingerprint));

	mp_cdb(cdb, MP_GET_STATE, 0, MP_STATE_LEN);
	t = run(&tg, cdb, NULL, 0);
	ok(illegal(t), "an LU without the replica hook refuses the vendor command");
	replica_lu_attach(&lu, &r);
	t = run(&tg, cdb, NULL, 0);
	ok(t->status == SAM_STAT_GOOD && mp_state_decode(t->in, t->in_len, &got) == 0 &&
	   got.gen == m.gen && got.nset == 1 && got.fingerprint[0] == 0x11,
	   "GET STATE: our generation, bit count and fingerprint");

	mp_cdb(cdb, MP_GET_BITMAP, 0, 16);
	t = run(&tg, cdb, NULL, 0);
	memcpy(&le, t->in, 8);
	ok(t->status == SAM_STAT_GOOD && t->in_len == 16 && le64toh(le) == 1u << 3,
	   "GET BITMAP: the words, little-endian");
	mp_cdb(cdb, MP_GET_BITMAP, 0, 12);
	ok(illegal(run(&tg, cdb, NULL, 0)), "GET BITMAP: a length not in words is refused");
	mp_cdb(cdb, MP_GET_BITMAP, 3, 8);
	ok(illegal(run(&tg, cdb, NULL, 0)), "GET BITMAP: a first word past the end is refused");
	mp_cdb(cdb, MP_GET_BITMAP, 0, MP_BITMAP_MAX + 8);
	ok(illegal(run(&tg, cdb, NULL, 0)), "GET BITMAP: too long is refused");

	memset(&s, 0, sizeof(s));
	s.gen = 42;
	s.peer_gen = 42;
	s.size = DISK;
	s.nchunks = 101;
	s.flags = MP_SET_CLEAR_BITMAP;
	memset(s.fingerprint, 0x22, sizeof(s.fingerprint));
	mp_state_encode(&s, out);
	mp_cdb(cdb, MP_SET_STATE, 0, MP_STATE_LEN);
	ok(illegal(run(&tg, cdb, out, MP_STATE_LEN)) && m.gen == 0 &&
	   (m.flags & MIRROR_INCONSISTENT),
	   "SET STATE from a source over another base image is refused, the copy marked unusable");
	memset(s.fingerprint, 0x11, sizeof(s.fingerprint));
	mp_state_encode(&s, out);
	ok(illegal(run(&tg, cdb, out, MP_STATE_LEN - 8)) && m.gen != 42,
	   "SET STATE with a short parameter list is refused");
	out[0] ^= 0xff;
	ok(illegal(run(&tg, cdb, out, MP_STATE_LEN)), "SET STATE with a bad magic is refused");
	out[0] ^= 0xff;
	t = run(&tg, cdb, out, MP_STATE_LEN);
	ok(t->status == SAM_STAT_GOOD && m.gen == 42 && m.peer_gen == 42 && m.nset == 0,
	   "SET STATE: the generation taken, the bitmap cleared");

	mp_cdb(cdb, MP_RESET, 0, 0);
	reset_rc = -EBUSY;
	t = run(&tg, cdb, NULL, 0);
	ok(t->status == SAM_STAT_BUSY && m.gen == 0 && (m.flags & MIRROR_INCONSISTENT),
	   "RESET while the overlay is busy: BUSY, the copy already unusable (the source retries)");
	reset_rc = 0;
	t = run(&tg, cdb, NULL, 0);
	ok(t->status == SAM_STAT_GOOD && resets == 2 && m.gen == 0 &&
	   (m.flags & MIRROR_INCONSISTENT), "RESET: overlay discarded, copy inconsistent");
	test_replica_batch(&tg);
	mp_cdb(cdb, 9, 0, 0);
	ok(illegal(run(&tg, cdb, NULL, 0)), "an unknown service action is refused");
	cdb[0] = 0xC7;
	ok(illegal(run(&tg, cdb, NULL, 0)), "another vendor operation code is refused");
	mirror_meta_close(&m);
	unlink(path);
}

int main(void)
{
	if (!mkdtemp(dir))
		skip_all("no temporary directory");
	test_meta();
	test_meta_sweep();
	test_wire();
	test_batch_parse();
	test_replica();
	rmdir(dir);
	return done_testing();
}
