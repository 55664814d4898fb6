/* EXTENDED COPY (LID1) parameter list parser; see scsi_xcopy.h. Every length the list
 * declares is checked against what arrived before anything is read, and against our own
 * limits before anything is kept; the result lives in fixed arrays sized by those limits. */
#include <errno.h>
#include <string.h>

#include "common/wire.h"
#include "vdisk-server/scsi/scsi.h"
#include "vdisk-server/scsi/scsi_xcopy.h"

#define ASCQ_TOO_MANY_TARGETS		0x06	/* with ASC 26h */
#define ASCQ_UNSUPPORTED_TARGET		0x07
#define ASCQ_TOO_MANY_SEGMENTS		0x08
#define ASCQ_UNSUPPORTED_SEGMENT	0x09

#define TD_IDENTIFICATION	0xe4
#define SD_BLOCK_TO_BLOCK	0x02

static int fail(struct xcopy_error *err, uint8_t asc, uint8_t ascq, int field)
{
	err->asc = asc;
	err->ascq = ascq;
	err->field = field;
	return -EINVAL;
}

/* One identification descriptor target descriptor at p (32 bytes present). */
static int parse_target(const uint8_t *p, uint32_t off, struct xcopy_target *t,
			struct xcopy_error *err)
{
	/* LU ID TYPE and LU IDENTIFIER (byte 1 bits 7..6, bytes 2..3) are ignored as SPC-4 says:
	 * the designator alone names the logical unit */
	t->nul = !!(p[1] & 0x20);
	t->device_type = p[1] & 0x1f;
	t->code_set = p[4] & 0x0f;
	t->desig_type = p[5] & 0x0f;
	t->desig_len = p[7];
	/* the designator has 20 bytes (8..27) in this descriptor */
	if (t->desig_len > sizeof(t->desig))
		return fail(err, ASC_INVALID_FIELD_PARAM, 0, (int)off + 7);
	memcpy(t->desig, p + 8, t->desig_len);
	t->block_len = get_be24(p + 29);
	return 0;
}

int xcopy_parse(const uint8_t *p, uint32_t len, struct xcopy_list *out, struct xcopy_error *err)
{
	uint32_t tlen, slen, ilen, off, end;

	memset(out, 0, sizeof(*out));
	if (len < XCOPY_HEADER_LEN)
		return fail(err, ASC_PARAM_LIST_LENGTH, 0, -1);
	out->list_id = p[0];
	out->usage = (p[1] >> 3) & 3;
	if (out->usage == 1)		/* reserved */
		return fail(err, ASC_INVALID_FIELD_PARAM, 0, 1);
	if (out->usage == XCOPY_USAGE_NONE && out->list_id != 0)
		return fail(err, ASC_INVALID_FIELD_PARAM, 0, 0);
	tlen = get_be16(p + 2);
	slen = get_be32(p + 8);
	ilen = get_be32(p + 12);
	if (ilen != 0)			/* inline data: no descriptor of ours uses it */
		return fail(err, ASC_INVALID_FIELD_PARAM, 0, 12);
	/* compared one at a time so the sum cannot overflow */
	if (tlen > XCOPY_MAX_LIST_LEN || slen > XCOPY_MAX_LIST_LEN - tlen)
		return fail(err, ASC_PARAM_LIST_LENGTH, 0, -1);
	if (tlen + slen > len - XCOPY_HEADER_LEN)
		return fail(err, ASC_PARAM_LIST_LENGTH, 0, -1);

	off = XCOPY_HEADER_LEN;
	end = XCOPY_HEADER_LEN + tlen;
	while (off < end) {
		if (p[off] != TD_IDENTIFICATION)
			return fail(err, ASC_INVALID_FIELD_PARAM, ASCQ_UNSUPPORTED_TARGET, -1);
		if (out->ntargets == XCOPY_MAX_TARGETS)
			return fail(err, ASC_INVALID_FIELD_PARAM, ASCQ_TOO_MANY_TARGETS, -1);
		if (end - off < XCOPY_TARGET_LEN)
			return fail(err, ASC_PARAM_LIST_LENGTH, 0, -1);
		if (parse_target(p + off, off, &out->targets[out->ntargets], err) < 0)
			return -EINVAL;
		out->ntargets++;
		off += XCOPY_TARGET_LEN;
	}

	end += slen;
	while (off < end) {
		const uint8_t *d = p + off;
		struct xcopy_segment *s;

		if (end - off < 4)
			return fail(err, ASC_PARAM_LIST_LENGTH, 0, -1);
		if (d[0] != SD_BLOCK_TO_BLOCK)
			return fail(err, ASC_INVALID_FIELD_PARAM, ASCQ_UNSUPPORTED_SEGMENT, -1);
		if (out->nsegments == XCOPY_MAX_SEGMENTS)
			return fail(err, ASC_INVALID_FIELD_PARAM, ASCQ_TOO_MANY_SEGMENTS, -1);
		if (get_be16(d + 2) != XCOPY_SEGMENT_LEN - 4)
			return fail(err, ASC_INVALID_FIELD_PARAM, 0, (int)off + 2);
		if (end - off < XCOPY_SEGMENT_LEN)
			return fail(err, ASC_PARAM_LIST_LENGTH, 0, -1);
		s = &out->segments[out->nsegments++];
		s->src = get_be16(d + 4);
		s->dst = get_be16(d + 6);
		s->nblk = get_be16(d + 10);
		s->src_lba = get_be64(d + 12);
		s->dst_lba = get_be64(d + 20);
		off += XCOPY_SEGMENT_LEN;
	}
	return 0;
}
