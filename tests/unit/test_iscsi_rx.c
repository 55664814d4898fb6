/* PDU receive state machine: byte-at-a-time and bulk feeding agree, every declared length
 * over our limits is refused before it is stored, digests are checked (RFC 7143 B.4 vector). */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "vdisk-server/iscsi/iscsi_digest.h"
#include "vdisk-server/iscsi/iscsi_rx.h"
#include "tests/lib/tap.h"

/* Builds a PDU with dlen data bytes (value 0x5a) and optional digests into out. */
static size_t build(uint8_t *out, uint8_t op, uint8_t ahs_words, uint32_t dlen, int hd, int dd)
{
	size_t n = 0;
	uint32_t crc;

	memset(out, 0, ISCSI_BHS_LEN);
	out[0] = op;
	out[BHS_TOTAHSLEN] = ahs_words;
	put_be24(out + BHS_DSL, dlen);
	n = ISCSI_BHS_LEN;
	memset(out + n, 0x11, ahs_words * 4u);
	n += ahs_words * 4u;
	if (hd) {
		iscsi_crc_put(out + n, iscsi_crc_update(ISCSI_CRC_INIT, out, n));
		n += 4;
	}
	memset(out + n, 0x5a, dlen);
	memset(out + n + dlen, 0, ISCSI_PAD(dlen));
	crc = iscsi_crc_update(ISCSI_CRC_INIT, out + n, dlen + ISCSI_PAD(dlen));
	n += dlen + ISCSI_PAD(dlen);
	if (dd && dlen) {
		iscsi_crc_put(out + n, crc);
		n += 4;
	}
	return n;
}

int main(void)
{
	static uint8_t buf[70000];
	struct iscsi_rx rx;
	uint8_t zeros[32] = { 0 }, dig[4];
	size_t n, off;
	ssize_t used;
	int complete = 0;

	/* RFC 7143 appendix B.4: 32 bytes of zeros -> aa 36 91 8a on the wire */
	iscsi_crc_put(dig, iscsi_crc_update(ISCSI_CRC_INIT, zeros, 32));
	ok(dig[0] == 0xaa && dig[1] == 0x36 && dig[2] == 0x91 && dig[3] == 0x8a,
	   "CRC32C of 32 zero bytes matches RFC 7143 B.4");

	/* one byte at a time, with padding */
	iscsi_rx_init(&rx, 8192);
	n = build(buf, ISCSI_OP_SCSI_CMD, 0, 5, 0, 0);
	for (off = 0; off < n; off++) {
		used = iscsi_rx_feed(&rx, buf + off, 1, &complete);
		if (used != 1 || (complete && off != n - 1))
			break;
	}
	ok(off == n && complete, "byte-at-a-time PDU completes on its last padding byte");
	is_int(rx.pdu.data_len, 5, "data length");
	ok(rx.pdu.data[0] == 0x5a && rx.pdu.data[4] == 0x5a, "data bytes");

	/* two PDUs in one buffer: the feed stops after the first */
	n = build(buf, ISCSI_OP_NOP_OUT, 0, 0, 0, 0);
	n += build(buf + n, ISCSI_OP_NOP_OUT, 0, 8, 0, 0);
	used = iscsi_rx_feed(&rx, buf, n, &complete);
	ok(complete && used == ISCSI_BHS_LEN, "first of two PDUs ends at its BHS");
	used = iscsi_rx_feed(&rx, buf + used, n - (size_t)used, &complete);
	ok(complete && rx.pdu.data_len == 8, "second PDU follows");

	/* declared data segment over our limit: refused at the BHS */
	iscsi_rx_free(&rx);
	iscsi_rx_init(&rx, 8192);
	build(buf, ISCSI_OP_SCSI_CMD, 0, 0, 0, 0);
	put_be24(buf + BHS_DSL, 8193);
	used = iscsi_rx_feed(&rx, buf, ISCSI_BHS_LEN, &complete);
	is_int(used, -EMSGSIZE, "data segment above MaxRecvDataSegmentLength refused");
	is_int(rx.oversized, 1, "counted");

	iscsi_rx_free(&rx);
	iscsi_rx_init(&rx, 8192);
	build(buf, ISCSI_OP_SCSI_CMD, 255, 0, 0, 0);
	used = iscsi_rx_feed(&rx, buf, ISCSI_BHS_LEN, &complete);
	is_int(used, -EMSGSIZE, "AHS of 1020 bytes refused");

	/* digests */
	iscsi_rx_free(&rx);
	iscsi_rx_init(&rx, 65536);
	rx.header_digest = rx.data_digest = 1;
	n = build(buf, ISCSI_OP_SCSI_CMD, 2, 1000, 1, 1);
	used = iscsi_rx_feed(&rx, buf, n, &complete);
	ok(complete && (size_t)used == n && !rx.pdu.data_digest_bad, "good digests accepted");
	is_int(rx.pdu.ahs_len, 8, "AHS kept");
	n = build(buf, ISCSI_OP_SCSI_CMD, 0, 1000, 1, 1);
	buf[n - 1] ^= 1;
	used = iscsi_rx_feed(&rx, buf, n, &complete);
	ok(complete && rx.pdu.data_digest_bad, "bad data digest flagged, stream kept");
	n = build(buf, ISCSI_OP_SCSI_CMD, 0, 0, 1, 1);
	buf[3] ^= 1;
	used = iscsi_rx_feed(&rx, buf, n, &complete);
	is_int(used, -EBADMSG, "bad header digest ends the stream");
	is_int(rx.bad_header_digests, 1, "counted");

	/* direct reads into the data buffer */
	iscsi_rx_free(&rx);
	iscsi_rx_init(&rx, 65536);
	n = build(buf, ISCSI_OP_DATA_OUT, 0, 40000, 0, 0);
	used = iscsi_rx_feed(&rx, buf, ISCSI_BHS_LEN, &complete);
	{
		uint8_t *dst;
		size_t want = iscsi_rx_direct(&rx, &dst);

		is_int(want, 40000, "direct read offers the whole segment");
		memcpy(dst, buf + ISCSI_BHS_LEN, 30000);
		iscsi_rx_direct_done(&rx, 30000);
		want = iscsi_rx_direct(&rx, &dst);
		is_int(want, 10000, "then the rest");
		memcpy(dst, buf + ISCSI_BHS_LEN + 30000, 10000);
		iscsi_rx_direct_done(&rx, 10000);
		used = iscsi_rx_feed(&rx, NULL, 0, &complete);
		ok(complete && used == 0 && rx.pdu.data_len == 40000,
		   "a PDU completed by a direct read is handed out by the next feed");
	}
	iscsi_rx_free(&rx);
	return done_testing();
}
