/* Receiving PDUs: an explicit state machine over the byte stream of one connection
 * (BHS, AHS, header digest, data segment, padding, data digest). Every length a peer declares
 * is checked against limits we set before a byte of it is stored; the data buffer is sized
 * from our own MaxRecvDataSegmentLength, never from the PDU. No socket code here: the
 * connection feeds bytes, the fuzzer feeds arbitrary input. */
#ifndef VDISK_ISCSI_RX_H
#define VDISK_ISCSI_RX_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "vdisk-server/iscsi/iscsi_proto.h"

/* AHS we keep: an extended CDB (up to 260 bytes) or a bidirectional read length. */
#define ISCSI_RX_MAX_AHS 264u

struct iscsi_pdu {
	uint8_t bhs[ISCSI_BHS_LEN];
	uint8_t ahs[ISCSI_RX_MAX_AHS];
	uint32_t ahs_len;
	uint8_t *data;		/* the receiver's buffer: valid until the next feed */
	uint32_t data_len;
	int data_digest_bad;	/* the data digest did not match: reject this PDU */
};

enum iscsi_rx_state {
	RX_BHS, RX_AHS, RX_HDIGEST, RX_DATA, RX_PAD, RX_DDIGEST, RX_DONE,
};

struct iscsi_rx {
	enum iscsi_rx_state state;
	uint32_t off;		/* bytes of the current field received */
	uint32_t want;		/* bytes of the current field in total */
	uint32_t crc;
	uint8_t digest[ISCSI_DIGEST_LEN];
	uint8_t pad[4];
	int undelivered;	/* RX_DONE reached, PDU not yet handed out by a feed */
	int header_digest, data_digest;
	uint32_t max_data;	/* our MaxRecvDataSegmentLength */
	uint8_t *buf;		/* max_data bytes, allocated by us */
	struct iscsi_pdu pdu;
	unsigned long bad_header_digests, oversized;
};

/* max_data: the largest data segment we accept (a small cap before login). */
int iscsi_rx_init(struct iscsi_rx *rx, uint32_t max_data);
void iscsi_rx_free(struct iscsi_rx *rx);
/* Raises or lowers the data segment cap between PDUs (after login negotiated ours). */
int iscsi_rx_set_max_data(struct iscsi_rx *rx, uint32_t max_data);

/* Consumes up to len bytes and returns how many, stopping right after a complete PDU (then
 * *complete is 1 and rx->pdu holds it until the next call). Negative errno on a stream we
 * cannot resynchronise: -EMSGSIZE (AHS or data segment over our limit), -EBADMSG (header
 * digest mismatch). The connection must then be dropped. */
ssize_t iscsi_rx_feed(struct iscsi_rx *rx, const uint8_t *buf, size_t len, int *complete);

/* While receiving a data segment, where the next bytes go and how many are still missing:
 * lets the connection read() large segments straight into place. 0 when not in the data. */
size_t iscsi_rx_direct(struct iscsi_rx *rx, uint8_t **dst);
/* Accounts n bytes written at the pointer iscsi_rx_direct returned. When that completes the
 * PDU, the next iscsi_rx_feed (len may be 0) hands it out. */
void iscsi_rx_direct_done(struct iscsi_rx *rx, size_t n);

static inline uint8_t pdu_opcode(const struct iscsi_pdu *p)
{
	return p->bhs[BHS_OPCODE] & ISCSI_OPCODE_MASK;
}

#endif
