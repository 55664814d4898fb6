/* vdiskctl server add|list|mark: the two servers of the pair. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "client-admin/cli_db.h"
#include "client-admin/commands.h"
#include "client-admin/fields.h"
#include "client-admin/output.h"
#include "common/netaddr.h"

static int take_addr(struct cli *cli, char *dst, size_t len, const char *opt, const char *v)
{
	uint32_t a;

	if (ipv4_parse(v, &a) || strlen(v) >= len)
		return cli_usage(cli, "%s '%s' is not an IPv4 address", opt, v);
	strcpy(dst, v);
	return 0;
}

static int server_add(struct cli *cli, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "role", required_argument, NULL, OPT_ROLE },
		{ "service-addr", required_argument, NULL, OPT_SERVICE_ADDR },
		{ "ha-addr", required_argument, NULL, OPT_HA_ADDR },
		CLI_COMMON_OPTS
	};
	struct db_server s = { .mark = "active" };
	int opt, rc = 0;

	while ((opt = cli_getopt(cli, argc, argv, opts)) != -1) {
		if (opt == '?')
			return EXIT_USAGE;
		if (opt == OPT_HELP) {
			printf("usage: vdiskctl server add NAME [--role primary|secondary] "
			       "[--service-addr A] [--ha-addr A]\n");
			return EXIT_OK;
		}
		if (opt == OPT_ROLE) {
			if (strcmp(optarg, "primary") && strcmp(optarg, "secondary"))
				return cli_usage(cli, "--role '%s': expected primary or secondary",
						 optarg);
			strcpy(s.role, optarg);
		} else if (opt == OPT_SERVICE_ADDR) {
			rc = take_addr(cli, s.service_addr, sizeof(s.service_addr), "--service-addr",
				       optarg);
		} else if (opt == OPT_HA_ADDR) {
			rc = take_addr(cli, s.ha_addr, sizeof(s.ha_addr), "--ha-addr", optarg);
		}
		if (rc)
			return rc;
	}
	if (argc - optind != 1)
		return cli_usage(cli, "expected one server name");
	if (!*argv[optind] || strlen(argv[optind]) >= sizeof(s.name))
		return cli_usage(cli, "server name '%s': empty or too long", argv[optind]);
	strcpy(s.name, argv[optind]);
	if ((rc = cli_open_db(cli, 0)))
		return rc;
	if (db_begin(cli->db))
		return cli_db_fail(cli, "starting the change");
	if (db_server_insert(cli->db, &s) ||
	    db_event_add(cli->db, "info", "vdiskctl", "server add %s (%s)", s.name,
			 s.role[0] ? s.role : "no role") ||
	    db_commit(cli->db)) {
		rc = cli_db_fail(cli, s.name);
		db_rollback(cli->db);
		return rc;
	}
	printf("added server %s%s%s\n", s.name, s.role[0] ? " as " : "", s.role);
	return EXIT_OK;
}

static int server_list(struct cli *cli, int argc, char **argv)
{
	static const struct column cols[] = {
		{ "NAME", "name", 0 }, { "ROLE", "role", 0 }, { "MARK", "mark", 0 },
		{ "SERVICE-ADDR", "service_addr", 0 }, { "HA-ADDR", "ha_addr", 0 },
	};
	struct db_server *s;
	struct table t;
	size_t n, i;
	int rc;

	if ((rc = cli_simple_args(cli, argc, argv, "server list [--json]", 0, 0)) >= 0)
		return rc;
	if ((rc = cli_open_db(cli, DB_OPEN_READONLY)))
		return rc;
	if (db_server_all(cli->db, &s, &n))
		return cli_db_fail(cli, "reading servers");
	table_init(&t, 5, cols);
	for (i = 0; i < n && rc == 0; i++) {
		const char *row[] = { s[i].name, s[i].role, s[i].mark, s[i].service_addr,
				      s[i].ha_addr };
		rc = table_add(&t, row);
	}
	if (rc == 0)
		table_print(&t, cli->json, stdout);
	table_free(&t);
	free(s);
	return rc ? cli_fail(cli, "out of memory") : EXIT_OK;
}

/* The other server holding `role`, if any. */
static struct db_server *holder(struct db_server *all, size_t n, const char *role,
				const char *not_name)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (strcmp(all[i].role, role) == 0 && strcmp(all[i].name, not_name) != 0)
			return &all[i];
	return NULL;
}

/* Gives s the role; when the other member of the pair holds it, they swap, which keeps
 * "one primary, one secondary". Returns 0 or an exit code (message printed). */
static int assign_role(struct cli *cli, struct db_server *s, struct db_server *all, size_t n,
		       const char *role)
{
	const char *other_role = strcmp(role, "primary") == 0 ? "secondary" : "primary";
	struct db_server *h = holder(all, n, role, s->name);

	if (h && strcmp(s->role, other_role) != 0)
		return cli_fail(cli, "%s is already %s and %s is not %s: a pair has one "
				"primary and one secondary (mark %s %s first)", h->name, role,
				s->name, other_role, s->name, other_role);
	if (h) {
		/* Swap through "no role" so the one-per-role index never sees two. */
		s->role[0] = '\0';
		if (db_server_update(cli->db, s))
			return cli_db_fail(cli, s->name);
		strcpy(h->role, other_role);
		if (db_server_update(cli->db, h))
			return cli_db_fail(cli, h->name);
	}
	strcpy(s->role, role);
	strcpy(s->mark, "active");
	if (db_server_update(cli->db, s))
		return cli_db_fail(cli, s->name);
	return 0;
}

static int server_mark(struct cli *cli, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "force", no_argument, NULL, OPT_FORCE },
		CLI_COMMON_OPTS
	};
	struct db_server *all, *s = NULL, *other;
	const char *what;
	size_t n, i;
	int opt, rc, force = 0;

	while ((opt = cli_getopt(cli, argc, argv, opts)) != -1) {
		if (opt == '?')
			return EXIT_USAGE;
		if (opt == OPT_HELP) {
			printf("usage: vdiskctl server mark NAME "
			       "primary|secondary|active|maintenance|disabled [--force]\n");
			return EXIT_OK;
		}
		if (opt == OPT_FORCE)
			force = 1;
	}
	if (argc - optind != 2)
		return cli_usage(cli, "expected NAME and primary|secondary|active|maintenance|"
				 "disabled");
	what = argv[optind + 1];
	if (strcmp(what, "primary") && strcmp(what, "secondary") && strcmp(what, "active") &&
	    strcmp(what, "maintenance") && strcmp(what, "disabled"))
		return cli_usage(cli, "'%s': expected primary, secondary, active, maintenance or "
				 "disabled", what);
	if ((rc = cli_open_db(cli, 0)))
		return rc;
	if (db_begin(cli->db))
		return cli_db_fail(cli, "starting the change");
	if (db_server_all(cli->db, &all, &n)) {
		rc = cli_db_fail(cli, "reading servers");
		goto out_rollback;
	}
	for (i = 0; i < n; i++)
		if (strcmp(all[i].name, argv[optind]) == 0)
			s = &all[i];
	if (!s) {
		rc = cli_fail(cli, "no server '%s'", argv[optind]);
		goto out_free;
	}
	if (strcmp(what, "primary") == 0 || strcmp(what, "secondary") == 0) {
		rc = assign_role(cli, s, all, n, what);
	} else {
		/* Taking the last active server out leaves clients with nowhere to boot. */
		other = NULL;
		for (i = 0; i < n; i++)
			if (&all[i] != s && all[i].role[0] && strcmp(all[i].mark, "active") == 0)
				other = &all[i];
		if (strcmp(what, "active") != 0 && strcmp(s->mark, "active") == 0 &&
		    s->role[0] && !other && !force) {
			rc = cli_fail(cli, "%s is the only active server of the pair: marking it %s "
				      "leaves clients nowhere to boot (use --force to do it anyway)",
				      s->name, what);
			goto out_free;
		}
		snprintf(s->mark, sizeof(s->mark), "%s", what);
		rc = db_server_update(cli->db, s) ? cli_db_fail(cli, s->name) : 0;
	}
	if (rc)
		goto out_free;
	if (db_event_add(cli->db, "info", "vdiskctl", "server mark %s %s", s->name, what) ||
	    db_commit(cli->db)) {
		rc = cli_db_fail(cli, "saving the change");
		goto out_free;
	}
	printf("server %s: role %s, mark %s\n", s->name, s->role[0] ? s->role : "none", s->mark);
	free(all);
	return EXIT_OK;

out_free:
	free(all);
out_rollback:
	db_rollback(cli->db);
	return rc;
}

static const struct subcommand server_cmds[] = {
	{ "add", "server add", server_add },
	{ "list", "server list", server_list },
	{ "mark", "server mark", server_mark },
	{ NULL, NULL, NULL },
};

int cmd_server(struct cli *cli, int argc, char **argv)
{
	return run_subcommand(cli, server_cmds, argc, argv);
}
