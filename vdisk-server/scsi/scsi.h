/* SCSI block device (SBC-3, SPC-4) over a store: the layer between the iSCSI session and the
 * image store. It knows logical units, CDBs, sense data and reservations; it never sees a
 * PDU. A transport hands a task with the CDB and any Data-Out, and gets it back through
 * task->done with the status, sense and Data-In. */
#ifndef VDISK_SCSI_H
#define VDISK_SCSI_H

#include <stdint.h>
#include <sys/uio.h>

#include "vdisk-server/store/store.h"

#define SCSI_BLOCK		STORE_BLOCK_SIZE
#define SCSI_MAX_XFER_BLOCKS	16384u	/* 8 MiB: VPD B0 maximum transfer length */
#define SCSI_MAX_XFER_BYTES	(SCSI_MAX_XFER_BLOCKS * SCSI_BLOCK)
#define SCSI_MAX_WS_BLOCKS	SCSI_MAX_XFER_BLOCKS	/* WRITE SAME, in chunks */
#define SCSI_MAX_UNMAP_BLOCKS	65536u
#define SCSI_MAX_UNMAP_DESC	64u
#define SCSI_MAX_CAW_BLOCKS	255u
#define SCSI_SENSE_MAX		32
#define SCSI_MAX_EXTENTS	8
#define SCSI_ZERO_COPY_MIN	(64u * 1024)	/* smaller reads are copied: cheaper */
#define SCSI_MAX_LUNS		256

enum {
	SAM_STAT_GOOD			= 0x00,
	SAM_STAT_CHECK_CONDITION	= 0x02,
	SAM_STAT_CONDITION_MET		= 0x04,
	SAM_STAT_BUSY			= 0x08,
	SAM_STAT_RESERVATION_CONFLICT	= 0x18,
	SAM_STAT_TASK_SET_FULL		= 0x28,
	SAM_STAT_TASK_ABORTED		= 0x40,
};

enum {
	SENSE_NO_SENSE		= 0x0,
	SENSE_NOT_READY		= 0x2,
	SENSE_MEDIUM_ERROR	= 0x3,
	SENSE_HARDWARE_ERROR	= 0x4,
	SENSE_ILLEGAL_REQUEST	= 0x5,
	SENSE_UNIT_ATTENTION	= 0x6,
	SENSE_DATA_PROTECT	= 0x7,
	SENSE_ABORTED_COMMAND	= 0xb,
	SENSE_MISCOMPARE	= 0xe,
};

/* An I_T nexus: one iSCSI session. The transport owns it and must call scsi_nexus_gone()
 * on every LU it used before freeing it. */
struct scsi_nexus {
	uint64_t id;			/* unique, never 0 */
	char port[300];			/* "<initiator name>,i,0x<isid>" (TransportID) */
};

struct scsi_pr_reg;
struct scsi_task;
struct scsi_xcopy_status;

/* A logical unit. */
struct scsi_lu {
	struct store *st;
	uint64_t nblocks;
	int read_only;
	uint8_t naa[16];		/* VPD 83: NAA IEEE Registered Extended */
	char serial[33];		/* VPD 80 */
	/* MODE pages we let initiators change */
	int wce, d_sense, swp;
	/* RESERVE(6)/RELEASE(6) */
	uint64_t reserved_by;		/* nexus id, 0 when free */
	/* PERSISTENT RESERVE */
	struct scsi_pr_reg *regs;
	uint32_t pr_generation;
	int pr_type;			/* 0 when no persistent reservation */
	char pr_holder[300];		/* port of the holder ("" for all-registrants types) */
	uint64_t pr_key;
	/* SANITIZE: while one runs, medium access gets NOT READY (SANITIZE IN PROGRESS) with
	 * the progress in 1/65536ths; after one failed, the failure mode until a sanitize
	 * succeeds (or EXIT FAILURE MODE when the failed one allowed it, AUSE) */
	int sanitizing;
	/* a SANITIZE waiting for the requests in flight; its t->next runs when they are done */
	struct scsi_task *sanitize_wait;
	uint16_t sanitize_progress;
	int sanitize_failed, sanitize_ause;
	/* EXTENDED COPY: the state of the last copies, for RECEIVE COPY RESULTS */
	struct scsi_xcopy_status *xcopies;
	/* counters for the control socket */
	uint64_t reads, writes, bytes_read, bytes_written;
	unsigned inflight;
	/* Vendor-specific commands (operation codes C0h-FFh), NULL when the LU has none: the
	 * replication session's (replica_lu.c). Must finish t, like any command. */
	void (*vendor)(struct scsi_task *t);
	void *vendor_arg;
	/* store flags added to every write this LU submits (STORE_LOOP_OK on the replica's) */
	unsigned write_flags;
};

/* The LUNs of one target, for REPORT LUNS and routing. */
struct scsi_target {
	struct scsi_lu *lu[SCSI_MAX_LUNS];	/* NULL where no LU */
	unsigned nlu;				/* highest LUN + 1 */
};

struct scsi_task;
typedef void (*scsi_step_fn)(struct scsi_task *t);

struct scsi_task {
	/* IN: set by the transport */
	struct scsi_target *target;
	uint64_t lun;
	struct scsi_nexus *nexus;
	uint8_t cdb[16];
	uint32_t edtl;			/* expected data transfer length */
	uint8_t *out;			/* Data-Out, out_len bytes; the transport's */
	uint32_t out_len;
	void (*done)(struct scsi_task *t);	/* may run inside scsi_execute() */
	void *priv;
	int zero_copy;			/* the transport can send Data-In from file ranges */
	/* OUT */
	uint8_t status;
	uint8_t sense[SCSI_SENSE_MAX];
	uint8_t sense_len;
	uint8_t *in;			/* Data-In, in_len bytes; freed by scsi_task_release */
	uint32_t in_len;
	/* or, when nextents > 0, Data-In is these file ranges in order (zero_copy reads of
	 * cached pages); send them before anything can write the range */
	struct store_extent ext[SCSI_MAX_EXTENTS];
	int nextents;
	uint32_t out_want;		/* Data-Out bytes the CDB asked for (write residuals) */
	/* private */
	struct scsi_lu *lu;
	struct store_req req;
	struct iovec iov;
	scsi_step_fn next;
	scsi_step_fn cleanup;		/* run by scsi_finish() before done, when set */
	uint8_t *scratch;
	uint64_t lba;
	uint32_t nblk, pos;
	unsigned sflags;
};

/* Sets up lu over st. ident names the logical unit (target IQN + LUN, or client + image):
 * the NAA identifier and serial number are derived from it alone, so both servers of the
 * pair present the same identity for the same disk. */
int scsi_lu_init(struct scsi_lu *lu, struct store *st, const char *ident);
void scsi_lu_fini(struct scsi_lu *lu);

/* Runs t; t->done is called exactly once, possibly before this returns. */
void scsi_execute(struct scsi_task *t);
void scsi_task_release(struct scsi_task *t);

/* The session behind nexus ended: drop what it held (RESERVE(6)). */
void scsi_nexus_gone(struct scsi_lu *lu, const struct scsi_nexus *nexus);
/* LUN RESET or target reset: clears RESERVE(6) state. No unit attention is established: in
 * production every LU has one initiator (its client), and libiscsi's conformance helpers
 * fail their clean-up commands on one, leaving reservations behind for later tests. */
void scsi_lu_reset(struct scsi_lu *lu);

/* LUN field of a SCSI PDU (SAM-5 single level, peripheral or flat addressing). */
uint64_t scsi_lun_decode(const uint8_t lun[8]);
void scsi_lun_encode(uint64_t lun, uint8_t out[8]);

/* Internal to the SCSI layer (scsi_*.c). */
void scsi_sense(struct scsi_task *t, uint8_t key, uint8_t asc, uint8_t ascq);
void scsi_sense_info(struct scsi_task *t, uint8_t key, uint8_t asc, uint8_t ascq,
		     uint64_t info);
/* ILLEGAL REQUEST with the sense-key specific field pointer: in_cdb 1 for a CDB field, 0 for
 * a parameter list field; byte and bit (bit < 0: no bit pointer) locate the bad field. */
void scsi_sense_field(struct scsi_task *t, uint8_t asc, int in_cdb, uint16_t byte, int bit);
/* NOT READY, SANITIZE IN PROGRESS with the progress indication. */
void scsi_sense_sanitizing(struct scsi_task *t);
void scsi_finish(struct scsi_task *t);
int scsi_alloc_in(struct scsi_task *t, uint32_t len);
void scsi_in_truncate(struct scsi_task *t, uint32_t alloc_len);
void scsi_spc_inquiry(struct scsi_task *t);
void scsi_spc_mode_sense(struct scsi_task *t);
void scsi_spc_mode_select(struct scsi_task *t);
void scsi_spc_report_luns(struct scsi_task *t);
void scsi_spc_request_sense(struct scsi_task *t);
/* Whether the persistent reservation refuses the task, whose command has the OP_* flags. */
int scsi_pr_conflict(struct scsi_task *t, unsigned flags);
void scsi_pr_in(struct scsi_task *t);
void scsi_pr_out(struct scsi_task *t);
void scsi_pr_free(struct scsi_lu *lu);
/* The handlers of scsi_ops.c's table; each ends the task with scsi_finish. */
void scsi_sbc_read(struct scsi_task *t);
void scsi_sbc_write(struct scsi_task *t);		/* also WRITE AND VERIFY */
void scsi_sbc_verify(struct scsi_task *t);
void scsi_sbc_compare_and_write(struct scsi_task *t);
void scsi_sbc_orwrite(struct scsi_task *t);
void scsi_sbc_write_same(struct scsi_task *t);
void scsi_sbc_unmap(struct scsi_task *t);
void scsi_sbc_sync_cache(struct scsi_task *t);
void scsi_sbc_prefetch(struct scsi_task *t);
void scsi_sbc_read_capacity10(struct scsi_task *t);
void scsi_sbc_read_capacity16(struct scsi_task *t);
void scsi_sbc_get_lba_status(struct scsi_task *t);
void scsi_sbc_read_defect_data(struct scsi_task *t);
/* RESERVE and RELEASE, (6) and (10): SPC-2 reservations held by one I_T nexus. */
void scsi_reserve(struct scsi_task *t);
void scsi_release(struct scsi_task *t);
void scsi_sanitize(struct scsi_task *t);
void scsi_xcopy(struct scsi_task *t);
void scsi_receive_copy_results(struct scsi_task *t);
void scsi_xcopy_free(struct scsi_lu *lu);
/* Shared by the commands that move blocks (scsi_sbc.c): queue one store request for
 * [lba, lba + nblk) with buf (NULL for FLUSH/UNMAP); next runs when it succeeds, otherwise
 * the task ends with the sense for the error. */
void scsi_submit(struct scsi_task *t, enum store_op op, unsigned flags, uint64_t lba,
		 uint32_t nblk, uint8_t *buf, scsi_step_fn next);
void scsi_fail_errno(struct scsi_task *t, int err, int writing);
/* For a command that sends its own store requests (a vendor LU's batch): the store flags a
 * write to lu carries (fua: the command asked for FUA), and the submission and completion
 * that count the request in flight, so that a SANITIZE waits for it. */
unsigned scsi_write_flags(const struct scsi_lu *lu, int fua);
int scsi_lu_submit(struct scsi_lu *lu, struct store_req *req);
void scsi_lu_io_done(struct scsi_lu *lu);
int scsi_range_bad(struct scsi_task *t, uint64_t lba, uint64_t n);
int scsi_write_protected(struct scsi_task *t);

#define ASC_INVALID_OPCODE	0x20
#define ASC_LBA_OUT_OF_RANGE	0x21
#define ASC_INVALID_FIELD_CDB	0x24
#define ASC_LUN_NOT_SUPPORTED	0x25
#define ASC_INVALID_FIELD_PARAM	0x26
#define ASC_WRITE_PROTECTED	0x27
#define ASC_PARAM_LIST_LENGTH	0x1a
#define ASC_MISCOMPARE		0x1d
#define ASC_SAVING_NOT_SUPPORTED 0x39
#define ASC_NOT_READY		0x04	/* with ASCQ 0x1b: sanitize in progress */
#define ASC_SANITIZE_FAILED	0x31	/* with ASCQ 0x03 */

#endif
