/* Test helper: one request to a control socket, the answer on stdout.
 *   ctl_ask [--json] SOCKET REQUEST...
 * The answer as vdiskctl shows one (answer_print: "key: value" lines), or with --json as
 * the daemon sent it, one line. Exit 0 when the answer says ok, 1 when it says an error (on
 * stderr) or none came, 2 on bad usage. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "client-admin/answer_text.h"
#include "common/ctlsock.h"

int main(int argc, char **argv)
{
	char req[1024] = "";
	int i, rc, json = argc > 1 && strcmp(argv[1], "--json") == 0;
	json_t *answer = NULL;
	const char *error;

	if (argc < 3 + json) {
		fprintf(stderr, "usage: ctl_ask [--json] SOCKET REQUEST...\n");
		return 2;
	}
	for (i = 2 + json; i < argc; i++) {
		if (strlen(req) + strlen(argv[i]) + 2 > sizeof(req))
			return 2;
		if (i > 2 + json)
			strcat(req, " ");
		strcat(req, argv[i]);
	}
	rc = ctl_call(argv[1 + json], req, 3000, &answer);
	if (rc) {
		fprintf(stderr, "ctl_ask: %s: %s\n", argv[1 + json], strerror(-rc));
		return 1;
	}
	error = ctl_error(answer);
	if (json)
		rc = json_dumpf(answer, stdout, JSON_COMPACT) || putchar('\n') == EOF;
	else if (!error)
		answer_print(stdout, answer, 0);
	if (error)
		fprintf(stderr, "ctl_ask: %s\n", error);
	json_decref(answer);
	if (fflush(stdout) || rc) {
		fprintf(stderr, "ctl_ask: cannot write the answer\n");
		return 1;
	}
	return error ? 1 : 0;
}
