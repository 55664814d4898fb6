#include "client-admin/daemons.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/ctlsock.h"

int daemon_socket_path(struct cli *cli, const char *daemon, char *path, size_t len)
{
	const char *dir = getenv("VDISK_RUN_DIR");

	if (!dir || !*dir)
		dir = VDISK_DEFAULT_RUN_DIR;
	if ((size_t)snprintf(path, len, "%s/%s.sock", dir, daemon) >= len)
		return cli_fail(cli, "run directory %s is too long", dir);
	return 0;
}

int daemon_call(struct cli *cli, const char *daemon, const char *request, json_t **answer,
		int quiet_absent)
{
	char path[256];
	int rc = daemon_socket_path(cli, daemon, path, sizeof(path));

	if (rc)
		return rc;
	return daemon_call_at(cli, daemon, path, request, DAEMON_TIMEOUT_MS, answer,
			      quiet_absent);
}

int daemon_call_at(struct cli *cli, const char *daemon, const char *path, const char *request,
		   int timeout_ms, json_t **answer, int quiet_absent)
{
	int rc = ctl_call(path, request, timeout_ms, answer);
	const char *error;

	if (rc == -ENOENT || rc == -ECONNREFUSED) {
		if (quiet_absent)
			return EXIT_FAIL;
		return cli_fail(cli, "%s is not running (no control socket at %s)", daemon, path);
	}
	if (rc == -EPROTO)
		return cli_fail(cli, "%s (%s): the answer is not a control-socket answer (one JSON "
				"object with \"ok\")", daemon, path);
	if (rc)
		return cli_fail(cli, "%s (%s): %s", daemon, path, strerror(-rc));
	error = ctl_error(*answer);
	if (!error)
		return 0;
	rc = cli_fail(cli, "%s: %s", daemon, error);
	json_decref(*answer);
	*answer = NULL;
	return rc;
}
