/* libFuzzer target: what the programs read from each other's control-socket answers and
 * from the kernel's socket tables. The input is an answer's bytes: the one parser
 * (ctl_parse) must refuse or accept it without fault; an accepted answer is given to every
 * reader of one (pxed's standby_parse, standbyd's checks of vdiskd's answers, vdiskctl's
 * standby guard and its text view), which must treat a member of the wrong type as missing
 * and keep what they copy NUL-terminated. Each line of the input also goes to
 * sock_table_line. */
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "client-admin/answer_text.h"
#include "client-admin/sockowner.h"
#include "client-admin/standby_guard.h"
#include "common/ctlsock.h"
#include "pxe/redirect.h"
#include "standby/resource.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void read_answer(const json_t *a)
{
	struct standby_status st;
	char active[64];
	FILE *devnull;

	if (standby_parse(a, &st) == 0 &&
	    (memchr(st.state, '\0', sizeof(st.state)) == NULL ||
	     memchr(st.peer, '\0', sizeof(st.peer)) == NULL ||
	     memchr(st.peer_status, '\0', sizeof(st.peer_status)) == NULL))
		abort();
	res_vdiskd_mirror(a);
	res_vdiskd_primary(a);
	res_vdiskd_fencing(a);
	res_vdiskd_result(RES_STATUS, 0, a);
	if (standby_guard_refuses(a, active, sizeof(active)) &&
	    memchr(active, '\0', sizeof(active)) == NULL)
		abort();
	if (ctl_error(a) == NULL) {
		devnull = fopen("/dev/null", "w");
		if (devnull) {
			answer_print(devnull, a, 0);
			fclose(devnull);
		}
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *s = malloc(size + 1), *line, *save = NULL;
	json_t *a = NULL;

	if (!s)
		return 0;
	memcpy(s, data, size);
	s[size] = '\0';
	if (ctl_parse((const char *)data, size, &a) == 0) {
		if (!json_is_object(a))
			abort();
		read_answer(a);
		json_decref(a);
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
