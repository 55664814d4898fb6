/* vdiskctl: the admin CLI of the diskless-boot pair. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "client-admin/cmd_standby.h"
#include "client-admin/commands.h"
#include "common/version.h"

static const char usage_text[] =
"usage: vdiskctl [--db PATH] [--json] COMMAND ...\n"
"\n"
"  init                          create the database (or upgrade it)\n"
"  backup FILE                   a consistent copy of the database, while the daemons run\n"
"  client add|list|show|set|del|import|export|reset\n"
"                                the diskless PCs; batch selection with --all, --group G,\n"
"                                --name GLOB, --range PC001-PC080, --mac M[,M], --ip-range A-B\n"
"  server add|list|mark          the two servers of the pair\n"
"  image add|list|sync           base images (sync: make the peer's copy equal)\n"
"  group add|list                client groups\n"
"  setting get|set               settings (auto_register, iqn_prefix, ...)\n"
"  events                        what the admin must see\n"
"  status                        what standbyd, vdiskd and pxed on this server report\n"
"  standby status|takeover|release|maintenance NODE\n"
"                                the pair's failover state, through standbyd\n"
"  mirror status|resolve CLIENT --keep NODE\n"
"                                hot-standby replication, through vdiskd\n"
"  doctor                        the usual mistakes on this server of the pair\n"
"\n"
"The database is --db PATH, else $VDISK_DB, else " VDISKCTL_DEFAULT_DB ".\n"
"'vdiskctl COMMAND SUBCOMMAND --help' explains each; --version prints the version.\n"
"Exit status: 0 ok, 1 failure, 2 usage.\n";

static const struct subcommand top_cmds[] = {
	{ "init", "init", cmd_init },
	{ "backup", "backup", cmd_backup },
	{ "client", "client", cmd_client },
	{ "server", "server", cmd_server },
	{ "image", "image", cmd_image },
	{ "group", "group", cmd_group },
	{ "setting", "setting", cmd_setting },
	{ "events", "events", cmd_events },
	{ "status", "status", cmd_status },
	{ "standby", "standby", cmd_standby },
	{ "mirror", "mirror", cmd_mirror },
	{ "doctor", "doctor", cmd_doctor },
	{ NULL, NULL, NULL },
};

int main(int argc, char **argv)
{
	enum { OPT_VERSION = OPT_FIRST_CMD };
	static const struct option opts[] = {
		{ "version", no_argument, NULL, OPT_VERSION }, CLI_COMMON_OPTS
	};
	struct cli cli = { 0 };
	const struct subcommand *c;
	int opt, rc;

	cli.db_path = getenv("VDISK_DB");
	if (!cli.db_path || !*cli.db_path)
		cli.db_path = VDISKCTL_DEFAULT_DB;
	while ((opt = cli_getopt(&cli, argc, argv, opts)) != -1) {
		if (opt == '?')
			return EXIT_USAGE;
		if (opt == OPT_VERSION) {
			version_print("vdiskctl");
			return EXIT_OK;
		}
		if (opt == OPT_HELP) {
			fputs(usage_text, stdout);
			return EXIT_OK;
		}
	}
	if (optind >= argc) {
		fputs(usage_text, stderr);
		return EXIT_USAGE;
	}
	argc -= optind;
	argv += optind;
	for (c = top_cmds; c->name; c++)
		if (strcmp(c->name, argv[0]) == 0)
			break;
	if (!c->name)
		return cli_usage(&cli, "unknown command '%s' (see 'vdiskctl --help')", argv[0]);
	cli.cmd = c->full;
	optind = 0;
	rc = c->fn(&cli, argc, argv);
	db_close(cli.db);
	return rc;
}
