/* vdiskctl status: what each daemon on this server says about itself, in one view. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "client-admin/answer_text.h"
#include "client-admin/commands.h"
#include "client-admin/daemons.h"
#include "client-admin/output.h"

static const char *const daemons[] = { "standbyd", "vdiskd", "pxed" };

int cmd_status(struct cli *cli, int argc, char **argv)
{
	static const struct option opts[] = { CLI_COMMON_OPTS };
	json_t *doc = NULL;
	size_t i;
	int opt;

	while ((opt = cli_getopt(cli, argc, argv, opts)) != -1) {
		if (opt == '?')
			return EXIT_USAGE;
		if (opt == OPT_HELP) {
			printf("usage: vdiskctl status [--json]\n"
			       "  asks standbyd, vdiskd and pxed on this server for their status\n"
			       "  (control sockets in $VDISK_RUN_DIR, default /run/vdisk); --json:\n"
			       "  one object, a member per daemon (null when it does not run): its\n"
			       "  answer as it gave it, less \"ok\"\n");
			return EXIT_OK;
		}
	}
	if (optind < argc)
		return cli_usage(cli, "unexpected argument '%s'", argv[optind]);
	if (cli->json && !(doc = json_object()))
		return cli_fail(cli, "out of memory");
	for (i = 0; i < sizeof(daemons) / sizeof(daemons[0]); i++) {
		json_t *answer = NULL;
		int up = daemon_call(cli, daemons[i], "status", &answer, 1) == 0;

		if (!doc) {
			printf("%s: %s\n", daemons[i], up ? "running" : "not running");
			if (up)
				answer_print(stdout, answer, 2);
			json_decref(answer);
			continue;
		}
		if (up)
			json_object_del(answer, "ok");
		if (json_object_set_new(doc, daemons[i], up ? answer : json_null())) {
			json_decref(doc);
			return cli_fail(cli, "out of memory");
		}
	}
	if (doc) {
		int rc = json_print(stdout, doc);

		json_decref(doc);
		if (rc)
			return cli_fail(cli, "cannot write the status");
	}
	/* A server with nothing running is a fact to report, not a failure. */
	return EXIT_OK;
}
