/* What every vdiskctl command shares: the parsed global options, the open database, and one
 * way to report errors (one line on stderr; exit 2 for usage, 1 for runtime failure). */
#ifndef CLIENT_ADMIN_CLI_H
#define CLIENT_ADMIN_CLI_H

#include <getopt.h>

#include "db/db.h"

#define VDISKCTL_DEFAULT_DB "/var/lib/vdisk/vdisk.db"

enum { EXIT_OK = 0, EXIT_FAIL = 1, EXIT_USAGE = 2 };

struct cli {
	const char *db_path;	/* --db, else $VDISK_DB, else VDISKCTL_DEFAULT_DB */
	const char *cmd;	/* "client set", for messages */
	int json;
	int dry_run;
	struct db *db;
};

__attribute__((format(printf, 2, 3)))
int cli_usage(const struct cli *cli, const char *fmt, ...);
__attribute__((format(printf, 2, 3)))
int cli_fail(const struct cli *cli, const char *fmt, ...);
/* Options every command accepts; CLI_COMMON_OPTS goes last in each long-option table. */
enum { OPT_DB = 1000, OPT_JSON, OPT_HELP, OPT_DRY_RUN, OPT_FIRST_CMD };
#define CLI_COMMON_OPTS                                         \
	{ "db", required_argument, NULL, OPT_DB },              \
	{ "json", no_argument, NULL, OPT_JSON },                \
	{ "help", no_argument, NULL, OPT_HELP },                \
	{ NULL, 0, NULL, 0 }

/* Runs getopt_long over argv with the given table. Returns the option, -1 at the end, or
 * '?' after printing which option was wrong. Handles --db and --json itself (returns 0 for
 * them, so callers skip 0). */
int cli_getopt(struct cli *cli, int argc, char **argv, const struct option *opts);

/* For commands whose only options are the common ones: parses them, prints usage on --help
 * and checks that min..max operands follow. Returns -1 to go on (operands at argv[optind]),
 * else the exit status to return. */
int cli_simple_args(struct cli *cli, int argc, char **argv, const char *usage, int min, int max);

/* "on"/"off" and their usual spellings; -1 when neither. */
int cli_parse_bool(const char *s);

#endif
