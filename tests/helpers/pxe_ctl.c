/* Test helper: one request to a control socket, the answer on stdout.
 *   pxe_ctl SOCKET REQUEST...      exit 0 when the answer starts with "ok" */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/ctlsock.h"

int main(int argc, char **argv)
{
	char req[1024] = "", *reply = NULL;
	int i, rc;

	if (argc < 3) {
		fprintf(stderr, "usage: pxe_ctl SOCKET REQUEST...\n");
		return 2;
	}
	for (i = 2; i < argc; i++) {
		if (strlen(req) + strlen(argv[i]) + 2 > sizeof(req))
			return 2;
		if (i > 2)
			strcat(req, " ");
		strcat(req, argv[i]);
	}
	rc = ctl_call(argv[1], req, 3000, &reply);
	if (rc) {
		fprintf(stderr, "pxe_ctl: %s: %s\n", argv[1], strerror(-rc));
		return 1;
	}
	fputs(reply, stdout);
	rc = strncmp(reply, "ok", 2) != 0;
	free(reply);
	return rc;
}
