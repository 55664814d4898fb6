/* EXTENDED COPY (LID1) parameter lists (SPC-4 6.4): parsing and validation only, separate
 * from the copy engine (scsi_xcopy.c) so the parser of this untrusted input is unit-tested
 * and fuzzed on its own. */
#ifndef VDISK_SCSI_XCOPY_H
#define VDISK_SCSI_XCOPY_H

#include <stdint.h>

/* Our copy manager's limits, reported by RECEIVE COPY RESULTS (OPERATING PARAMETERS). */
#define XCOPY_MAX_TARGETS	4
#define XCOPY_MAX_SEGMENTS	16
#define XCOPY_TARGET_LEN	32	/* identification descriptor target descriptor (E4h) */
#define XCOPY_SEGMENT_LEN	28	/* block -> block segment descriptor (02h) */
#define XCOPY_MAX_LIST_LEN	(XCOPY_MAX_TARGETS * XCOPY_TARGET_LEN + \
				 XCOPY_MAX_SEGMENTS * XCOPY_SEGMENT_LEN)
#define XCOPY_HEADER_LEN	16
#define XCOPY_MAX_PARAM_LEN	(XCOPY_HEADER_LEN + XCOPY_MAX_LIST_LEN)
#define XCOPY_MAX_SEG_BLOCKS	65535u	/* the segment descriptor's 16-bit block count */

enum { XCOPY_USAGE_HOLD = 0, XCOPY_USAGE_DISCARD = 2, XCOPY_USAGE_NONE = 3 };

struct xcopy_target {
	uint8_t nul;			/* NUL bit: no logical unit behind it */
	uint8_t device_type;		/* peripheral device type (0: block) */
	uint8_t desig_type;		/* designator (code set 1 + type 3: NAA) */
	uint8_t code_set;
	uint8_t desig_len;
	uint8_t desig[20];
	uint32_t block_len;		/* disk block length of a block device target */
};

struct xcopy_segment {
	uint16_t src, dst;		/* target descriptor indexes, not yet checked */
	uint16_t nblk;
	uint64_t src_lba, dst_lba;
};

struct xcopy_list {
	uint8_t list_id;
	uint8_t usage;			/* XCOPY_USAGE_* */
	unsigned ntargets, nsegments;
	struct xcopy_target targets[XCOPY_MAX_TARGETS];
	struct xcopy_segment segments[XCOPY_MAX_SEGMENTS];
};

/* Why a list was refused: the ILLEGAL REQUEST sense the command ends with. field is the byte
 * offset of the bad field in the parameter list (INVALID FIELD IN PARAMETER LIST with ASCQ 0:
 * a field pointer goes with it), -1 when none. */
struct xcopy_error {
	uint8_t asc, ascq;
	int field;
};

/* Parses the len bytes of an EXTENDED COPY (LID1) parameter list p (len > 0: an empty list
 * is a successful no-op the caller handles). Returns 0 with *out filled, or -EINVAL with
 * *err set; never reads outside p[0..len). */
int xcopy_parse(const uint8_t *p, uint32_t len, struct xcopy_list *out, struct xcopy_error *err);

#endif
