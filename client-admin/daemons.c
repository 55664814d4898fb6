#include "client-admin/daemons.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/ctlsock.h"

int daemon_call(struct cli *cli, const char *daemon, const char *request, char **reply,
		const char **body, int quiet_absent)
{
	const char *dir = getenv("VDISK_RUN_DIR");
	char path[256];
	int rc;

	if (!dir || !*dir)
		dir = VDISK_DEFAULT_RUN_DIR;
	if ((size_t)snprintf(path, sizeof(path), "%s/%s.sock", dir, daemon) >= sizeof(path))
		return cli_fail(cli, "run directory %s is too long", dir);
	rc = ctl_call(path, request, DAEMON_TIMEOUT_MS, reply);
	if (rc == -ENOENT || rc == -ECONNREFUSED) {
		if (quiet_absent)
			return EXIT_FAIL;
		return cli_fail(cli, "%s is not running (no control socket at %s)", daemon, path);
	}
	if (rc)
		return cli_fail(cli, "%s (%s): %s", daemon, path, strerror(-rc));
	if (strncmp(*reply, "ok", 2) == 0 && ((*reply)[2] == '\n' || (*reply)[2] == '\0')) {
		*body = (*reply)[2] ? *reply + 3 : *reply + 2;
		return 0;
	}
	rc = cli_fail(cli, "%s: %.*s", daemon, (int)strcspn(*reply, "\n"),
		      strncmp(*reply, "error: ", 7) == 0 ? *reply + 7 : *reply);
	free(*reply);
	*reply = NULL;
	return rc;
}
