#include "client-admin/standby_guard.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "client-admin/daemons.h"
#include "common/ctlsock.h"

/* The string member key of answer; "" when absent or not a string. */
static const char *member(const json_t *answer, const char *key)
{
	const char *v = json_string_value(json_object_get(answer, key));

	return v ? v : "";
}

int standby_guard_refuses(const json_t *answer, char *active, size_t len)
{
	const char *state = member(answer, "state"), *peer = member(answer, "peer");
	const char *alive = member(answer, "peer_status");
	const char *peer_state = member(answer, "peer_state");

	/* node names are host names, at most 63 bytes: anything longer is no name */
	if (!*peer || strlen(peer) > 63)
		return 0;
	/* Only a node that does not hold the role while its peer does: with neither active
	 * (both stopped, a takeover under way) nobody ships, and refusing would lock the admin
	 * out. */
	if (strcmp(state, "active") == 0 || strcmp(state, "taking_over") == 0 ||
	    strcmp(alive, "alive") != 0 ||
	    (strcmp(peer_state, "active") != 0 && strcmp(peer_state, "taking_over") != 0))
		return 0;
	snprintf(active, len, "%s", peer);
	return 1;
}

int standby_guard(struct cli *cli)
{
	char path[256], active[64];
	json_t *answer = NULL;
	int rc, refuse;

	if (cli->dry_run)
		return 0;
	rc = daemon_socket_path(cli, "standbyd", path, sizeof(path));
	if (rc)
		return rc;
	rc = ctl_call(path, "status", STANDBY_GUARD_TIMEOUT_MS, &answer);
	if (rc == -ENOENT || rc == -ECONNREFUSED)
		return 0;
	if (rc) {
		fprintf(stderr, "vdiskctl: warning: standbyd (%s) does not answer (%s); cannot tell "
			"whether this server is the standby\n", path, strerror(-rc));
		return 0;
	}
	refuse = !ctl_error(answer) && standby_guard_refuses(answer, active, sizeof(active));
	json_decref(answer);
	if (refuse)
		return cli_fail(cli, "this server is the standby (active: %s); make changes on %s",
				active, active);
	return 0;
}
