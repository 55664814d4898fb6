/* libFuzzer: batch selection options. Input: OPTION '\n' VALUE [ '\n' OPTION '\n' VALUE ...] */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "client-admin/select.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct db_client c = { .name = "PC042", .mac = "52:54:00:00:00:2a", .ip = "10.0.0.42",
			       .group = "hall" };
	struct selection sel = { 0 };
	char *buf = malloc(size + 1), *save = NULL, *opt, *val, err[160];

	if (!buf)
		return 0;
	memcpy(buf, data, size);
	buf[size] = '\0';
	while ((opt = strtok_r(save ? NULL : buf, "\n", &save)) != NULL) {
		val = strtok_r(NULL, "\n", &save);
		if (selection_add(&sel, opt, val, err, sizeof(err)) != 0)
			break;
	}
	selection_match(&sel, &c);
	free(buf);
	return 0;
}
