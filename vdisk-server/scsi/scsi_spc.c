/* SPC-4 primary commands: INQUIRY and its VPD pages, MODE SENSE/SELECT, REPORT LUNS,
 * REPORT SUPPORTED OPERATION CODES, REQUEST SENSE. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "common/wire.h"
#include "vdisk-server/scsi/scsi.h"
#include "vdisk-server/scsi/scsi_cdb.h"

#define VENDOR		"VDISK   "
#define PRODUCT		"vdiskd          "
#define REVISION	"1.0 "

static void pad_copy(uint8_t *dst, const char *src, size_t n)
{
	size_t l = strlen(src);

	memset(dst, ' ', n);
	memcpy(dst, src, l < n ? l : n);
}

static void inquiry_standard(struct scsi_task *t)
{
	uint8_t *b;

	if (scsi_alloc_in(t, 66) < 0)
		return;
	b = t->in;
	b[0] = t->lu ? 0x00 : 0x7f;	/* disk, or "no LU at this LUN" */
	b[2] = 0x06;			/* SPC-4 */
	b[3] = 0x12;			/* HISUP, response data format 2 */
	b[4] = 66 - 5;
	b[7] = 0x02;			/* CMDQUE */
	pad_copy(b + 8, VENDOR, 8);
	pad_copy(b + 16, PRODUCT, 16);
	pad_copy(b + 32, REVISION, 4);
	put_be16(b + 58, 0x00a0);	/* SAM-5 */
	put_be16(b + 60, 0x0960);	/* iSCSI */
	put_be16(b + 62, 0x0460);	/* SPC-4 */
	put_be16(b + 64, 0x04c0);	/* SBC-3 */
}

static const uint8_t vpd_pages[] = { 0x00, 0x80, 0x83, 0x8f, 0xb0, 0xb1, 0xb2 };

/* VPD 8Fh, third-party copy: one Supported Commands descriptor (EXTENDED COPY LID1 and the
 * two RECEIVE COPY RESULTS service actions of scsi_xcopy.c). */
static const uint8_t vpd_tpc[] = {
	0x00, 0x01, 0x00, 0x08,		/* descriptor type 0001h, length 8 */
	7,				/* commands supported list length */
	EXTENDED_COPY, 1, XCOPY_LID1,
	RECEIVE_COPY_RESULTS, 2, RCR_COPY_STATUS, RCR_OPERATING_PARAMETERS,
};

static int inquiry_vpd(struct scsi_task *t, uint8_t page)
{
	struct scsi_lu *lu = t->lu;
	uint8_t *b;

	switch (page) {
	case 0x00:
		if (scsi_alloc_in(t, 4 + sizeof(vpd_pages)) < 0)
			return 0;
		memcpy(t->in + 4, vpd_pages, sizeof(vpd_pages));
		t->in[3] = sizeof(vpd_pages);
		break;
	case 0x80:
		if (scsi_alloc_in(t, 4 + 32) < 0)
			return 0;
		memcpy(t->in + 4, lu->serial, 32);
		t->in[3] = 32;
		break;
	case 0x83:
		if (scsi_alloc_in(t, 4 + 20 + 44 + 8) < 0)
			return 0;
		b = t->in + 4;
		b[0] = 0x01;	/* binary */
		b[1] = 0x03;	/* associated with the LU, NAA */
		b[3] = 16;
		memcpy(b + 4, lu->naa, 16);
		b += 20;
		b[0] = 0x02;	/* ASCII */
		b[1] = 0x01;	/* T10 vendor ID */
		b[3] = 40;
		memcpy(b + 4, VENDOR, 8);
		memcpy(b + 12, lu->serial, 32);
		b += 44;
		b[0] = 0x51;	/* iSCSI, binary */
		b[1] = 0x94;	/* PIV, target port, relative target port */
		b[3] = 4;
		put_be16(b + 6, 1);
		put_be16(t->in + 2, 20 + 44 + 8);
		break;
	case 0x8f:
		if (scsi_alloc_in(t, 4 + sizeof(vpd_tpc)) < 0)
			return 0;
		memcpy(t->in + 4, vpd_tpc, sizeof(vpd_tpc));
		put_be16(t->in + 2, sizeof(vpd_tpc));
		break;
	case 0xb0:
		if (scsi_alloc_in(t, 64) < 0)
			return 0;
		b = t->in;
		b[3] = 0x3c;
		b[5] = SCSI_MAX_CAW_BLOCKS;
		put_be16(b + 6, 8);		/* optimal transfer granularity: 4 KiB */
		put_be32(b + 8, SCSI_MAX_XFER_BLOCKS);
		put_be32(b + 12, 2048);		/* optimal transfer: 1 MiB */
		if (lu->st->thin) {
			put_be32(b + 20, SCSI_MAX_UNMAP_BLOCKS);
			put_be32(b + 24, SCSI_MAX_UNMAP_DESC);
			put_be32(b + 28, 8);
		}
		put_be64(b + 36, SCSI_MAX_WS_BLOCKS);
		break;
	case 0xb1:
		if (scsi_alloc_in(t, 64) < 0)
			return 0;
		t->in[3] = 0x3c;
		put_be16(t->in + 4, 1);		/* non-rotating medium */
		/* WABEREQ 01b, WACEREQ 01b: a block read after BLOCK or CRYPTO ERASE succeeds
		 * and returns what the store holds then (the base image, or zeros) */
		t->in[7] = 0x40 | 0x10;
		break;
	case 0xb2:
		if (scsi_alloc_in(t, 8) < 0)
			return 0;
		b = t->in;
		b[3] = 4;
		if (lu->st->thin) {
			b[5] = 0x80 | 0x40 | 0x20;	/* LBPU, LBPWS, LBPWS10 */
			b[6] = 0x02;			/* thin provisioned */
		}
		break;
	default:
		return -EINVAL;
	}
	t->in[0] = 0x00;
	t->in[1] = page;
	return 0;
}

void scsi_spc_inquiry(struct scsi_task *t)
{
	uint8_t *cdb = t->cdb;
	uint32_t alloc = get_be16(cdb + 3);

	if (cdb[1] & 0x02) {			/* CMDDT: obsolete */
		scsi_sense(t, SENSE_ILLEGAL_REQUEST, ASC_INVALID_FIELD_CDB, 0);
	} else if (!(cdb[1] & 0x01)) {
		if (cdb[2])
			scsi_sense(t, SENSE_ILLEGAL_REQUEST, ASC_INVALID_FIELD_CDB, 0);
		else
			inquiry_standard(t);
	} else if (!t->lu) {
		scsi_sense(t, SENSE_ILLEGAL_REQUEST, ASC_LUN_NOT_SUPPORTED, 0);
	} else if (inquiry_vpd(t, cdb[2]) < 0) {
		scsi_sense(t, SENSE_ILLEGAL_REQUEST, ASC_INVALID_FIELD_CDB, 0);
	}
	scsi_in_truncate(t, alloc);
	scsi_finish(t);
}

/* Mode pages: current values, and which bits MODE SELECT may change. */
enum { MP_RW_RECOVERY = 0x01, MP_CACHING = 0x08, MP_CONTROL = 0x0a, MP_INFO_EXC = 0x1c };
static const uint8_t mode_page_list[] = { MP_RW_RECOVERY, MP_CACHING, MP_CONTROL, MP_INFO_EXC };

/* Writes page (pc: 0 current, 1 changeable, 2 default) at b; returns its length. */
static uint32_t mode_page(struct scsi_lu *lu, uint8_t page, int pc, uint8_t *b)
{
	switch (page) {
	case MP_RW_RECOVERY:
		memset(b, 0, 12);
		b[0] = page;
		b[1] = 10;
		return 12;
	case MP_CACHING:
		memset(b, 0, 20);
		b[0] = page;
		b[1] = 18;
		if (pc == 1)
			b[2] = 0x04;
		else if (pc == 2 || lu->wce)
			b[2] = 0x04;	/* WCE */
		return 20;
	case MP_CONTROL:
		memset(b, 0, 12);
		b[0] = page;
		b[1] = 10;
		if (pc == 1) {
			b[2] = 0x04;	/* D_SENSE */
			b[4] = 0x08;	/* SWP */
			return 12;
		}
		if (pc == 0) {
			b[2] = lu->d_sense ? 0x04 : 0;
			b[4] = lu->swp ? 0x08 : 0;
		}
		b[3] = 0x10;		/* QUEUE ALGORITHM MODIFIER 1: unrestricted */
		put_be16(b + 8, 0xffff);	/* busy timeout: unlimited */
		return 12;
	case MP_INFO_EXC:
		memset(b, 0, 12);
		b[0] = page;
		b[1] = 10;
		return 12;
	}
	return 0;
}

void scsi_spc_mode_sense(struct scsi_task *t)
{
	struct scsi_lu *lu = t->lu;
	uint8_t *cdb = t->cdb, *b;
	int ten = cdb[0] == MODE_SENSE_10;
	int dbd = cdb[1] & 0x08, llbaa = ten && (cdb[1] & 0x10);
	int pc = cdb[2] >> 6;
	uint8_t page = cdb[2] & 0x3f, subpage = cdb[3];
	uint32_t alloc = ten ? get_be16(cdb + 7) : cdb[4];
	uint32_t hdr = ten ? 8 : 4, bdlen = dbd ? 0 : (llbaa ? 16 : 8), off;

	if (pc == 3) {
		scsi_sense(t, SENSE_ILLEGAL_REQUEST, ASC_SAVING_NOT_SUPPORTED, 0);
		goto out;
	}
	if (page == 0x3f ? (subpage != 0 && subpage != 0xff) : subpage != 0) {
		scsi_sense(t, SENSE_ILLEGAL_REQUEST, ASC_INVALID_FIELD_CDB, 0);
		goto out;
	}
	if (page != 0x3f && !memchr(mode_page_list, page, sizeof(mode_page_list))) {
		scsi_sense(t, SENSE_ILLEGAL_REQUEST, ASC_INVALID_FIELD_CDB, 0);
		goto out;
	}
	if (scsi_alloc_in(t, 256) < 0)
		goto out;
	b = t->in;
	off = hdr;
	if (bdlen == 8) {
		put_be32(b + off, lu->nblocks > 0xffffffffu ? 0xffffffffu : (uint32_t)lu->nblocks);
		put_be24(b + off + 5, SCSI_BLOCK);
	} else if (bdlen == 16) {
		put_be64(b + off, lu->nblocks);
		put_be32(b + off + 12, SCSI_BLOCK);
	}
	off += bdlen;
	for (unsigned i = 0; i < sizeof(mode_page_list); i++)
		if (page == 0x3f || page == mode_page_list[i])
			off += mode_page(lu, mode_page_list[i], pc, b + off);
	/* device-specific parameter: WP, DPOFUA */
	if (ten) {
		put_be16(b, (uint16_t)(off - 2));
		b[3] = (lu->read_only || lu->swp ? 0x80 : 0) | 0x10;
		b[4] = llbaa ? 0x01 : 0;
		put_be16(b + 6, (uint16_t)bdlen);
	} else {
		b[0] = (uint8_t)(off - 1);
		b[2] = (lu->read_only || lu->swp ? 0x80 : 0) | 0x10;
		b[3] = (uint8_t)bdlen;
	}
	t->in_len = off;
	scsi_in_truncate(t, alloc);
out:
	scsi_finish(t);
}

void scsi_spc_mode_select(struct scsi_task *t)
{
	struct scsi_lu *lu = t->lu;
	uint8_t *cdb = t->cdb, cur[32], chg[32];
	int ten = cdb[0] == MODE_SELECT_10;
	uint32_t plen = ten ? get_be16(cdb + 7) : cdb[4];
	uint32_t hdr = ten ? 8 : 4, off, bdlen;
	int wce = lu->wce, d_sense = lu->d_sense, swp = lu->swp;

	t->out_want = plen;
	if (cdb[1] & 0x01) {	/* SP: nothing is saved */
		scsi_sense(t, SENSE_ILLEGAL_REQUEST, ASC_INVALID_FIELD_CDB, 0);
		goto out;
	}
	if (plen == 0)
		goto out;
	if (t->out_len < plen || plen < hdr) {
		scsi_sense(t, SENSE_ILLEGAL_REQUEST, ASC_PARAM_LIST_LENGTH, 0);
		goto out;
	}
	bdlen = ten ? get_be16(t->out + 6) : t->out[3];
	if (bdlen > plen - hdr) {
		scsi_sense(t, SENSE_ILLEGAL_REQUEST, ASC_PARAM_LIST_LENGTH, 0);
		goto out;
	}
	off = hdr + bdlen;
	while (off < plen) {
		const uint8_t *p = t->out + off;
		uint32_t n;

		if (plen - off < 2 || (p[0] & 0x40)) {	/* no room, or a subpage */
			scsi_sense(t, SENSE_ILLEGAL_REQUEST, ASC_INVALID_FIELD_PARAM, 0);
			goto out;
		}
		n = mode_page(lu, p[0] & 0x3f, 0, cur);
		mode_page(lu, p[0] & 0x3f, 1, chg);
		if (n == 0 || p[1] + 2u != n || n > plen - off) {
			scsi_sense(t, SENSE_ILLEGAL_REQUEST, ASC_INVALID_FIELD_PARAM, 0);
			goto out;
		}
		for (uint32_t i = 2; i < n; i++) {
			if ((p[i] ^ cur[i]) & ~chg[i]) {
				scsi_sense(t, SENSE_ILLEGAL_REQUEST, ASC_INVALID_FIELD_PARAM, 0);
				goto out;
			}
		}
		if ((p[0] & 0x3f) == MP_CACHING)
			wce = !!(p[2] & 0x04);
		if ((p[0] & 0x3f) == MP_CONTROL) {
			d_sense = !!(p[2] & 0x04);
			swp = !!(p[4] & 0x08);
		}
		off += n;
	}
	/* apply only when the whole list was valid */
	lu->wce = wce;
	lu->d_sense = d_sense;
	lu->swp = swp;
out:
	scsi_finish(t);
}

void scsi_spc_report_luns(struct scsi_task *t)
{
	struct scsi_target *tg = t->target;
	uint32_t alloc = get_be32(t->cdb + 6), n = 0;
	uint8_t select = t->cdb[2];

	if (alloc < 16 || (select > 2 && (select < 0x10 || select > 0x12))) {
		scsi_sense(t, SENSE_ILLEGAL_REQUEST, ASC_INVALID_FIELD_CDB, 0);
		goto out;
	}
	if (scsi_alloc_in(t, 8 + 8 * (tg->nlu ? tg->nlu : 1)) < 0)
		goto out;
	if (select != 1 && select != 0x10 && select != 0x11)	/* no well-known LUs */
		for (unsigned i = 0; i < tg->nlu; i++)
			if (tg->lu[i])
				scsi_lun_encode(i, t->in + 8 + 8 * n++);
	put_be32(t->in, 8 * n);
	t->in_len = 8 + 8 * n;
	scsi_in_truncate(t, alloc);
out:
	scsi_finish(t);
}

void scsi_spc_request_sense(struct scsi_task *t)
{
	uint8_t alloc = t->cdb[4];

	/* a running SANITIZE is reported with its progress; otherwise no deferred errors are
	 * kept: NO SENSE in the format asked for */
	if (t->lu && t->lu->sanitizing) {
		int d_sense = t->lu->d_sense;

		t->lu->d_sense = t->cdb[1] & 0x01;
		scsi_sense_sanitizing(t);
		t->lu->d_sense = d_sense;
		t->status = SAM_STAT_GOOD;
		if (scsi_alloc_in(t, t->sense_len) == 0)
			memcpy(t->in, t->sense, t->sense_len);
		t->sense_len = 0;
	} else if (t->cdb[1] & 0x01) {
		if (scsi_alloc_in(t, 8) == 0)
			t->in[0] = 0x72;
	} else if (scsi_alloc_in(t, 18) == 0) {
		t->in[0] = 0x70;
		t->in[7] = 10;
	}
	scsi_in_truncate(t, alloc);
	scsi_finish(t);
}
