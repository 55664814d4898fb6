/* Dispatching a command group's subcommands; see subcommand.h. */
#include "client-admin/subcommand.h"

#include <getopt.h>
#include <stdio.h>
#include <string.h>

int run_subcommand(struct cli *cli, const struct subcommand *cmds, int argc, char **argv)
{
	const struct subcommand *c;
	const char *group = argv[0];

	if (argc < 2 || strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0) {
		fprintf(argc < 2 ? stderr : stdout, "usage: vdiskctl %s", group);
		for (c = cmds; c->name; c++)
			fprintf(argc < 2 ? stderr : stdout, "%s%s", c == cmds ? " " : "|", c->name);
		fprintf(argc < 2 ? stderr : stdout, " ...\n");
		return argc < 2 ? EXIT_USAGE : EXIT_OK;
	}
	for (c = cmds; c->name; c++)
		if (strcmp(c->name, argv[1]) == 0) {
			cli->cmd = c->full;
			optind = 0;	/* 0, not 1: glibc then rereads the option string */
			return c->fn(cli, argc - 1, argv + 1);
		}
	return cli_usage(cli, "unknown command '%s %s' (see 'vdiskctl --help')", group, argv[1]);
}
