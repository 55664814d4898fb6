#include "client-admin/standby_guard.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "client-admin/daemons.h"
#include "common/ctlsock.h"

/* The value of "key: value" in body, copied into out[len]; "" when absent. */
static void field(const char *body, const char *key, char *out, size_t len)
{
	size_t n;
	const char *v = ctl_field(body, key, &n);

	snprintf(out, len, "%.*s", v ? (int)(n < len ? n : len - 1) : 0, v ? v : "");
}

int standby_guard_refuses(const char *body, char *active, size_t len)
{
	char state[32], peer[96], peer_state[32], name[64], alive[16];

	field(body, "state", state, sizeof(state));
	field(body, "peer", peer, sizeof(peer));
	field(body, "peer_state", peer_state, sizeof(peer_state));
	if (sscanf(peer, "%63s %15s", name, alive) != 2)
		return 0;
	/* Only a node that does not hold the role while its peer does: with neither active
	 * (both stopped, a takeover under way) nobody ships, and refusing would lock the admin
	 * out. */
	if (strcmp(state, "active") == 0 || strcmp(state, "taking_over") == 0 ||
	    strcmp(alive, "alive") != 0 ||
	    (strcmp(peer_state, "active") != 0 && strcmp(peer_state, "taking_over") != 0))
		return 0;
	snprintf(active, len, "%s", name);
	return 1;
}

int standby_guard(struct cli *cli)
{
	char path[256], active[64], *reply = NULL;
	int rc, refuse;

	if (cli->dry_run)
		return 0;
	rc = daemon_socket_path(cli, "standbyd", path, sizeof(path));
	if (rc)
		return rc;
	rc = ctl_call(path, "status", STANDBY_GUARD_TIMEOUT_MS, &reply);
	if (rc == -ENOENT || rc == -ECONNREFUSED)
		return 0;
	if (rc) {
		fprintf(stderr, "vdiskctl: warning: standbyd (%s) does not answer (%s); cannot tell "
			"whether this server is the standby\n", path, strerror(-rc));
		return 0;
	}
	refuse = strncmp(reply, "ok\n", 3) == 0 &&
		 standby_guard_refuses(reply + 3, active, sizeof(active));
	free(reply);
	if (refuse)
		return cli_fail(cli, "this server is the standby (active: %s); make changes on %s",
				active, active);
	return 0;
}
