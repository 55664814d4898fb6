/* Fuzz the PDU receive state machine: the first byte picks digests, the cap on data segments
 * and the chunk size the stream is fed in; every PDU that completes has its text (login and
 * text requests) split as the login code would. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "vdisk-server/iscsi/iscsi_keys.h"
#include "vdisk-server/iscsi/iscsi_rx.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct iscsi_rx rx;
	struct iscsi_kv kv[ISCSI_MAX_KEYS];
	size_t off = 1, chunk;
	uint8_t cfg;

	if (size < 1)
		return 0;
	cfg = data[0];
	chunk = 1 + (cfg >> 4) * 7;
	if (iscsi_rx_init(&rx, (cfg & 4) ? 8192 : 512) < 0)
		return 0;
	rx.header_digest = cfg & 1;
	rx.data_digest = (cfg >> 1) & 1;
	while (off < size) {
		size_t n = size - off < chunk ? size - off : chunk;
		int complete;
		ssize_t used = iscsi_rx_feed(&rx, data + off, n, &complete);

		if (used < 0)
			break;
		off += (size_t)used;
		if (complete && (pdu_opcode(&rx.pdu) == 0x03 || pdu_opcode(&rx.pdu) == 0x04)) {
			char *text = malloc(rx.pdu.data_len + 1);

			if (!text)
				break;
			memcpy(text, rx.pdu.data, rx.pdu.data_len);
			iscsi_text_parse(text, rx.pdu.data_len, kv, ISCSI_MAX_KEYS);
			free(text);
		}
	}
	iscsi_rx_free(&rx);
	return 0;
}
