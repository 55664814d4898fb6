/* vdiskctl status: what each daemon on this server says about itself, in one view. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "client-admin/commands.h"
#include "client-admin/daemons.h"
#include "client-admin/output.h"

static const char *const daemons[] = { "standbyd", "vdiskd", "pxed" };

/* Prints a "key: value" body as a JSON object (other lines are skipped). */
static void body_json(const char *body)
{
	const char *line = body;
	int first = 1;

	putchar('{');
	while (*line) {
		size_t len = strcspn(line, "\n");
		const char *colon = memchr(line, ':', len);
		if (colon && colon[1] == ' ') {
			char key[128], val[512];
			snprintf(key, sizeof(key), "%.*s", (int)(colon - line), line);
			snprintf(val, sizeof(val), "%.*s", (int)(len - (size_t)(colon + 2 - line)),
				 colon + 2);
			printf("%s", first ? "" : ",");
			json_string(stdout, key);
			putchar(':');
			json_string(stdout, val);
			first = 0;
		}
		line += len + (line[len] == '\n');
	}
	putchar('}');
}

int cmd_status(struct cli *cli, int argc, char **argv)
{
	static const struct option opts[] = { CLI_COMMON_OPTS };
	size_t i;
	int opt;

	while ((opt = cli_getopt(cli, argc, argv, opts)) != -1) {
		if (opt == '?')
			return EXIT_USAGE;
		if (opt == OPT_HELP) {
			printf("usage: vdiskctl status [--json]\n"
			       "  asks standbyd, vdiskd and pxed on this server for their status\n"
			       "  (control sockets in $VDISK_RUN_DIR, default /run/vdisk)\n");
			return EXIT_OK;
		}
	}
	if (optind < argc)
		return cli_usage(cli, "unexpected argument '%s'", argv[optind]);
	if (cli->json)
		putchar('{');
	for (i = 0; i < sizeof(daemons) / sizeof(daemons[0]); i++) {
		char *reply = NULL;
		const char *body = NULL;
		int up = daemon_call(cli, daemons[i], "status", &reply, &body, 1) == 0;

		if (cli->json) {
			printf("%s\"%s\":", i ? "," : "", daemons[i]);
			if (up)
				body_json(body);
			else
				printf("null");
		} else {
			printf("%s: %s\n", daemons[i], up ? "running" : "not running");
			if (up) {
				const char *line = body;
				while (*line) {
					size_t len = strcspn(line, "\n");
					printf("  %.*s\n", (int)len, line);
					line += len + (line[len] == '\n');
				}
			}
		}
		free(reply);
	}
	if (cli->json)
		printf("}\n");
	/* A server with nothing running is a fact to report, not a failure. */
	return EXIT_OK;
}
