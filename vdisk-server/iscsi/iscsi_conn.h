/* One iSCSI connection and its session (MaxConnections=1, ErrorRecoveryLevel=0): the socket,
 * the receive state machine, the transmit queue, login state and the tasks in flight.
 * Internal to the transport, whose files call one way, each only those below it:
 *   iscsi_conn.c   the socket, the receive loop, the connection's timers, close and free;
 *   iscsi_cmd.c    the full feature phase (a Text request goes on to iscsi_login.c);
 *   iscsi_login.c  login and text;
 *   iscsi_tx.c     PDUs out: built, stamped, queued, sent (iscsi_tx.h).
 * What a lower file needs of the connection itself it asks through c->hooks. */
#ifndef VDISK_ISCSI_CONN_H
#define VDISK_ISCSI_CONN_H

#include <arpa/inet.h>
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

/* What the files below iscsi_conn.c need from above them, which they may not call directly:
 * iscsi_conn.c sets it at accept. */
struct conn_hooks {
	/* Ends the connection now (why: logged when not NULL). */
	void (*close)(struct iscsi_conn *c, const char *why);
	/* Frees a closed connection from the loop once its last task is done (a task's
	 * completion may still hold it until then). */
	void (*reap_later)(struct iscsi_conn *c);
	/* Frees a task whose last PDU was sent or dropped: cmd_task_free, for iscsi_tx.c. */
	void (*task_free)(struct iscsi_task *t);
};

struct iscsi_conn {
	struct iscsi_server *srv;
	const struct conn_hooks *hooks;
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

/* Local processes (the admin's tools, tests, benchmarks) are not PCs on the LAN. */
static inline int iscsi_loopback(uint32_t addr)
{
	return (ntohl(addr) >> 24) == 127;
}

/* login and text (iscsi_login.c) */
int login_pdu(struct iscsi_conn *c, struct iscsi_pdu *pdu);
int text_pdu(struct iscsi_conn *c, struct iscsi_pdu *pdu);
void login_fini(struct iscsi_conn *c);
/* Whether addr is still waiting out a failed authentication (iscsi_server_penalize). */
int login_penalized(struct iscsi_server *srv, uint32_t addr);

/* full feature phase (iscsi_cmd.c) */
int cmd_pdu(struct iscsi_conn *c, struct iscsi_pdu *pdu);
void cmd_abort_all(struct iscsi_conn *c);
/* Frees a task and gives its write buffer back to the budgets. */
void cmd_task_free(struct iscsi_task *t);

#endif
