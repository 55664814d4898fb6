/* One iSCSI connection and its session (MaxConnections=1, ErrorRecoveryLevel=0): the socket,
 * the receive state machine, the transmit queue, login state and the tasks in flight.
 * Internal to iscsi_conn.c (transport), iscsi_login.c (login, text) and iscsi_cmd.c (full
 * feature phase). */
#ifndef VDISK_ISCSI_CONN_H
#define VDISK_ISCSI_CONN_H

#include <stdint.h>

#include "common/evloop.h"
#include "vdisk-server/iscsi/iscsi_chap.h"
#include "vdisk-server/iscsi/iscsi_keys.h"
#include "vdisk-server/iscsi/iscsi_rx.h"
#include "vdisk-server/iscsi/iscsi_target.h"
#include "vdisk-server/scsi/scsi.h"

#define ISCSI_LOGIN_MAX_DATA	8192u	/* data segment cap before login completes */
#define ISCSI_LOGIN_TEXT_MAX	32768u	/* login keys accumulated over C-bit PDUs */
#define ISCSI_OUR_MAX_RECV_DSL	262144u
#define ISCSI_QUEUE_DEPTH	128u	/* commands in flight per session: the CmdSN window */
#define ISCSI_IMMEDIATE_MAX	16u	/* immediate commands beyond it before they are rejected */
/* Write buffers (Data-Out not yet executed) one connection, and all of them, may hold: a
 * command past either gets TASK SET FULL and the initiator retries it. */
#define ISCSI_WBUF_CONN		(64u << 20)
#define ISCSI_WBUF_TOTAL	(1024ull << 20)
#define ISCSI_TX_HIGH_WATER	(64u << 20)	/* stop reading while this much is unsent */

struct tx_pdu {
	struct tx_pdu *next;
	uint8_t hdr[ISCSI_BHS_LEN + ISCSI_DIGEST_LEN];
	uint32_t hlen;
	const uint8_t *data;
	uint32_t dlen;
	int file_fd;		/* >= 0: the data is dlen bytes of this file at file_off */
	uint64_t file_off;
	uint8_t tail[8];	/* padding and data digest */
	uint32_t tlen;
	void *own;		/* freed once sent */
	struct iscsi_task *release;	/* freed once sent */
	int close_after;	/* a final PDU (logout, login reject, cold reset) */
};

struct iscsi_tmf;

struct iscsi_task {
	struct iscsi_task *next, *prev;
	struct iscsi_conn *conn;
	uint32_t itt, cmdsn;
	uint8_t lun[8];
	int reading, writing, executing, aborted, discard;
	uint32_t edtl;
	uint8_t *buf;		/* Data-Out, min(edtl, cap) bytes */
	uint32_t got;		/* Data-Out bytes received */
	uint32_t burst_end;	/* end offset of the current R2T burst */
	uint32_t ttt, r2tsn, exp_datasn;
	int unsol_pending;	/* unsolicited Data-Out still to come */
	struct iscsi_tmf *tmf;	/* the TMF waiting for this aborted task */
	struct scsi_task st;
};

struct iscsi_tmf {
	uint32_t itt;
	uint8_t response;
	unsigned waiting;
	int cold;
};

enum conn_state { CONN_LOGIN, CONN_FULL, CONN_CLOSING };

struct iscsi_conn {
	struct iscsi_server *srv;
	struct iscsi_conn *next, *prev;
	int fd;
	struct ev_io io;
	uint32_t events;
	struct ev_defer flush;		/* sends the round's PDUs; once closed, frees the conn */
	struct ev_timer nop_timer;
	enum conn_state state;
	int rx_stopped;		/* a final PDU is queued: read nothing more */
	char peer[64];
	uint32_t addr;		/* the initiator's IPv4 address, network order */
	uint64_t accepted_ms;
	struct iscsi_rx rx;
	uint8_t *rbuf;

	struct tx_pdu *txq, *txq_tail;
	size_t tx_off, tx_queued;
	struct tx_pdu *tx_free;

	/* login */
	int csg, auth_method, chap_step, discovery, login_started, mrdsl_declared;
	uint8_t isid[6];
	uint16_t tsih, cid;
	uint32_t login_itt;
	char initiator[ISCSI_NAME_MAX];
	char alias[256];
	char *login_text;
	uint32_t login_text_len;
	struct chap_state chap;
	/* what this login must pass: the provider's credentials, or the target's */
	struct chap_cred auth, auth_mutual;
	char tname[ISCSI_NAME_MAX];	/* the target asked for, attached once authenticated */
	struct iscsi_params params;

	/* session */
	struct iscsi_target *target;
	struct scsi_nexus nexus;
	uint32_t exp_cmdsn, stat_sn;
	struct iscsi_task *tasks;
	unsigned ntasks;
	uint64_t wbuf;		/* bytes of its tasks' write buffers */
	/* reinstatement: this closed session's commands are awaited by reinstated_by, whose
	 * final login response (deferred_login) leaves when reinstate_wait drops to 0 */
	struct iscsi_conn *reinstated_by;
	unsigned reinstate_wait;
	struct tx_pdu *deferred_login;
	int logout_pending;
	uint32_t logout_itt;
	uint32_t nop_ttt, nop_pending;
	uint64_t last_rx_ms;
	/* iscsi_server_ping_target's probe: answered by the NOP-Out that echoes its TTT (not
	 * by any later byte: a frozen PC's last PDU may still be read after the ping) */
	int probed, probe_answered;
	uint32_t probe_ttt;
	uint64_t bytes_in, bytes_out, commands;
};

/* transport (iscsi_conn.c) */
struct tx_pdu *conn_pdu(struct iscsi_conn *c, uint8_t opcode);
void conn_queue(struct iscsi_conn *c, struct tx_pdu *p);
void conn_close(struct iscsi_conn *c, const char *why);
void conn_reap_later(struct iscsi_conn *c);
uint32_t conn_max_cmdsn(struct iscsi_conn *c);
void conn_stamp_sn(struct iscsi_conn *c, struct tx_pdu *p, int status);
void conn_reject(struct iscsi_conn *c, const uint8_t *bhs, uint8_t reason);

/* login and text (iscsi_login.c) */
int login_pdu(struct iscsi_conn *c, struct iscsi_pdu *pdu);
int text_pdu(struct iscsi_conn *c, struct iscsi_pdu *pdu);
void login_fini(struct iscsi_conn *c);

/* full feature phase (iscsi_cmd.c) */
int cmd_pdu(struct iscsi_conn *c, struct iscsi_pdu *pdu);
void cmd_abort_all(struct iscsi_conn *c);
/* Frees a task and gives its write buffer back to the budgets. */
void cmd_task_free(struct iscsi_task *t);
void cmd_logout_check(struct iscsi_conn *c);

#endif
