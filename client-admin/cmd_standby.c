/* vdiskctl standby status|takeover|release|maintenance NODE: one request to standbyd's
 * control socket, its answer printed. */
#include "client-admin/cmd_standby.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/ctlsock.h"

#define STANDBY_TIMEOUT_MS 30000	/* a release runs resource scripts before answering */

static const char usage_text[] =
"usage: vdiskctl standby status [--ctl PATH]\n"
"       vdiskctl standby takeover|release|maintenance NODE [--ctl PATH]\n"
"  status       this node's view: state, peer, replication, links, dropped packets\n"
"  takeover     NODE takes the active role (after the other hands it over)\n"
"  release      NODE gives the role up to the other node (or leaves maintenance)\n"
"  maintenance  NODE hands its role over and stays out of the pair until takeover/release\n"
"  --ctl PATH   standbyd's control socket (" STANDBYD_DEFAULT_CTL ")\n";

static int usage(const char *fmt, const char *arg)
{
	fputs("vdiskctl standby: ", stderr);
	fprintf(stderr, fmt, arg);
	fputs(" (see 'vdiskctl standby --help')\n", stderr);
	return 2;
}

int cmd_standby(int argc, char **argv)
{
	const char *ctl = STANDBYD_DEFAULT_CTL, *words[3] = { NULL, NULL, NULL };
	char request[256], *reply = NULL, *body, *nl;
	int i, nwords = 0, rc;

	for (i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0) {
			fputs(usage_text, stdout);
			return 0;
		}
		if (strcmp(argv[i], "--ctl") == 0) {
			if (++i == argc)
				return usage("%s needs a path", "--ctl");
			ctl = argv[i];
		} else if (strncmp(argv[i], "--ctl=", 6) == 0) {
			ctl = argv[i] + 6;
		} else if (argv[i][0] == '-') {
			return usage("unknown option '%s'", argv[i]);
		} else if (nwords == 2) {
			return usage("unexpected argument '%s'", argv[i]);
		} else {
			words[nwords++] = argv[i];
		}
	}
	if (nwords == 0)
		return usage("%s", "missing subcommand: status, takeover, release or maintenance");
	if (strcmp(words[0], "status") == 0) {
		if (nwords != 1)
			return usage("status takes no node, not '%s'", words[1]);
	} else if (strcmp(words[0], "takeover") == 0 || strcmp(words[0], "release") == 0 ||
		   strcmp(words[0], "maintenance") == 0) {
		if (nwords != 2)
			return usage("%s needs a node name", words[0]);
		if (strlen(words[1]) > 64 || strpbrk(words[1], " \t\r\n"))
			return usage("'%s' is not a node name", words[1]);
	} else {
		return usage("unknown subcommand '%s'", words[0]);
	}
	snprintf(request, sizeof(request), "%s%s%s", words[0], nwords == 2 ? " " : "",
		 nwords == 2 ? words[1] : "");

	rc = ctl_call(ctl, request, STANDBY_TIMEOUT_MS, &reply);
	if (rc) {
		fprintf(stderr, "vdiskctl standby: %s: %s%s\n", ctl, strerror(-rc),
			rc == -ENOENT || rc == -ECONNREFUSED ? " (is standbyd running?)" : "");
		return 1;
	}
	nl = strchr(reply, '\n');
	body = nl ? nl + 1 : reply + strlen(reply);
	if (nl)
		*nl = '\0';
	if (strcmp(reply, "ok") != 0) {
		fprintf(stderr, "vdiskctl standby: %s\n",
			strncmp(reply, "error: ", 7) == 0 ? reply + 7 : reply);
		free(reply);
		return 1;
	}
	fputs(body, stdout);
	free(reply);
	return 0;
}
