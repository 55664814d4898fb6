/* SCSI operation codes and service actions vdiskd knows (SPC-4, SBC-3). */
#ifndef VDISK_SCSI_CDB_H
#define VDISK_SCSI_CDB_H

#include <stdint.h>

enum {
	TEST_UNIT_READY			= 0x00,
	REQUEST_SENSE			= 0x03,
	READ_6				= 0x08,
	WRITE_6				= 0x0a,
	INQUIRY				= 0x12,
	MODE_SELECT_6			= 0x15,
	RESERVE_6			= 0x16,
	RELEASE_6			= 0x17,
	MODE_SENSE_6			= 0x1a,
	START_STOP_UNIT			= 0x1b,
	PREVENT_ALLOW_MEDIUM_REMOVAL	= 0x1e,
	READ_CAPACITY_10		= 0x25,
	READ_10				= 0x28,
	WRITE_10			= 0x2a,
	WRITE_VERIFY_10			= 0x2e,
	VERIFY_10			= 0x2f,
	PRE_FETCH_10			= 0x34,
	SYNCHRONIZE_CACHE_10		= 0x35,
	READ_DEFECT_DATA_10		= 0x37,
	SANITIZE			= 0x48,
	WRITE_SAME_10			= 0x41,
	UNMAP				= 0x42,
	MODE_SELECT_10			= 0x55,
	RESERVE_10			= 0x56,
	RELEASE_10			= 0x57,
	MODE_SENSE_10			= 0x5a,
	PERSISTENT_RESERVE_IN		= 0x5e,
	PERSISTENT_RESERVE_OUT		= 0x5f,
	EXTENDED_COPY			= 0x83,
	RECEIVE_COPY_RESULTS		= 0x84,
	READ_16				= 0x88,
	COMPARE_AND_WRITE		= 0x89,
	WRITE_16			= 0x8a,
	ORWRITE_16			= 0x8b,
	WRITE_VERIFY_16			= 0x8e,
	VERIFY_16			= 0x8f,
	PRE_FETCH_16			= 0x90,
	SYNCHRONIZE_CACHE_16		= 0x91,
	WRITE_SAME_16			= 0x93,
	SERVICE_ACTION_IN_16		= 0x9e,
	REPORT_LUNS			= 0xa0,
	MAINTENANCE_IN			= 0xa3,
	READ_12				= 0xa8,
	WRITE_12			= 0xaa,
	WRITE_VERIFY_12			= 0xae,
	VERIFY_12			= 0xaf,
	READ_DEFECT_DATA_12		= 0xb7,
};

enum {
	SAI_READ_CAPACITY_16		= 0x10,
	SAI_GET_LBA_STATUS		= 0x12,
	MI_REPORT_SUPPORTED_OPCODES	= 0x0c,
	SANITIZE_OVERWRITE		= 0x01,
	SANITIZE_BLOCK_ERASE		= 0x02,
	SANITIZE_CRYPTO_ERASE		= 0x03,
	SANITIZE_EXIT_FAILURE_MODE	= 0x1f,
	XCOPY_LID1			= 0x00,
	RCR_COPY_STATUS			= 0x00,
	RCR_OPERATING_PARAMETERS	= 0x03,
};

struct scsi_task;

/* scsi_op.flags: which rules let the command through, and how it is reported. */
enum {
	OP_NO_LU		= 1 << 0,	/* answered at a LUN without a logical unit */
	OP_RESERVED_OK		= 1 << 1,	/* by others than a RESERVE holder (SPC-2 5.5.1) */
	OP_SANITIZING_OK	= 1 << 2,	/* while a SANITIZE runs (SBC-4 4.11.3) */
	OP_SANITIZE_FAILED_OK	= 1 << 3,	/* after a SANITIZE failed: not medium access */
	OP_PR_ALWAYS		= 1 << 4,	/* whatever the persistent reservation (SPC-4 t.63) */
	OP_PR_READ		= 1 << 5,	/* reads without changing the medium or its settings */
	OP_THIN			= 1 << 6,	/* offered only by a store that can unmap */
	OP_OTHER_SA		= 1 << 7,	/* any service action without a row of its own */
};

/* One command vdiskd offers: its handler, its rules, and what REPORT SUPPORTED OPERATION
 * CODES says of it (len 0: not reported). */
struct scsi_op {
	uint8_t op;
	uint8_t has_sa;		/* the service action is CDB byte 1, bits 4..0 */
	uint16_t sa;
	uint16_t flags;		/* OP_* */
	uint8_t len;
	uint8_t usage[16];	/* CDB usage data: the bits an initiator may set */
	void (*run)(struct scsi_task *t);
};

extern const struct scsi_op scsi_ops[];
extern const unsigned scsi_ops_count;

/* The row for a CDB: never NULL; an unknown opcode gets a row whose handler answers INVALID
 * COMMAND OPERATION CODE and whose flags let it through nothing. */
const struct scsi_op *scsi_op_find(const uint8_t *cdb);

#endif
