/* PDU receive state machine; see iscsi_rx.h. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "vdisk-server/iscsi/iscsi_digest.h"
#include "vdisk-server/iscsi/iscsi_rx.h"

int iscsi_rx_init(struct iscsi_rx *rx, uint32_t max_data)
{
	memset(rx, 0, sizeof(*rx));
	rx->state = RX_BHS;
	rx->want = ISCSI_BHS_LEN;
	return iscsi_rx_set_max_data(rx, max_data);
}

void iscsi_rx_free(struct iscsi_rx *rx)
{
	free(rx->buf);
	rx->buf = NULL;
}

int iscsi_rx_set_max_data(struct iscsi_rx *rx, uint32_t max_data)
{
	uint8_t *buf;

	/* +3: the padding lands in rx->pad, but keep the buffer a whole number of words. */
	buf = realloc(rx->buf, (size_t)max_data + 4);
	if (!buf)
		return -ENOMEM;
	rx->buf = buf;
	rx->max_data = max_data;
	return 0;
}

/* Moves to the first field after `from` that has bytes to receive. */
static void rx_advance(struct iscsi_rx *rx, enum iscsi_rx_state from)
{
	struct iscsi_pdu *p = &rx->pdu;

	rx->off = 0;
	switch (from) {
	case RX_BHS:
		if (p->ahs_len) {
			rx->state = RX_AHS;
			rx->want = p->ahs_len;
			return;
		}
		/* fall through */
	case RX_AHS:
		if (rx->header_digest) {
			rx->state = RX_HDIGEST;
			rx->want = ISCSI_DIGEST_LEN;
			return;
		}
		/* fall through */
	case RX_HDIGEST:
		rx->crc = ISCSI_CRC_INIT;
		if (p->data_len) {
			rx->state = RX_DATA;
			rx->want = p->data_len;
			return;
		}
		/* fall through */
	case RX_DATA:
		if (ISCSI_PAD(p->data_len)) {
			rx->state = RX_PAD;
			rx->want = ISCSI_PAD(p->data_len);
			return;
		}
		/* fall through */
	case RX_PAD:
		if (rx->data_digest && p->data_len) {
			rx->state = RX_DDIGEST;
			rx->want = ISCSI_DIGEST_LEN;
			return;
		}
		/* fall through */
	default:
		rx->state = RX_DONE;
		rx->want = 0;
		rx->undelivered = 1;
	}
}

/* The BHS is complete: check its declared lengths against our limits. */
static int rx_header(struct iscsi_rx *rx)
{
	struct iscsi_pdu *p = &rx->pdu;

	p->ahs_len = (uint32_t)p->bhs[BHS_TOTAHSLEN] * 4;
	p->data_len = get_be24(p->bhs + BHS_DSL);
	p->data = rx->buf;
	p->data_digest_bad = 0;
	if (p->ahs_len > ISCSI_RX_MAX_AHS || p->data_len > rx->max_data) {
		rx->oversized++;
		return -EMSGSIZE;
	}
	rx->crc = iscsi_crc_update(ISCSI_CRC_INIT, p->bhs, ISCSI_BHS_LEN);
	return 0;
}

static uint8_t *rx_field(struct iscsi_rx *rx)
{
	switch (rx->state) {
	case RX_BHS:		return rx->pdu.bhs;
	case RX_AHS:		return rx->pdu.ahs;
	case RX_HDIGEST:	return rx->digest;
	case RX_DATA:		return rx->buf;
	case RX_PAD:		return rx->pad;
	case RX_DDIGEST:	return rx->digest;
	default:		return NULL;
	}
}

/* The current field is complete. */
static int rx_field_done(struct iscsi_rx *rx)
{
	enum iscsi_rx_state s = rx->state;
	int rc;

	switch (s) {
	case RX_BHS:
		rc = rx_header(rx);
		if (rc < 0)
			return rc;
		break;
	case RX_AHS:
		rx->crc = iscsi_crc_update(rx->crc, rx->pdu.ahs, rx->pdu.ahs_len);
		break;
	case RX_HDIGEST:
		if (!iscsi_crc_check(rx->digest, rx->crc)) {
			rx->bad_header_digests++;
			return -EBADMSG;
		}
		break;
	case RX_DATA:
		if (rx->data_digest)
			rx->crc = iscsi_crc_update(rx->crc, rx->buf, rx->pdu.data_len);
		break;
	case RX_PAD:
		if (rx->data_digest)
			rx->crc = iscsi_crc_update(rx->crc, rx->pad, rx->want);
		break;
	case RX_DDIGEST:
		rx->pdu.data_digest_bad = !iscsi_crc_check(rx->digest, rx->crc);
		break;
	default:
		break;
	}
	rx_advance(rx, s);
	return 0;
}

ssize_t iscsi_rx_feed(struct iscsi_rx *rx, const uint8_t *buf, size_t len, int *complete)
{
	size_t used = 0;
	int rc;

	*complete = 0;
	if (rx->state == RX_DONE && rx->undelivered) {
		/* completed by iscsi_rx_direct_done() */
		rx->undelivered = 0;
		*complete = 1;
		return 0;
	}
	if (rx->state == RX_DONE) {
		rx->state = RX_BHS;
		rx->want = ISCSI_BHS_LEN;
		rx->off = 0;
	}
	while (rx->state != RX_DONE) {
		uint32_t n = rx->want - rx->off;

		if (used == len)
			return (ssize_t)used;
		if (n > len - used)
			n = (uint32_t)(len - used);
		memcpy(rx_field(rx) + rx->off, buf + used, n);
		rx->off += n;
		used += n;
		if (rx->off < rx->want)
			return (ssize_t)used;
		rc = rx_field_done(rx);
		if (rc < 0)
			return rc;
	}
	rx->undelivered = 0;
	*complete = 1;
	return (ssize_t)used;
}

size_t iscsi_rx_direct(struct iscsi_rx *rx, uint8_t **dst)
{
	if (rx->state != RX_DATA)
		return 0;
	*dst = rx->buf + rx->off;
	return rx->want - rx->off;
}

void iscsi_rx_direct_done(struct iscsi_rx *rx, size_t n)
{
	rx->off += (uint32_t)n;
	if (rx->off == rx->want)
		rx_field_done(rx);	/* cannot fail in RX_DATA */
}
