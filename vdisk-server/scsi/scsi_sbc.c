/* SBC-3 block commands: READ, WRITE, VERIFY, WRITE AND VERIFY, COMPARE AND WRITE, ORWRITE,
 * WRITE SAME, UNMAP, SYNCHRONIZE CACHE, PRE-FETCH, READ CAPACITY, GET LBA STATUS. Each store
 * request completes on the loop thread and continues the command at task->next. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "common/wire.h"
#include "vdisk-server/scsi/scsi.h"
#include "vdisk-server/scsi/scsi_cdb.h"

#define WS_CHUNK_BLOCKS 2048u	/* WRITE SAME writes this many blocks per store request */

enum { SBC_FUA = 1, SBC_ONE_BLOCK = 2 };

/* Decodes LBA and transfer length of the READ/WRITE/VERIFY families. */
static void decode_rw(const uint8_t *cdb, uint64_t *lba, uint32_t *n)
{
	switch (cdb[0] >> 5) {
	case 0:		/* 6-byte */
		*lba = get_be24(cdb + 1) & 0x1fffff;
		*n = cdb[4] ? cdb[4] : 256;
		break;
	case 1:		/* 10-byte */
	case 2:
		*lba = get_be32(cdb + 2);
		*n = get_be16(cdb + 7);
		break;
	case 5:		/* 12-byte */
		*lba = get_be32(cdb + 2);
		*n = get_be32(cdb + 6);
		break;
	default:	/* 16-byte */
		*lba = get_be64(cdb + 2);
		*n = get_be32(cdb + 10);
		break;
	}
}

/* The Data-Out the command needs must all have come: EDTL below it is refused before any
 * write (libiscsi and FCP-4 accept this or a truncated write). */
static int need_out(struct scsi_task *t, uint32_t bytes)
{
	t->out_want = bytes;
	if (t->out_len < bytes) {
		/* INVALID FIELD IN COMMAND INFORMATION UNIT */
		scsi_sense(t, SENSE_ILLEGAL_REQUEST, 0x0e, 0x03);
		return 1;
	}
	return 0;
}

static void step_finish(struct scsi_task *t)
{
	scsi_finish(t);
}

/* Whether every page of the extents is in the page cache: only then may the loop thread
 * send them with sendfile, which would otherwise wait for the disk. */
static int extents_cached(const struct store_extent *ext, int n)
{
	static unsigned char vec[SCSI_MAX_XFER_BYTES / 4096 + 2];
	long page = sysconf(_SC_PAGESIZE);

	for (int i = 0; i < n; i++) {
		uint64_t start = ext[i].offset & ~(uint64_t)(page - 1);
		size_t len = (size_t)(ext[i].offset + ext[i].length - start);
		size_t pages = (len + (size_t)page - 1) / (size_t)page;
		void *map;
		int rc;

		if (pages > sizeof(vec))
			return 0;
		map = mmap(NULL, len, PROT_READ, MAP_SHARED, ext[i].fd, (off_t)start);
		if (map == MAP_FAILED)
			return 0;
		rc = mincore(map, len, vec);
		munmap(map, len);
		if (rc < 0)
			return 0;
		for (size_t p = 0; p < pages; p++)
			if (!(vec[p] & 1))
				return 0;
	}
	return 1;
}

/* A READ answered with file ranges the transport sends itself; 0 when it must be copied. */
static int read_zero_copy(struct scsi_task *t, uint64_t lba, uint32_t n)
{
	struct store *st = t->lu->st;
	uint64_t len = (uint64_t)n * SCSI_BLOCK;
	int k;

	if (!t->zero_copy || !st->ops->read_extents || len < SCSI_ZERO_COPY_MIN)
		return 0;
	k = st->ops->read_extents(st, lba * SCSI_BLOCK, len, t->ext, SCSI_MAX_EXTENTS);
	if (k <= 0 || !extents_cached(t->ext, k))
		return 0;
	t->nextents = k;
	t->in_len = (uint32_t)len;
	return 1;
}

/* See scsi.h. */
void scsi_sbc_read(struct scsi_task *t)
{
	uint8_t *cdb = t->cdb;
	uint64_t lba;
	uint32_t n;

	decode_rw(cdb, &lba, &n);
	if (cdb[0] != READ_6 && (cdb[1] & 0xe0)) {	/* RDPROTECT without protection info */
		scsi_sense(t, SENSE_ILLEGAL_REQUEST, ASC_INVALID_FIELD_CDB, 0);
		goto out;
	}
	if (scsi_range_bad(t, lba, n))
		goto out;
	if (n > SCSI_MAX_XFER_BLOCKS) {
		scsi_sense(t, SENSE_ILLEGAL_REQUEST, ASC_INVALID_FIELD_CDB, 0);
		goto out;
	}
	if (n == 0)
		goto out;
	t->lu->reads++;
	t->lu->bytes_read += (uint64_t)n * SCSI_BLOCK;
	if (read_zero_copy(t, lba, n))
		goto out;
	t->in = malloc((size_t)n * SCSI_BLOCK);
	if (!t->in) {
		scsi_fail_errno(t, -ENOMEM, 0);
		goto out;
	}
	t->in_len = n * SCSI_BLOCK;
	scsi_submit(t, STORE_OP_READ, 0, lba, n, t->in, step_finish);
	return;
out:
	scsi_finish(t);
}

static void write_verify_compare(struct scsi_task *t);

/* The checks a block-writing command makes, in the order their sense is owed: a bad CDB
 * field, write protection, the range, the transfer cap. Returns 1 when the command goes on;
 * 0 when it has ended (sense set, or zero blocks: nothing to write). */
static int write_checks(struct scsi_task *t, int bad_field, uint64_t lba, uint32_t n,
			uint32_t max)
{
	if (bad_field) {
		scsi_sense(t, SENSE_ILLEGAL_REQUEST, ASC_INVALID_FIELD_CDB, 0);
		return 0;
	}
	if (scsi_write_protected(t) || scsi_range_bad(t, lba, n))
		return 0;
	if (n > max) {
		scsi_sense(t, SENSE_ILLEGAL_REQUEST, ASC_INVALID_FIELD_CDB, 0);
		return 0;
	}
	return n != 0;
}

/* See scsi.h. */
void scsi_sbc_write(struct scsi_task *t)
{
	uint8_t *cdb = t->cdb;
	uint64_t lba;
	uint32_t n;
	unsigned flags = 0;
	int verify = cdb[0] == WRITE_VERIFY_10 || cdb[0] == WRITE_VERIFY_12 ||
		     cdb[0] == WRITE_VERIFY_16;

	decode_rw(cdb, &lba, &n);
	t->out_want = n * SCSI_BLOCK;
	/* WRPROTECT must be 0 */
	if (!write_checks(t, cdb[0] != WRITE_6 && (cdb[1] & 0xe0), lba, n, SCSI_MAX_XFER_BLOCKS))
		goto out;
	if (t->out_len < n * SCSI_BLOCK) {
		/* EDTL below the transfer length: FCP-4's choice (a), also SAM-5's for iSCSI:
		 * write only the whole blocks that came, report the overflow residual */
		n = t->out_len / SCSI_BLOCK;
		if (n == 0)
			goto out;
	}
	/* WRITE AND VERIFY is durable before the compare; FUA asks the same of a WRITE */
	if (verify || (cdb[0] != WRITE_6 && (cdb[1] & 0x08)))
		flags |= STORE_FUA;
	t->lu->writes++;
	t->lu->bytes_written += (uint64_t)n * SCSI_BLOCK;
	t->lba = lba;
	t->nblk = n;
	/* BYTCHK in WRITE AND VERIFY: compare what landed (read back) with what was sent */
	if (verify && (cdb[1] & 0x02)) {
		scsi_submit(t, STORE_OP_WRITE, flags, lba, n, t->out, write_verify_compare);
		return;
	}
	scsi_submit(t, STORE_OP_WRITE, flags, lba, n, t->out, step_finish);
	return;
out:
	scsi_finish(t);
}

/* Compares scratch (what the medium holds) with expect; MISCOMPARE with the offset. */
static int compare_blocks(struct scsi_task *t, const uint8_t *medium, const uint8_t *expect,
			  uint32_t len)
{
	for (uint32_t i = 0; i < len; i++) {
		if (medium[i] != expect[i]) {
			scsi_sense_info(t, SENSE_MISCOMPARE, ASC_MISCOMPARE, 0, i);
			return 1;
		}
	}
	return 0;
}

static void verify_compare(struct scsi_task *t)
{
	if (!(t->sflags & SBC_ONE_BLOCK)) {
		compare_blocks(t, t->scratch, t->out, t->nblk * SCSI_BLOCK);
	} else {
		/* BYTCHK 3: one Data-Out block against every block of the range */
		for (uint32_t i = 0; i < t->nblk; i++) {
			uint8_t *m = t->scratch + (size_t)i * SCSI_BLOCK;

			for (uint32_t j = 0; j < SCSI_BLOCK; j++) {
				if (m[j] != t->out[j]) {
					scsi_sense_info(t, SENSE_MISCOMPARE, ASC_MISCOMPARE, 0,
							(uint64_t)i * SCSI_BLOCK + j);
					scsi_finish(t);
					return;
				}
			}
		}
	}
	scsi_finish(t);
}

static void write_verify_compare(struct scsi_task *t)
{
	t->scratch = malloc((size_t)t->nblk * SCSI_BLOCK);
	if (!t->scratch) {
		scsi_fail_errno(t, -ENOMEM, 0);
		scsi_finish(t);
		return;
	}
	scsi_submit(t, STORE_OP_READ, 0, t->lba, t->nblk, t->scratch, verify_compare);
}

/* See scsi.h. */
void scsi_sbc_verify(struct scsi_task *t)
{
	uint8_t *cdb = t->cdb;
	uint64_t lba;
	uint32_t n;
	int bytchk = (cdb[1] >> 1) & 3;

	decode_rw(cdb, &lba, &n);
	if (cdb[1] & 0xe0) {	/* VRPROTECT */
		scsi_sense(t, SENSE_ILLEGAL_REQUEST, ASC_INVALID_FIELD_CDB, 0);
		goto out;
	}
	if (bytchk == 2) {	/* reserved */
		scsi_sense(t, SENSE_ILLEGAL_REQUEST, ASC_INVALID_FIELD_CDB, 0);
		goto out;
	}
	if (bytchk)
		t->out_want = (bytchk == 3 ? 1 : n) * SCSI_BLOCK;
	if (scsi_range_bad(t, lba, n))
		goto out;
	if (n > SCSI_MAX_XFER_BLOCKS) {
		scsi_sense(t, SENSE_ILLEGAL_REQUEST, ASC_INVALID_FIELD_CDB, 0);
		goto out;
	}
	if (n == 0)
		goto out;
	if (!bytchk) {
		/* the medium check: read it, the store reports any error */
		t->scratch = malloc((size_t)n * SCSI_BLOCK);
		if (!t->scratch) {
			scsi_fail_errno(t, -ENOMEM, 0);
			goto out;
		}
		scsi_submit(t, STORE_OP_READ, 0, lba, n, t->scratch, step_finish);
		return;
	}
	if (need_out(t, t->out_want))
		goto out;
	t->sflags = bytchk == 3 ? SBC_ONE_BLOCK : 0;
	t->lba = lba;
	t->nblk = n;
	t->scratch = malloc((size_t)n * SCSI_BLOCK);
	if (!t->scratch) {
		scsi_fail_errno(t, -ENOMEM, 0);
		goto out;
	}
	scsi_submit(t, STORE_OP_READ, 0, lba, n, t->scratch, verify_compare);
	return;
out:
	scsi_finish(t);
}

/* COMPARE AND WRITE: Data-Out holds n blocks to compare, then n blocks to write. */
/* The first step of the read-modify-write commands (COMPARE AND WRITE, ORWRITE): reads
 * [lba, lba + n) into a scratch buffer the task owns, then continues with next; the FUA bit
 * of the CDB is kept for the write that follows. */
static void read_scratch(struct scsi_task *t, uint64_t lba, uint32_t n, scsi_step_fn next)
{
	t->lba = lba;
	t->nblk = n;
	t->sflags = t->cdb[1] & 0x08 ? SBC_FUA : 0;
	t->scratch = malloc((size_t)n * SCSI_BLOCK);
	if (!t->scratch) {
		scsi_fail_errno(t, -ENOMEM, 0);
		scsi_finish(t);
		return;
	}
	scsi_submit(t, STORE_OP_READ, 0, lba, n, t->scratch, next);
}

static void caw_compare(struct scsi_task *t)
{
	uint32_t len = t->nblk * SCSI_BLOCK;

	if (compare_blocks(t, t->scratch, t->out, len)) {
		scsi_finish(t);
		return;
	}
	t->lu->writes++;
	t->lu->bytes_written += len;
	scsi_submit(t, STORE_OP_WRITE, t->sflags & SBC_FUA ? STORE_FUA : 0, t->lba, t->nblk,
	       t->out + len, step_finish);
}

/* See scsi.h. */
void scsi_sbc_compare_and_write(struct scsi_task *t)
{
	uint8_t *cdb = t->cdb;
	uint64_t lba = get_be64(cdb + 2);
	uint32_t n = cdb[13];

	t->out_want = 2 * n * SCSI_BLOCK;
	/* data for a command that takes none: the initiator meant more than 255 blocks */
	if (!write_checks(t, (cdb[1] & 0xe0) || (n == 0 && t->edtl), lba, n, SCSI_MAX_CAW_BLOCKS))
		goto out;
	/* Data-Out must be exactly the compare and the write blocks */
	if (need_out(t, 2 * n * SCSI_BLOCK))
		goto out;
	if (t->out_len != 2 * n * SCSI_BLOCK) {
		scsi_sense(t, SENSE_ILLEGAL_REQUEST, 0x0e, 0x03);
		goto out;
	}
	read_scratch(t, lba, n, caw_compare);
	return;
out:
	scsi_finish(t);
}

/* ORWRITE (16): read, OR the Data-Out in, write back. */
static void orwrite_merge(struct scsi_task *t)
{
	uint32_t len = t->nblk * SCSI_BLOCK;

	for (uint32_t i = 0; i < len; i++)
		t->scratch[i] |= t->out[i];
	t->lu->writes++;
	t->lu->bytes_written += len;
	scsi_submit(t, STORE_OP_WRITE, t->sflags & SBC_FUA ? STORE_FUA : 0, t->lba, t->nblk,
	       t->scratch, step_finish);
}

/* See scsi.h. */
void scsi_sbc_orwrite(struct scsi_task *t)
{
	uint8_t *cdb = t->cdb;
	uint64_t lba = get_be64(cdb + 2);
	uint32_t n = get_be32(cdb + 10);

	t->out_want = n * SCSI_BLOCK;
	if (!write_checks(t, cdb[1] & 0xe0, lba, n, SCSI_MAX_XFER_BLOCKS))
		goto out;
	if (need_out(t, n * SCSI_BLOCK))
		goto out;
	read_scratch(t, lba, n, orwrite_merge);
	return;
out:
	scsi_finish(t);
}

/* WRITE SAME: the block replicated into a chunk buffer, written chunk by chunk; with
 * UNMAP on a thin store, the range is unmapped instead. */
static void ws_next(struct scsi_task *t)
{
	uint32_t left = t->nblk - t->pos, n = left < WS_CHUNK_BLOCKS ? left : WS_CHUNK_BLOCKS;

	if (left == 0) {
		scsi_finish(t);
		return;
	}
	t->pos += n;
	t->lu->writes++;
	t->lu->bytes_written += (uint64_t)n * SCSI_BLOCK;
	scsi_submit(t, STORE_OP_WRITE, 0, t->lba + t->pos - n, n, t->scratch, ws_next);
}

/* See scsi.h. */
void scsi_sbc_write_same(struct scsi_task *t)
{
	uint8_t *cdb = t->cdb;
	uint64_t lba;
	uint32_t n, chunk;
	int unmap = cdb[1] & 0x08, anchor = cdb[1] & 0x10, ndob = 0;

	if (cdb[0] == WRITE_SAME_10) {
		lba = get_be32(cdb + 2);
		n = get_be16(cdb + 7);
	} else {
		lba = get_be64(cdb + 2);
		n = get_be32(cdb + 10);
		ndob = cdb[1] & 0x01;
	}
	t->out_want = ndob ? 0 : SCSI_BLOCK;
	if ((cdb[1] & 0xe0) || anchor) {
		scsi_sense(t, SENSE_ILLEGAL_REQUEST, ASC_INVALID_FIELD_CDB, 0);
		goto out;
	}
	if (scsi_write_protected(t) || scsi_range_bad(t, lba, n))
		goto out;
	/* zero blocks: from lba to the end of the medium (WSNZ 0 in VPD B0) */
	if (n == 0)
		n = (uint32_t)(t->lu->nblocks - lba > UINT32_MAX ? UINT32_MAX
							       : t->lu->nblocks - lba);
	if (n == 0 || n > SCSI_MAX_WS_BLOCKS) {
		scsi_sense(t, SENSE_ILLEGAL_REQUEST, ASC_INVALID_FIELD_CDB, 0);
		goto out;
	}
	if (!ndob && (need_out(t, SCSI_BLOCK) || t->out_len != SCSI_BLOCK)) {
		/* one block of Data-Out, no more: INVALID FIELD IN COMMAND INFORMATION UNIT */
		scsi_sense(t, SENSE_ILLEGAL_REQUEST, 0x0e, 0x03);
		goto out;
	}
	t->lba = lba;
	t->nblk = n;
	t->pos = 0;
	/* LBPRZ is 0 (unmapped blocks read the base image again), so SBC-3 lets the UNMAP
	 * bit release the range whatever the data block holds. */
	if (unmap && t->lu->st->thin) {
		scsi_submit(t, STORE_OP_UNMAP, 0, lba, n, NULL, step_finish);
		return;
	}
	chunk = n < WS_CHUNK_BLOCKS ? n : WS_CHUNK_BLOCKS;
	t->scratch = malloc((size_t)chunk * SCSI_BLOCK);
	if (!t->scratch) {
		scsi_fail_errno(t, -ENOMEM, 0);
		goto out;
	}
	for (uint32_t i = 0; i < chunk; i++) {
		if (ndob)
			memset(t->scratch + (size_t)i * SCSI_BLOCK, 0, SCSI_BLOCK);
		else
			memcpy(t->scratch + (size_t)i * SCSI_BLOCK, t->out, SCSI_BLOCK);
	}
	ws_next(t);
	return;
out:
	scsi_finish(t);
}

/* UNMAP: the parameter list's block descriptors, one store request each. */
static void unmap_next(struct scsi_task *t)
{
	const uint8_t *d;
	uint64_t lba;
	uint32_t n;

	while (t->pos < t->nblk) {
		d = t->out + 8 + 16 * t->pos++;
		lba = get_be64(d);
		n = get_be32(d + 8);
		if (n == 0)
			continue;
		scsi_submit(t, STORE_OP_UNMAP, 0, lba, n, NULL, unmap_next);
		return;
	}
	scsi_finish(t);
}

/* See scsi.h. */
void scsi_sbc_unmap(struct scsi_task *t)
{
	uint8_t *cdb = t->cdb;
	uint32_t plen = get_be16(cdb + 7), dlen, ndesc;

	t->out_want = plen;
	if (!t->lu->st->thin) {
		scsi_sense(t, SENSE_ILLEGAL_REQUEST, ASC_INVALID_OPCODE, 0);
		goto out;
	}
	if (cdb[1] & 0x01) {	/* ANCHOR */
		scsi_sense(t, SENSE_ILLEGAL_REQUEST, ASC_INVALID_FIELD_CDB, 0);
		goto out;
	}
	if (scsi_write_protected(t))
		goto out;
	if (plen == 0)
		goto out;
	if (plen < 8 || t->out_len < plen) {
		scsi_sense(t, SENSE_ILLEGAL_REQUEST, ASC_PARAM_LIST_LENGTH, 0);
		goto out;
	}
	dlen = get_be16(t->out + 2);
	if (dlen > plen - 8 || dlen % 16) {
		scsi_sense(t, SENSE_ILLEGAL_REQUEST, ASC_PARAM_LIST_LENGTH, 0);
		goto out;
	}
	ndesc = dlen / 16;
	if (ndesc > SCSI_MAX_UNMAP_DESC) {
		scsi_sense(t, SENSE_ILLEGAL_REQUEST, ASC_INVALID_FIELD_PARAM, 0);
		goto out;
	}
	for (uint32_t i = 0; i < ndesc; i++) {
		const uint8_t *d = t->out + 8 + 16 * i;
		uint64_t lba = get_be64(d);
		uint32_t n = get_be32(d + 8);

		if (scsi_range_bad(t, lba, n))
			goto out;
		if (n > SCSI_MAX_UNMAP_BLOCKS) {
			scsi_sense(t, SENSE_ILLEGAL_REQUEST, ASC_INVALID_FIELD_PARAM, 0);
			goto out;
		}
	}
	t->pos = 0;
	t->nblk = ndesc;
	unmap_next(t);
	return;
out:
	scsi_finish(t);
}

/* LBA and block count of the 10- and 16-byte forms of SYNCHRONIZE CACHE and PRE-FETCH,
 * which share their layouts. */
static void cdb_range(const uint8_t *cdb, int ten, uint64_t *lba, uint32_t *n)
{
	*lba = ten ? get_be32(cdb + 2) : get_be64(cdb + 2);
	*n = ten ? get_be16(cdb + 7) : get_be32(cdb + 10);
}

/* See scsi.h. */
void scsi_sbc_sync_cache(struct scsi_task *t)
{
	uint64_t lba;
	uint32_t n;

	cdb_range(t->cdb, t->cdb[0] == SYNCHRONIZE_CACHE_10, &lba, &n);
	if (scsi_range_bad(t, lba, n)) {
		scsi_finish(t);
		return;
	}
	scsi_submit(t, STORE_OP_FLUSH, 0, 0, 0, NULL, step_finish);
}

/* See scsi.h. */
void scsi_sbc_prefetch(struct scsi_task *t)
{
	uint64_t lba;
	uint32_t n;

	cdb_range(t->cdb, t->cdb[0] == PRE_FETCH_10, &lba, &n);
	/* nothing is cached above the store: the range fits, so CONDITION MET */
	if (!scsi_range_bad(t, lba, n))
		t->status = SAM_STAT_CONDITION_MET;
	scsi_finish(t);
}

/* See scsi.h. */
void scsi_sbc_read_capacity10(struct scsi_task *t)
{
	uint64_t last = t->lu->nblocks - 1;

	if (scsi_alloc_in(t, 8) == 0) {
		put_be32(t->in, last > 0xffffffffu ? 0xffffffffu : (uint32_t)last);
		put_be32(t->in + 4, SCSI_BLOCK);
	}
	scsi_finish(t);
}

/* See scsi.h. */
void scsi_sbc_read_capacity16(struct scsi_task *t)
{
	uint32_t alloc = get_be32(t->cdb + 10);

	if (scsi_alloc_in(t, 32) == 0) {
		put_be64(t->in, t->lu->nblocks - 1);
		put_be32(t->in + 8, SCSI_BLOCK);
		if (t->lu->st->thin)
			t->in[14] = 0x80;	/* LBPME; LBPRZ 0: unmapped reads the base */
		scsi_in_truncate(t, alloc);
	}
	scsi_finish(t);
}

/* See scsi.h. */
void scsi_sbc_get_lba_status(struct scsi_task *t)
{
	struct store *st = t->lu->st;
	uint64_t lba = get_be64(t->cdb + 2), run_bytes;
	uint32_t alloc = get_be32(t->cdb + 10), ndesc = 0, max;
	int mapped = 1;

	if (lba >= t->lu->nblocks) {
		scsi_sense(t, SENSE_ILLEGAL_REQUEST, ASC_LBA_OUT_OF_RANGE, 0);
		goto out;
	}
	max = alloc < 8 ? 0 : (alloc - 8) / 16;
	if (max > 64)
		max = 64;
	if (scsi_alloc_in(t, 8 + 16 * (max ? max : 1)) < 0)
		goto out;
	while (ndesc < max && lba < t->lu->nblocks) {
		uint8_t *d = t->in + 8 + 16 * ndesc;
		uint64_t run;

		run_bytes = (t->lu->nblocks - lba) * SCSI_BLOCK;
		if (st->ops->lba_status &&
		    st->ops->lba_status(st, lba * SCSI_BLOCK, &mapped, &run_bytes) < 0) {
			mapped = 1;
			run_bytes = (t->lu->nblocks - lba) * SCSI_BLOCK;
		}
		run = run_bytes / SCSI_BLOCK;
		if (run == 0 || run > t->lu->nblocks - lba)
			run = t->lu->nblocks - lba;
		if (run > 0xffffffffu)
			run = 0xffffffffu;
		put_be64(d, lba);
		put_be32(d + 8, (uint32_t)run);
		d[12] = mapped ? 0 : 1;	/* mapped / deallocated */
		ndesc++;
		lba += run;
	}
	put_be32(t->in, 4 + 16 * ndesc);
	t->in_len = 8 + 16 * ndesc;
	scsi_in_truncate(t, alloc);
out:
	scsi_finish(t);
}

/* See scsi.h. */
void scsi_sbc_read_defect_data(struct scsi_task *t)
{
	uint8_t *cdb = t->cdb;
	uint32_t alloc;

	/* no defect list: a header with the requested format and no entries */
	if (cdb[0] == READ_DEFECT_DATA_10) {
		alloc = get_be16(cdb + 7);
		if (scsi_alloc_in(t, 4) == 0)
			t->in[1] = cdb[2] & 0x1f;
	} else {
		alloc = get_be32(cdb + 6);
		if (scsi_alloc_in(t, 8) == 0)
			t->in[1] = cdb[1] & 0x1f;
	}
	scsi_in_truncate(t, alloc);
	scsi_finish(t);
}
