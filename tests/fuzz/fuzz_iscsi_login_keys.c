/* Fuzz login text: split into pairs, negotiate every operational key as a login would, and
 * decode CHAP values. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "vdisk-server/iscsi/iscsi_chap.h"
#include "vdisk-server/iscsi/iscsi_keys.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct iscsi_kv kv[ISCSI_MAX_KEYS];
	struct iscsi_params ours, neg;
	struct iscsi_text_out out;
	uint8_t bin[CHAP_MAX_BINARY];
	char *text;
	size_t blen;
	int n;

	if (size > 65536)
		return 0;
	text = malloc(size + 1);
	if (!text)
		return 0;
	memcpy(text, data, size);
	n = iscsi_text_parse(text, size, kv, ISCSI_MAX_KEYS);
	iscsi_params_rfc_default(&ours);
	ours.max_recv_dsl = 262144;
	ours.header_digest = ours.data_digest = 1;
	iscsi_params_rfc_default(&neg);
	if (iscsi_text_out_init(&out, 8192) == 0) {
		for (int i = 0; i < n; i++) {
			int alg;

			iscsi_negotiate_key(&neg, &ours, kv[i].key, kv[i].value, &out);
			if (strncmp(kv[i].key, "CHAP_", 5) == 0) {
				chap_decode(kv[i].value, bin, sizeof(bin), &blen);
				chap_pick_alg(kv[i].value, &alg);
			}
		}
		iscsi_text_out_free(&out);
	}
	free(text);
	return 0;
}
