/* iSCSI wire format (RFC 7143): opcodes, Basic Header Segment offsets and status codes (the
 * big-endian accessors are common/wire.h's). Pure definitions: no state. */
#ifndef VDISK_ISCSI_PROTO_H
#define VDISK_ISCSI_PROTO_H

#include <stdint.h>
#include <string.h>

#include "common/wire.h"

#define ISCSI_BHS_LEN		48u
#define ISCSI_DIGEST_LEN	4u
#define ISCSI_PAD(n)		((4u - ((n) & 3u)) & 3u)

/* Initiator opcodes (byte 0, low 6 bits). */
enum {
	ISCSI_OP_NOP_OUT	= 0x00,
	ISCSI_OP_SCSI_CMD	= 0x01,
	ISCSI_OP_TMF_REQ	= 0x02,
	ISCSI_OP_LOGIN_REQ	= 0x03,
	ISCSI_OP_TEXT_REQ	= 0x04,
	ISCSI_OP_DATA_OUT	= 0x05,
	ISCSI_OP_LOGOUT_REQ	= 0x06,
	ISCSI_OP_SNACK		= 0x10,
};

/* Target opcodes. */
enum {
	ISCSI_OP_NOP_IN		= 0x20,
	ISCSI_OP_SCSI_RSP	= 0x21,
	ISCSI_OP_TMF_RSP	= 0x22,
	ISCSI_OP_LOGIN_RSP	= 0x23,
	ISCSI_OP_TEXT_RSP	= 0x24,
	ISCSI_OP_DATA_IN	= 0x25,
	ISCSI_OP_LOGOUT_RSP	= 0x26,
	ISCSI_OP_R2T		= 0x31,
	ISCSI_OP_ASYNC		= 0x32,
	ISCSI_OP_REJECT		= 0x3f,
};

#define ISCSI_OPCODE_MASK	0x3f
#define ISCSI_IMMEDIATE		0x40	/* byte 0 of an initiator PDU */
#define ISCSI_FLAG_FINAL	0x80	/* byte 1 */

/* SCSI Command flags (byte 1). */
#define ISCSI_CMD_READ		0x40
#define ISCSI_CMD_WRITE		0x20
#define ISCSI_CMD_ATTR_MASK	0x07

/* SCSI Response / Data-In flags (byte 1). */
#define ISCSI_RSP_UNDERFLOW	0x02
#define ISCSI_RSP_OVERFLOW	0x04
#define ISCSI_DATAIN_STATUS	0x01
#define ISCSI_DATAIN_ACK	0x40

/* Login flags (byte 1). */
#define ISCSI_LOGIN_TRANSIT	0x80
#define ISCSI_LOGIN_CONTINUE	0x40
#define ISCSI_LOGIN_CSG(b)	(((b) >> 2) & 3)
#define ISCSI_LOGIN_NSG(b)	((b) & 3)
enum { ISCSI_STAGE_SECURITY = 0, ISCSI_STAGE_OPERATIONAL = 1, ISCSI_STAGE_FULL = 3 };

/* Login status: class << 8 | detail. */
enum {
	ISCSI_LOGIN_OK			= 0x0000,
	ISCSI_LOGIN_INITIATOR_ERROR	= 0x0200,
	ISCSI_LOGIN_AUTH_FAILED		= 0x0201,
	ISCSI_LOGIN_FORBIDDEN		= 0x0202,
	ISCSI_LOGIN_NOT_FOUND		= 0x0203,
	ISCSI_LOGIN_TARGET_REMOVED	= 0x0204,
	ISCSI_LOGIN_UNSUPPORTED_VERSION	= 0x0205,
	ISCSI_LOGIN_TOO_MANY_CONNS	= 0x0206,
	ISCSI_LOGIN_MISSING_PARAM	= 0x0207,
	ISCSI_LOGIN_NO_SESSION_SPAN	= 0x0208,
	ISCSI_LOGIN_UNSUPPORTED_TYPE	= 0x0209,
	ISCSI_LOGIN_NO_SESSION		= 0x020a,
	ISCSI_LOGIN_INVALID_REQUEST	= 0x020b,
	ISCSI_LOGIN_TARGET_ERROR	= 0x0300,
	ISCSI_LOGIN_UNAVAILABLE		= 0x0301,
	ISCSI_LOGIN_NO_RESOURCES	= 0x0302,
};

/* Reject reasons. */
enum {
	ISCSI_REJECT_DIGEST		= 0x02,
	ISCSI_REJECT_SNACK		= 0x03,
	ISCSI_REJECT_PROTOCOL		= 0x04,
	ISCSI_REJECT_UNSUPPORTED	= 0x05,
	ISCSI_REJECT_IMMEDIATE		= 0x06,
	ISCSI_REJECT_TASK_IN_PROGRESS	= 0x07,
	ISCSI_REJECT_INVALID_DATA_ACK	= 0x08,
	ISCSI_REJECT_INVALID_FIELD	= 0x09,
	ISCSI_REJECT_LONG_OP		= 0x0a,
	ISCSI_REJECT_NEGOTIATION_RESET	= 0x0b,
	ISCSI_REJECT_WAITING_LOGOUT	= 0x0c,
};

/* Task management functions and responses. */
enum {
	ISCSI_TMF_ABORT_TASK		= 1,
	ISCSI_TMF_ABORT_TASK_SET	= 2,
	ISCSI_TMF_CLEAR_ACA		= 3,
	ISCSI_TMF_CLEAR_TASK_SET	= 4,
	ISCSI_TMF_LUN_RESET		= 5,
	ISCSI_TMF_TARGET_WARM_RESET	= 6,
	ISCSI_TMF_TARGET_COLD_RESET	= 7,
	ISCSI_TMF_TASK_REASSIGN		= 8,
};
enum {
	ISCSI_TMF_RSP_COMPLETE		= 0,
	ISCSI_TMF_RSP_NO_TASK		= 1,
	ISCSI_TMF_RSP_NO_LUN		= 2,
	ISCSI_TMF_RSP_TASK_ALLEGIANT	= 3,
	ISCSI_TMF_RSP_NO_REASSIGN	= 4,
	ISCSI_TMF_RSP_NOT_SUPPORTED	= 5,
	ISCSI_TMF_RSP_REJECTED		= 255,
};

#define ISCSI_RESERVED_TAG	0xffffffffu

/* BHS field offsets shared by most PDUs. */
#define BHS_OPCODE	0
#define BHS_FLAGS	1
#define BHS_TOTAHSLEN	4
#define BHS_DSL		5	/* 24-bit DataSegmentLength */
#define BHS_LUN		8
#define BHS_ITT		16
#define BHS_TTT		20	/* also ExpectedDataTransferLength in SCSI Command */
#define BHS_CMDSN	24	/* StatSN in target PDUs */
#define BHS_EXPSTATSN	28	/* ExpCmdSN in target PDUs */
#define BHS_MAXCMDSN	32
#define BHS_CDB		32

/* Serial number arithmetic (RFC 1982) for CmdSN and StatSN. */
static inline int sn_lt(uint32_t a, uint32_t b)
{
	return a != b && (int32_t)(a - b) < 0;
}

static inline int sn_gt(uint32_t a, uint32_t b)
{
	return a != b && (int32_t)(a - b) > 0;
}

#endif
