/* vdiskctl standby status|takeover|release|maintenance NODE: one request to standbyd's
 * control socket, its answer printed. */
#include "client-admin/cmd_standby.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "client-admin/answer_text.h"
#include "client-admin/daemons.h"
#include "client-admin/fields.h"
#include "client-admin/output.h"

#define STANDBY_TIMEOUT_MS 30000	/* a release runs resource scripts before answering */

static const char usage_text[] =
"usage: vdiskctl standby status [--ctl PATH]\n"
"       vdiskctl standby takeover NODE [--force] [--ctl PATH]\n"
"       vdiskctl standby release|maintenance NODE [--ctl PATH]\n"
"  status       this node's view: state, peer, replication, whether its copy is\n"
"               current or outdated, links, dropped packets\n"
"  takeover     NODE takes the active role (after the other hands it over)\n"
"  --force      with takeover on NODE's own standbyd: also when NODE's copy is outdated\n"
"               (the peer acknowledged writes it lacks): they are lost; a loud event\n"
"  release      NODE gives the role up to the other node (or leaves maintenance)\n"
"  maintenance  NODE hands its role over and stays out of the pair until takeover/release\n"
"  --ctl PATH   standbyd's control socket (default: standbyd.sock in $VDISK_RUN_DIR,\n"
"               else " VDISK_DEFAULT_RUN_DIR ")\n";

int cmd_standby(struct cli *cli, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "ctl", required_argument, NULL, OPT_PATH },
		{ "force", no_argument, NULL, OPT_FORCE },
		CLI_COMMON_OPTS
	};
	const char *ctl = NULL, *verb;
	char request[128], path[256];
	json_t *answer = NULL;
	int opt, nargs, rc, force = 0;

	cli->cmd = "standby";
	while ((opt = cli_getopt(cli, argc, argv, opts)) != -1) {
		if (opt == '?')
			return EXIT_USAGE;
		if (opt == OPT_HELP) {
			fputs(usage_text, stdout);
			return EXIT_OK;
		}
		if (opt == OPT_PATH)
			ctl = optarg;
		if (opt == OPT_FORCE)
			force = 1;
	}
	nargs = argc - optind;
	if (nargs == 0)
		return cli_usage(cli, "missing subcommand: status, takeover, release or maintenance");
	verb = argv[optind];
	if (strcmp(verb, "status") == 0) {
		if (force)
			return cli_usage(cli, "--force goes with takeover only");
		if (nargs != 1)
			return cli_usage(cli, "status takes no node, not '%s'", argv[optind + 1]);
		snprintf(request, sizeof(request), "status");
	} else if (strcmp(verb, "takeover") == 0 || strcmp(verb, "release") == 0 ||
		   strcmp(verb, "maintenance") == 0) {
		if (nargs != 2)
			return cli_usage(cli, "%s needs one node name", verb);
		if (strlen(argv[optind + 1]) > 64 || strpbrk(argv[optind + 1], " \t\r\n"))
			return cli_usage(cli, "'%s' is not a node name", argv[optind + 1]);
		if (force && strcmp(verb, "takeover") != 0)
			return cli_usage(cli, "--force goes with takeover only");
		snprintf(request, sizeof(request), "%s %s%s", verb, argv[optind + 1],
			 force ? " force" : "");
	} else {
		return cli_usage(cli, "unknown subcommand '%s' (see 'vdiskctl standby --help')",
				 verb);
	}
	if (!ctl && (rc = daemon_socket_path(cli, "standbyd", path, sizeof(path))))
		return rc;
	rc = daemon_call_at(cli, "standbyd", ctl ? ctl : path, request, STANDBY_TIMEOUT_MS,
			    &answer, 0);
	if (rc)
		return rc;
	json_object_del(answer, "ok");	/* as status --json: a document, not the answer's envelope */
	if (cli->json)
		rc = json_print(stdout, answer) ? cli_fail(cli, "cannot write the answer") : EXIT_OK;
	else
		answer_print(stdout, answer, 0);
	json_decref(answer);
	return rc;
}
