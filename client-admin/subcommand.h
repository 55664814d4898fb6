/* A command group's subcommands (vdiskctl's top level, "client", "image", ...): a table and
 * the one dispatcher every group uses, below the groups and the program's main. */
#ifndef CLIENT_ADMIN_SUBCOMMAND_H
#define CLIENT_ADMIN_SUBCOMMAND_H

#include "client-admin/cli.h"

typedef int (*subcommand_fn)(struct cli *cli, int argc, char **argv);

struct subcommand {
	const char *name;
	const char *full;		/* "client add", for messages */
	subcommand_fn fn;
};

/* Dispatches argv[1] among cmds (NULL-terminated), with argv shifted so the subcommand's
 * options start at argv[1]. Returns the subcommand's exit status, or the usage's. */
int run_subcommand(struct cli *cli, const struct subcommand *cmds, int argc, char **argv);

#endif
