/* vdiskctl init, setting get|set, events: the database itself and what it records. */
#include <errno.h>
#include <libgen.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "client-admin/cli_db.h"
#include "client-admin/commands.h"
#include "client-admin/fields.h"
#include "client-admin/output.h"

/* mkdir -p for the database's folder. */
static int make_parent(const char *path)
{
	char buf[DB_PATH_MAX], *p;

	if (strlen(path) >= sizeof(buf))
		return -ENAMETOOLONG;
	strcpy(buf, path);
	for (p = buf + 1; *p; p++) {
		if (*p != '/')
			continue;
		*p = '\0';
		if (mkdir(buf, 0755) < 0 && errno != EEXIST)
			return -errno;
		*p = '/';
	}
	return 0;
}

int cmd_init(struct cli *cli, int argc, char **argv)
{
	struct stat sb;
	int rc, existed;

	cli->cmd = "init";
	if ((rc = cli_simple_args(cli, argc, argv, "init [--db PATH]: creates the database, or "
				  "upgrades it", 0, 0)) >= 0)
		return rc;
	existed = stat(cli->db_path, &sb) == 0;
	if ((rc = make_parent(cli->db_path)))
		return cli_fail(cli, "cannot create the folder of %s: %s", cli->db_path,
				strerror(-rc));
	if ((rc = cli_open_db(cli, DB_OPEN_CREATE)))
		return rc;
	if (!existed && db_event_add(cli->db, "info", "vdiskctl", "database created"))
		return cli_db_fail(cli, "recording the creation");
	printf("%s database %s (schema version %d)\n", existed ? "checked" : "created",
	       cli->db_path, db_schema_version());
	return EXIT_OK;
}

int cmd_backup(struct cli *cli, int argc, char **argv)
{
	char err[2 * DB_PATH_MAX];
	int rc;

	cli->cmd = "backup";
	if ((rc = cli_simple_args(cli, argc, argv, "backup FILE [--db PATH]: a consistent copy "
				  "of the database into FILE (a new file, mode 0600), also while "
				  "the daemons run", 1, 1)) >= 0)
		return rc;
	if (db_backup_file(cli->db_path, argv[optind], err, sizeof(err)) < 0)
		return cli_fail(cli, "%s", err);
	printf("copied %s to %s\n", cli->db_path, argv[optind]);
	return EXIT_OK;
}

static int setting_get(struct cli *cli, int argc, char **argv)
{
	char value[1024];
	int rc;

	if ((rc = cli_simple_args(cli, argc, argv, "setting get KEY", 1, 1)) >= 0)
		return rc;
	if ((rc = cli_open_db(cli, DB_OPEN_READONLY)))
		return rc;
	rc = db_setting_get(cli->db, argv[optind], value, sizeof(value));
	if (rc == -ENOENT)
		return cli_fail(cli, "setting '%s' is not set", argv[optind]);
	if (rc)
		return cli_db_fail(cli, argv[optind]);
	printf("%s\n", value);
	return EXIT_OK;
}

static int setting_set(struct cli *cli, int argc, char **argv)
{
	int rc;

	if ((rc = cli_simple_args(cli, argc, argv, "setting set KEY VALUE", 2, 2)) >= 0)
		return rc;
	if ((rc = cli_open_db(cli, 0)))
		return rc;
	if (db_begin(cli->db))
		return cli_db_fail(cli, "starting the change");
	if (db_setting_set(cli->db, argv[optind], argv[optind + 1]) ||
	    db_event_add(cli->db, "info", "vdiskctl", "setting %s = %s", argv[optind],
			 argv[optind + 1]) ||
	    db_commit(cli->db)) {
		rc = cli_db_fail(cli, argv[optind]);
		db_rollback(cli->db);
		return rc;
	}
	printf("%s = %s\n", argv[optind], argv[optind + 1]);
	return EXIT_OK;
}

static const struct subcommand setting_cmds[] = {
	{ "get", "setting get", setting_get },
	{ "set", "setting set", setting_set },
	{ NULL, NULL, NULL },
};

int cmd_setting(struct cli *cli, int argc, char **argv)
{
	return run_subcommand(cli, setting_cmds, argc, argv);
}

int cmd_events(struct cli *cli, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "limit", required_argument, NULL, OPT_LIMIT },
		CLI_COMMON_OPTS
	};
	static const struct column cols[] = {
		{ "TIME", NULL, 0 }, { NULL, "time", 1 }, { "LEVEL", "level", 0 },
		{ "SOURCE", "source", 0 }, { "MESSAGE", "message", 0 },
	};
	struct db_event *ev;
	struct table t;
	unsigned long limit = 50;
	size_t n, i;
	char *end;
	int opt, rc;

	cli->cmd = "events";
	while ((opt = cli_getopt(cli, argc, argv, opts)) != -1) {
		if (opt == '?')
			return EXIT_USAGE;
		if (opt == OPT_HELP) {
			printf("usage: vdiskctl events [--limit N] [--json]\n"
			       "  the newest N events (50 by default, 0 for all), oldest first\n");
			return EXIT_OK;
		}
		if (opt == OPT_LIMIT) {
			errno = 0;
			limit = strtoul(optarg, &end, 10);
			if (errno || *end || end == optarg || optarg[0] == '-' || limit > 1000000)
				return cli_usage(cli, "--limit '%s': expected 0 to 1000000", optarg);
		}
	}
	if (optind < argc)
		return cli_usage(cli, "unexpected argument '%s'", argv[optind]);
	if ((rc = cli_open_db(cli, DB_OPEN_READONLY)))
		return rc;
	if (db_event_recent(cli->db, (unsigned)limit, &ev, &n))
		return cli_db_fail(cli, "reading events");
	table_init(&t, 5, cols);
	for (i = 0; i < n && rc == 0; i++) {
		char when[32], secs[24];
		time_t tt = (time_t)ev[i].time;
		struct tm tm;
		const char *row[] = { when, secs, ev[i].level, ev[i].source, ev[i].message };

		localtime_r(&tt, &tm);
		strftime(when, sizeof(when), "%Y-%m-%d %H:%M:%S", &tm);
		snprintf(secs, sizeof(secs), "%lld", (long long)ev[i].time);
		rc = table_add(&t, row);
	}
	if (rc == 0)
		table_print(&t, cli->json, stdout);
	table_free(&t);
	free(ev);
	return rc ? cli_fail(cli, "out of memory") : EXIT_OK;
}
