/* The transmit side of an iSCSI connection (iscsi_tx.c), the lowest of the transport's files:
 * target PDUs are built, stamped with the session's sequence numbers, queued, and sent in
 * one writev per loop round. The login, the full feature phase and the connection all use
 * it; it calls none of them (a sent PDU's task is freed through c->hooks). */
#ifndef VDISK_ISCSI_TX_H
#define VDISK_ISCSI_TX_H

#include <stdint.h>

#include "vdisk-server/iscsi/iscsi_conn.h"

/* A zeroed PDU with this opcode, NULL when out of memory. */
struct tx_pdu *tx_new(struct iscsi_conn *c, uint8_t opcode);
/* The CmdSN window's end we announce. */
uint32_t tx_max_cmdsn(struct iscsi_conn *c);
/* StatSN, ExpCmdSN and MaxCmdSN of a target PDU; status PDUs take a new StatSN. */
void tx_stamp_sn(struct iscsi_conn *c, struct tx_pdu *p, int status);
/* Finishes p (digests, padding) and queues it; it leaves when the loop's round ends. */
void tx_queue(struct iscsi_conn *c, struct tx_pdu *p);
/* A Reject carrying the header bhs. */
void tx_reject(struct iscsi_conn *c, const uint8_t *bhs, uint8_t reason);

/* For the connection (iscsi_conn.c): */
/* Sends as much of the queue as the socket takes: 0, or a negative errno (-ECONNRESET once
 * a final PDU has gone): the connection must close. */
int tx_flush(struct iscsi_conn *c);
/* Frees p unsent, with its buffer and its task. */
void tx_drop(struct iscsi_conn *c, struct tx_pdu *p);
/* Drops the whole queue unsent (the connection closed). */
void tx_drop_queue(struct iscsi_conn *c);
/* Frees the PDUs kept for reuse. */
void tx_fini(struct iscsi_conn *c);

#endif
