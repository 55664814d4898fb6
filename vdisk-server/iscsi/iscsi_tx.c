/* iSCSI transmit side: target PDUs built and stamped with StatSN/ExpCmdSN/MaxCmdSN, Rejects,
 * and the per-connection queue they wait in, sent with writev (sendfile for zero-copy
 * Data-In) in batches. Below the login, the full feature phase and the connection: it calls
 * none of them. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/sendfile.h>
#include <sys/uio.h>

#include "vdisk-server/iscsi/iscsi_digest.h"
#include "vdisk-server/iscsi/iscsi_tx.h"

#define TX_IOV		64
#define TX_FREE_MAX	64

/* The window closes (MaxCmdSN = ExpCmdSN - 1) while ISCSI_QUEUE_DEPTH tasks are in flight. */
uint32_t tx_max_cmdsn(struct iscsi_conn *c)
{
	unsigned room = c->ntasks < ISCSI_QUEUE_DEPTH ? ISCSI_QUEUE_DEPTH - c->ntasks : 0;

	return c->exp_cmdsn + room - 1;
}

void tx_stamp_sn(struct iscsi_conn *c, struct tx_pdu *p, int status)
{
	put_be32(p->hdr + 24, status ? c->stat_sn++ : c->stat_sn);
	put_be32(p->hdr + 28, c->exp_cmdsn);
	put_be32(p->hdr + 32, tx_max_cmdsn(c));
}

struct tx_pdu *tx_new(struct iscsi_conn *c, uint8_t opcode)
{
	struct tx_pdu *p = c->tx_free;

	if (p)
		c->tx_free = p->next;
	else
		p = malloc(sizeof(*p));
	if (!p)
		return NULL;
	memset(p, 0, sizeof(*p));
	p->hdr[0] = opcode;
	p->file_fd = -1;
	return p;
}

/* Frees what p holds; p itself is kept for reuse, up to TX_FREE_MAX of them per flush
 * (*nfree), so a connection's steady traffic allocates no PDUs. */
static void pdu_release(struct iscsi_conn *c, struct tx_pdu *p, unsigned *nfree)
{
	free(p->own);
	if (p->release)
		c->hooks->task_free(p->release);	/* iscsi_cmd.c's, above us */
	if (*nfree < TX_FREE_MAX) {
		p->next = c->tx_free;
		c->tx_free = p;
		(*nfree)++;
	} else {
		free(p);
	}
}

void tx_drop(struct iscsi_conn *c, struct tx_pdu *p)
{
	unsigned nfree = TX_FREE_MAX;

	pdu_release(c, p, &nfree);
}

void tx_drop_queue(struct iscsi_conn *c)
{
	while (c->txq) {
		struct tx_pdu *p = c->txq;

		c->txq = p->next;
		tx_drop(c, p);
	}
	c->txq_tail = NULL;
	c->tx_queued = 0;
}

void tx_fini(struct iscsi_conn *c)
{
	while (c->tx_free) {
		struct tx_pdu *p = c->tx_free;

		c->tx_free = p->next;
		free(p);
	}
}

static void set_events(struct iscsi_conn *c, uint32_t ev)
{
	if (ev != c->events && c->fd >= 0) {
		c->events = ev;
		ev_io_mod(c->srv->loop, &c->io, ev);
	}
}

int tx_flush(struct iscsi_conn *c)
{
	unsigned nfree = 0;

	while (c->txq) {
		struct iovec iov[TX_IOV];
		struct tx_pdu *file = NULL;
		size_t skip = c->tx_off, file_skip = 0;
		int n = 0;
		ssize_t w;

		/* memory parts go out with writev; a file part (zero-copy Data-In) alone with
		 * sendfile once everything before it has gone */
		for (struct tx_pdu *p = c->txq; p && n < TX_IOV - 3; p = p->next) {
			const void *part[3] = { p->hdr, p->data, p->tail };
			size_t len[3] = { p->hlen, p->dlen, p->tlen };

			for (int i = 0; i < 3; i++) {
				if (skip >= len[i]) {
					skip -= len[i];
					continue;
				}
				if (i == 1 && p->file_fd >= 0) {
					if (n == 0) {
						file = p;
						file_skip = skip;
					}
					goto gathered;
				}
				iov[n].iov_base = (uint8_t *)part[i] + skip;
				iov[n].iov_len = len[i] - skip;
				skip = 0;
				n++;
			}
		}
gathered:
		if (n) {
			w = writev(c->fd, iov, n);
		} else {
			off_t off = (off_t)(file->file_off + file_skip);

			w = sendfile(c->fd, file->file_fd, &off, file->dlen - file_skip);
			if (w == 0)
				return -EIO;	/* the file shrank under us */
		}
		if (w < 0) {
			if (errno == EAGAIN || errno == EINTR)
				break;
			return -errno;
		}
		c->bytes_out += (uint64_t)w;
		c->srv->stats.bytes_out += (uint64_t)w;
		c->tx_off += (size_t)w;
		c->tx_queued -= (size_t)w;
		while (c->txq) {
			struct tx_pdu *p = c->txq;
			size_t total = p->hlen + p->dlen + p->tlen;

			if (c->tx_off < total)
				break;
			c->tx_off -= total;
			c->txq = p->next;
			if (!c->txq)
				c->txq_tail = NULL;
			if (p->close_after) {
				pdu_release(c, p, &nfree);
				return -ECONNRESET;
			}
			pdu_release(c, p, &nfree);
		}
	}
	if (c->state == CONN_CLOSING)
		return 0;
	set_events(c, (c->txq ? EPOLLOUT : 0) |
		   (c->tx_queued < ISCSI_TX_HIGH_WATER && !c->rx_stopped ? EPOLLIN : 0));
	return 0;
}

/* The send happens once the loop has handled every event of this round (c->flush, set by
 * the connection), so completions that arrive together leave in one writev. */
void tx_queue(struct iscsi_conn *c, struct tx_pdu *p)
{
	uint32_t pad = ISCSI_PAD(p->dlen);
	/* Login responses belong to the login phase, the final one too (also when it leaves
	 * late, after a reinstatement): digests apply from the first PDU after it, as on our
	 * receive side; an initiator reads a digest there as text (libiscsi: no login). */
	int digests = (p->hdr[0] & ISCSI_OPCODE_MASK) != ISCSI_OP_LOGIN_RSP;

	if (c->state == CONN_CLOSING) {
		tx_drop(c, p);
		return;
	}
	put_be24(p->hdr + BHS_DSL, p->dlen);
	p->hlen = ISCSI_BHS_LEN;
	if (digests && c->params.header_digest) {
		iscsi_crc_put(p->hdr + ISCSI_BHS_LEN,
			      iscsi_crc_update(ISCSI_CRC_INIT, p->hdr, ISCSI_BHS_LEN));
		p->hlen += ISCSI_DIGEST_LEN;
	}
	memset(p->tail, 0, pad);
	p->tlen = pad;
	if (digests && c->params.data_digest && p->dlen) {
		uint32_t crc = iscsi_crc_update(ISCSI_CRC_INIT, p->data, p->dlen);

		crc = iscsi_crc_update(crc, p->tail, pad);
		iscsi_crc_put(p->tail + pad, crc);
		p->tlen += ISCSI_DIGEST_LEN;
	}
	p->next = NULL;
	if (c->txq_tail)
		c->txq_tail->next = p;
	else
		c->txq = p;
	c->txq_tail = p;
	c->tx_queued += p->hlen + p->dlen + p->tlen;
	c->srv->stats.pdus_out++;
	ev_defer(c->srv->loop, &c->flush);
}

void tx_reject(struct iscsi_conn *c, const uint8_t *bhs, uint8_t reason)
{
	struct tx_pdu *p = tx_new(c, ISCSI_OP_REJECT);
	uint8_t *copy;

	c->srv->stats.rejects++;
	if (!p)
		return;
	copy = malloc(ISCSI_BHS_LEN);
	if (!copy) {
		free(p);
		return;
	}
	memcpy(copy, bhs, ISCSI_BHS_LEN);
	p->hdr[1] = ISCSI_FLAG_FINAL;
	p->hdr[2] = reason;
	put_be32(p->hdr + BHS_ITT, ISCSI_RESERVED_TAG);
	tx_stamp_sn(c, p, 1);
	p->own = copy;
	p->data = copy;
	p->dlen = ISCSI_BHS_LEN;
	tx_queue(c, p);
}
