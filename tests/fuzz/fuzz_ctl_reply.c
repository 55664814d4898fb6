/* libFuzzer target: what the programs read from each other's control-socket answers and
 * from the kernel's socket tables. The input, NUL-terminated, is an answer given to
 * ctl_field (every key the readers ask for), pxed's standby_parse, standbyd's vdiskd checks
 * vdiskctl's standby guard and its --json reading (answer_json), and each of its lines to
 * sock_table_line. A value read must lie inside the answer and end before its line does;
 * the JSON made of it must read back as JSON. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "client-admin/answer_json.h"
#include "client-admin/sockowner.h"
#include "client-admin/standby_guard.h"
#include "common/ctlsock.h"
#include "pxe/redirect.h"
#include "standby/resource.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const char *const keys[] = { "mirror", "node", "role", "fence", "state", "peer",
				    "link", "peer_clock_offset_ms", "tickle_acks" };

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *s = malloc(size + 1), active[64], *line, *save = NULL;
	struct standby_status st;
	json_t *j;

	if (!s)
		return 0;
	memcpy(s, data, size);
	s[size] = '\0';
	for (size_t i = 0; i < sizeof(keys) / sizeof(keys[0]); i++) {
		size_t n;
		const char *v = ctl_field(s, keys[i], &n);

		if (v && (v < s || v + n > s + strlen(s) || memchr(v, '\n', n)))
			abort();
	}
	standby_parse(s, &st);
	if (memchr(st.state, '\0', sizeof(st.state)) == NULL ||
	    memchr(st.peer, '\0', sizeof(st.peer)) == NULL)
		abort();
	res_vdiskd_mirror(s);
	res_vdiskd_primary(s);
	res_vdiskd_fencing(s);
	res_vdiskd_result(RES_STATUS, 0, s);
	if (standby_guard_refuses(s, active, sizeof(active)) &&
	    memchr(active, '\0', sizeof(active)) == NULL)
		abort();
	j = answer_json(s);
	if (j) {
		char *text = json_dumps(j, JSON_COMPACT);
		json_t *back = text ? json_loads(text, 0, NULL) : NULL;

		if (text && !back)
			abort();
		json_decref(back);
		free(text);
		json_decref(j);
	}
	for (line = strtok_r(s, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		unsigned port, state;
		unsigned long inode;

		if (sock_table_line(line, &port, &state, &inode) == 0 && port > 65535)
			abort();
	}
	free(s);
	return 0;
}
