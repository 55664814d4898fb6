/* vdiskctl client add|list|show|set|del|import|export */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "client-admin/cli_db.h"
#include "client-admin/client_io.h"
#include "client-admin/commands.h"
#include "client-admin/daemons.h"
#include "client-admin/fields.h"
#include "client-admin/import.h"
#include "client-admin/select.h"
#include "client-admin/standby_guard.h"

#define SELECTION_OPTS                                                  \
	{ "all", no_argument, NULL, OPT_ALL },                          \
	{ "group", required_argument, NULL, OPT_GROUP },                \
	{ "name", required_argument, NULL, OPT_NAME },                  \
	{ "range", required_argument, NULL, OPT_RANGE },                \
	{ "mac", required_argument, NULL, OPT_MAC },                    \
	{ "ip-range", required_argument, NULL, OPT_IP_RANGE }

#define FIELD_OPTS                                                      \
	{ "ip", required_argument, NULL, OPT_IP },                      \
	{ "image", required_argument, NULL, OPT_IMAGE },                \
	{ "server", required_argument, NULL, OPT_SERVER },              \
	{ "hot-standby", required_argument, NULL, OPT_HOT_STANDBY },    \
	{ "overlay", required_argument, NULL, OPT_OVERLAY },            \
	{ "enabled", required_argument, NULL, OPT_ENABLED },            \
	{ "auto-registered", required_argument, NULL, OPT_AUTO_REGISTERED }

static const char *selection_optname(int opt)
{
	switch (opt) {
	case OPT_ALL: return "all";
	case OPT_GROUP: return "group";
	case OPT_NAME: return "name";
	case OPT_RANGE: return "range";
	case OPT_MAC: return "mac";
	case OPT_IP_RANGE: return "ip-range";
	default: return NULL;
	}
}

/* Takes a selection option into sel; returns 0 or EXIT_USAGE. */
static int take_selection(struct cli *cli, struct selection *sel, int opt, const char *v)
{
	char err[160];

	if (selection_add(sel, selection_optname(opt), v, err, sizeof(err)))
		return cli_usage(cli, "%s", err);
	return 0;
}

/* Parses SELECTION [--dry-run], the arguments of del and reset. Returns -1 to go on, else
 * the exit status to return. */
static int selection_args(struct cli *cli, int argc, char **argv, const char *usage,
			  struct selection *sel)
{
	static const struct option opts[] = {
		SELECTION_OPTS,
		{ "dry-run", no_argument, NULL, OPT_DRY_RUN },
		CLI_COMMON_OPTS
	};
	int opt, rc;

	while ((opt = cli_getopt(cli, argc, argv, opts)) != -1) {
		if (opt == '?')
			return EXIT_USAGE;
		if (opt == OPT_HELP) {
			printf("usage: vdiskctl %s\n", usage);
			return EXIT_OK;
		}
		if (opt == OPT_DRY_RUN)
			cli->dry_run = 1;
		else if (opt && (rc = take_selection(cli, sel, opt, optarg)))
			return rc;
	}
	if (optind < argc)
		return cli_usage(cli, "unexpected argument '%s'", argv[optind]);
	if (!sel->any)
		return cli_usage(cli, "no selection: give --all or --group/--name/--range/--mac/"
				 "--ip-range");
	return -1;
}

/* Loads every client and marks those the selection matches. On success *nmatch > 0 unless
 * allow_empty. */
static int select_clients(struct cli *cli, const struct selection *sel, int allow_empty,
			  struct db_client **all, size_t *n, char **keep, size_t *nmatch)
{
	struct db_group g;
	size_t i;

	if (sel->group[0] && db_group_by_name(cli->db, sel->group, &g))
		return cli_fail(cli, "no group '%s'", sel->group);
	if (db_client_all(cli->db, all, n))
		return cli_db_fail(cli, "reading clients");
	*keep = calloc(*n ? *n : 1, 1);
	if (!*keep) {
		free(*all);
		return cli_fail(cli, "out of memory");
	}
	*nmatch = 0;
	for (i = 0; i < *n; i++)
		if (selection_match(sel, &(*all)[i])) {
			(*keep)[i] = 1;
			(*nmatch)++;
		}
	if (!*nmatch && !allow_empty) {
		free(*all);
		free(*keep);
		return cli_fail(cli, "no client matches the selection");
	}
	return 0;
}

/* "PC001" for one, "PC001 .. PC080" for a run: enough for an event line. */
static void describe_names(const struct db_client *c, size_t n, const char *keep, char *buf,
			   size_t len)
{
	const char *first = NULL, *last = NULL;
	size_t i;

	for (i = 0; i < n; i++)
		if (keep[i]) {
			if (!first)
				first = c[i].name;
			last = c[i].name;
		}
	if (!first)
		snprintf(buf, len, "none");
	else if (first == last)
		snprintf(buf, len, "%s", first);
	else
		snprintf(buf, len, "%s .. %s", first, last);
}

static int client_add(struct cli *cli, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "name", required_argument, NULL, OPT_NAME },
		{ "mac", required_argument, NULL, OPT_MAC },
		{ "group", required_argument, NULL, OPT_GROUP },
		FIELD_OPTS, CLI_COMMON_OPTS
	};
	struct field_changes fc = { .v = { .enabled = 1 } };
	struct db_client c = { .enabled = 1 };
	int opt, rc;

	while ((opt = cli_getopt(cli, argc, argv, opts)) != -1) {
		if (opt == '?')
			return EXIT_USAGE;
		if (opt == OPT_HELP) {
			printf("usage: vdiskctl client add --name N --mac M [--ip A] [--group G] "
			       "[--image I] [--server S] [--hot-standby on|off] "
			       "[--overlay restore|persistent] [--enabled on|off]\n");
			return EXIT_OK;
		}
		if (opt && (rc = fields_take(cli, &fc, opt, optarg)))
			return rc;
	}
	if (optind < argc)
		return cli_usage(cli, "unexpected argument '%s'", argv[optind]);
	if (!(fc.set & F_NAME) || !(fc.set & F_MAC))
		return cli_usage(cli, "--name and --mac are required");
	if ((rc = cli_open_db(cli, 0)) || (rc = fields_check_refs(cli, &fc)))
		return rc;
	/* A group's default image applies when none is given. */
	if ((fc.set & F_GROUP) && fc.v.group[0] && !(fc.set & F_IMAGE)) {
		struct db_group g;
		if (db_group_by_name(cli->db, fc.v.group, &g) == 0 && g.image[0]) {
			strcpy(fc.v.image, g.image);
			fc.set |= F_IMAGE;
		}
	}
	fields_apply(&fc, &c, NULL, 0);
	if (db_begin(cli->db))
		return cli_db_fail(cli, "starting the change");
	if (db_client_insert(cli->db, &c) ||
	    db_event_add(cli->db, "info", "vdiskctl", "client add %s (%s)", c.name, c.mac) ||
	    db_commit(cli->db)) {
		rc = cli_db_fail(cli, c.name);
		db_rollback(cli->db);
		return rc;
	}
	printf("added %s (%s, %s)\n", c.name, c.mac, c.iqn);
	return EXIT_OK;
}

static int client_list(struct cli *cli, int argc, char **argv, int export)
{
	static const struct option opts[] = {
		SELECTION_OPTS,
		{ "format", required_argument, NULL, OPT_FORMAT },
		{ "output", required_argument, NULL, OPT_OUTPUT },
		CLI_COMMON_OPTS
	};
	struct selection sel = { 0 };
	struct db_client *all;
	const char *format = NULL, *output = NULL;
	size_t n, nmatch;
	char *keep;
	FILE *out = stdout;
	int opt, rc;

	while ((opt = cli_getopt(cli, argc, argv, opts)) != -1) {
		if (opt == '?')
			return EXIT_USAGE;
		if (opt == OPT_HELP) {
			printf("usage: vdiskctl client %s [--all] [--group G] [--name GLOB] "
			       "[--range PC001-PC080] [--mac M[,M...]] [--ip-range A-B]%s\n",
			       export ? "export" : "list",
			       export ? " [--format csv|json] [--output FILE]" : " [--json]");
			return EXIT_OK;
		}
		if (opt == OPT_FORMAT && export)
			format = optarg;
		else if (opt == OPT_OUTPUT && export)
			output = optarg;
		else if (opt == OPT_FORMAT || opt == OPT_OUTPUT)
			return cli_usage(cli, "--format and --output belong to 'client export'");
		else if (opt && (rc = take_selection(cli, &sel, opt, optarg)))
			return rc;
	}
	if (optind < argc)
		return cli_usage(cli, "unexpected argument '%s'", argv[optind]);
	if (export && !format)
		format = cli->json ? "json" : "csv";
	if (format && strcmp(format, "csv") && strcmp(format, "json"))
		return cli_usage(cli, "--format '%s': expected csv or json", format);
	if ((rc = cli_open_db(cli, DB_OPEN_READONLY)))
		return rc;
	if ((rc = select_clients(cli, &sel, 1, &all, &n, &keep, &nmatch)))
		return rc;
	if (output && !(out = fopen(output, "w"))) {
		rc = cli_fail(cli, "cannot write %s: %s", output, strerror(errno));
		goto out_free;
	}
	if (export && strcmp(format, "csv") == 0) {
		clients_print_csv(out, all, n, keep);
	} else {
		struct table t;
		if (clients_table(&t, all, n, keep) == 0)
			table_print(&t, cli->json || export, out);
		else
			rc = cli_fail(cli, "out of memory");
		table_free(&t);
	}
	if (out != stdout && fclose(out))
		rc = cli_fail(cli, "writing %s: %s", output, strerror(errno));
	else if (out == stdout && fflush(stdout))
		rc = cli_fail(cli, "writing output: %s", strerror(errno));
	if (output && rc == 0)
		fprintf(stderr, "exported %zu clients to %s\n", nmatch, output);
out_free:
	free(all);
	free(keep);
	return rc;
}

/* `show --json [--secrets]`: the record, with the two secrets added as members. The
 * secrets' copies are wiped before they are freed. */
static int print_record(const struct table *t, const struct db_client *c, int secrets)
{
	static const char *const keys[] = { "chap_secret", "chap_target_secret" };
	json_t *o = table_record_json(t, 0);
	int rc = o ? 0 : -ENOMEM;

	if (rc == 0 && secrets &&
	    (json_object_set_new(o, keys[0], json_string(c->chap_secret)) ||
	     json_object_set_new(o, keys[1], json_string(c->chap_target_secret))))
		rc = -ENOMEM;
	if (rc == 0 && json_print(stdout, o))
		rc = -EIO;
	for (size_t i = 0; secrets && i < 2; i++) {
		json_t *s = json_object_get(o, keys[i]);

		if (s)
			explicit_bzero((char *)json_string_value(s), json_string_length(s));
	}
	json_decref(o);
	return rc;
}

static int client_show(struct cli *cli, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "secrets", no_argument, NULL, OPT_SECRETS },
		CLI_COMMON_OPTS
	};
	struct db_client c;
	struct table t;
	int opt, rc, secrets = 0;

	while ((opt = cli_getopt(cli, argc, argv, opts)) != -1) {
		if (opt == '?')
			return EXIT_USAGE;
		if (opt == OPT_HELP) {
			printf("usage: vdiskctl client show NAME|MAC [--secrets] [--json]\n"
			       "  --secrets also prints the client's CHAP secrets (initiator and "
			       "target)\n");
			return EXIT_OK;
		}
		if (opt == OPT_SECRETS)
			secrets = 1;
	}
	if (argc - optind != 1)
		return cli_usage(cli, "expected one client NAME or MAC");
	if ((rc = cli_open_db(cli, DB_OPEN_READONLY)))
		return rc;
	rc = db_client_by_name(cli->db, argv[optind], &c);
	if (rc == -ENOENT)
		rc = db_client_by_mac(cli->db, argv[optind], &c);
	if (rc == -ENOENT || rc == -EINVAL)
		return cli_fail(cli, "no client '%s'", argv[optind]);
	if (rc)
		return cli_db_fail(cli, argv[optind]);
	if (cli->json) {
		rc = clients_table(&t, &c, 1, NULL);
		if (rc == 0)
			rc = print_record(&t, &c, secrets);
		table_free(&t);
		explicit_bzero(&c, sizeof(c));
		if (rc)
			return cli_fail(cli, "%s", rc == -EIO ? "cannot write the client" :
					"out of memory");
		return EXIT_OK;
	}
	printf("name:        %s\nmac:         %s\nip:          %s\ngroup:       %s\n"
	       "image:       %s\nserver:      %s\nhot-standby: %s\noverlay:     %s\n"
	       "enabled:     %s\niqn:         %s\n",
	       c.name, c.mac, c.ip[0] ? c.ip : "-", c.group[0] ? c.group : "-",
	       c.image[0] ? c.image : "-", c.server[0] ? c.server : "-",
	       c.hot_standby ? "on" : "off", db_overlay_name(c.overlay),
	       c.enabled ? "yes" : "no", c.iqn);
	if (c.auto_registered)
		printf("auto-registered: yes (counts against auto_register_max)\n");
	if (secrets)
		printf("chap-secret: %s\nchap-target-secret: %s\n", c.chap_secret,
		       c.chap_target_secret);
	explicit_bzero(&c, sizeof(c));
	return EXIT_OK;
}

/* Applies fc to every selected client in one transaction (or only prints, on --dry-run);
 * new_secrets: each also gets two new CHAP secrets. */
static int set_selected(struct cli *cli, const struct field_changes *fc, int new_secrets,
			struct db_client *all, size_t n, char *keep, size_t nmatch)
{
	char desc[512], names[160];
	size_t i, changed = 0;
	int rc;

	if ((fc->set & (F_IP | F_NAME | F_MAC)) && nmatch > 1 &&
	    ((fc->set & F_IP) ? fc->v.ip[0] != '\0' : 1))
		return cli_usage(cli, "--ip, --new-name and --new-mac are unique per client, but "
				 "%zu clients are selected", nmatch);
	if (!cli->dry_run && db_begin(cli->db))
		return cli_db_fail(cli, "starting the change");
	for (i = 0; i < n; i++) {
		if (!keep[i])
			continue;
		int fields = fields_apply(fc, &all[i], desc, sizeof(desc));

		if (!fields && !new_secrets) {
			keep[i] = 0;
			continue;
		}
		changed++;
		if (cli->dry_run) {
			printf("%s: %s%s%s\n", all[i].name, desc, fields && new_secrets ? ", " : "",
			       new_secrets ? "new CHAP secrets" : "");
			continue;
		}
		if ((fields && db_client_update(cli->db, &all[i])) ||
		    (new_secrets && db_client_new_secrets(cli->db, all[i].id, NULL))) {
			rc = cli_db_fail(cli, all[i].name);
			db_rollback(cli->db);
			return rc;
		}
	}
	if (cli->dry_run) {
		printf("%zu of %zu selected clients would change (dry run, nothing written)\n",
		       changed, nmatch);
		return EXIT_OK;
	}
	fields_summary(fc, desc, sizeof(desc));
	if (new_secrets) {
		size_t used = strlen(desc);

		snprintf(desc + used, sizeof(desc) - used, "%snew CHAP secrets", used ? ", " : "");
	}
	describe_names(all, n, keep, names, sizeof(names));
	if ((changed && db_event_add(cli->db, "info", "vdiskctl",
				     "client set: %zu clients changed (%s): %s", changed, names,
				     desc)) ||
	    db_commit(cli->db)) {
		rc = cli_db_fail(cli, "saving the change");
		db_rollback(cli->db);
		return rc;
	}
	printf("%zu clients changed (%zu selected)\n", changed, nmatch);
	return EXIT_OK;
}

static int client_set(struct cli *cli, int argc, char **argv)
{
	static const struct option opts[] = {
		SELECTION_OPTS, FIELD_OPTS,
		{ "new-name", required_argument, NULL, OPT_NEW_NAME },
		{ "new-mac", required_argument, NULL, OPT_NEW_MAC },
		{ "set-group", required_argument, NULL, OPT_SET_GROUP },
		{ "new-secrets", no_argument, NULL, OPT_NEW_SECRETS },
		{ "dry-run", no_argument, NULL, OPT_DRY_RUN },
		CLI_COMMON_OPTS
	};
	struct field_changes fc = { 0 };
	struct selection sel = { 0 };
	struct db_client *all;
	size_t n, nmatch;
	char *keep;
	int opt, rc, new_secrets = 0;

	while ((opt = cli_getopt(cli, argc, argv, opts)) != -1) {
		if (opt == '?')
			return EXIT_USAGE;
		if (opt == OPT_HELP) {
			printf("usage: vdiskctl client set SELECTION FIELDS [--dry-run]\n"
			       "  SELECTION: --all --group G --name GLOB --range PC001-PC080 "
			       "--mac M[,M...] --ip-range A-B (combined with AND)\n"
			       "  FIELDS: --ip A --set-group G --image I --server S "
			       "--hot-standby on|off --overlay restore|persistent --enabled on|off "
			       "--new-name N --new-mac M --auto-registered on|off ('none' clears "
			       "ip/group/image/server)\n"
			       "  --new-secrets: new CHAP secrets for each selected client (it needs "
			       "its next PXE boot to get them)\n");
			return EXIT_OK;
		}
		if (opt == OPT_DRY_RUN)
			cli->dry_run = 1;
		else if (opt == OPT_NEW_SECRETS)
			new_secrets = 1;
		else if (opt == OPT_SET_GROUP)
			rc = fields_take(cli, &fc, OPT_GROUP, optarg);
		else if (selection_optname(opt))
			rc = take_selection(cli, &sel, opt, optarg);
		else if (opt)
			rc = fields_take(cli, &fc, opt, optarg);
		else
			rc = 0;
		if (rc)
			return rc;
	}
	if (optind < argc)
		return cli_usage(cli, "unexpected argument '%s'", argv[optind]);
	if (!sel.any)
		return cli_usage(cli, "no selection: give --all or --group/--name/--range/--mac/"
				 "--ip-range");
	if (!fc.set && !new_secrets)
		return cli_usage(cli, "nothing to change: give a field such as --hot-standby on");
	if ((rc = cli_open_db(cli, 0)) || (rc = fields_check_refs(cli, &fc)))
		return rc;
	if ((rc = select_clients(cli, &sel, 0, &all, &n, &keep, &nmatch)))
		return rc;
	rc = set_selected(cli, &fc, new_secrets, all, n, keep, nmatch);
	free(all);
	free(keep);
	return rc;
}

static int client_del(struct cli *cli, int argc, char **argv)
{
	struct selection sel = { 0 };
	struct db_client *all;
	size_t n, nmatch, i;
	char *keep, names[160];
	int rc;

	if ((rc = selection_args(cli, argc, argv, "client del SELECTION [--dry-run]", &sel)) >= 0)
		return rc;
	if ((rc = cli_open_db(cli, 0)))
		return rc;
	if ((rc = select_clients(cli, &sel, 0, &all, &n, &keep, &nmatch)))
		return rc;
	if (cli->dry_run) {
		for (i = 0; i < n; i++)
			if (keep[i])
				printf("would delete %s (%s)\n", all[i].name, all[i].mac);
		printf("%zu clients would be deleted (dry run, nothing written)\n", nmatch);
		goto out_free;
	}
	if (db_begin(cli->db)) {
		rc = cli_db_fail(cli, "starting the change");
		goto out_free;
	}
	for (i = 0; i < n; i++)
		if (keep[i] && db_client_delete(cli->db, all[i].id))
			break;
	describe_names(all, n, keep, names, sizeof(names));
	if (i < n || db_event_add(cli->db, "info", "vdiskctl", "client del: %zu clients (%s)",
				  nmatch, names) || db_commit(cli->db)) {
		rc = cli_db_fail(cli, "deleting");
		db_rollback(cli->db);
		goto out_free;
	}
	printf("%zu clients deleted\n", nmatch);
out_free:
	free(all);
	free(keep);
	return rc;
}

/* Reads all of path ("-" for stdin) up to IMPORT_MAX_BYTES. */
static int slurp(struct cli *cli, const char *path, char **buf, size_t *len)
{
	FILE *f = strcmp(path, "-") ? fopen(path, "rb") : stdin;
	size_t cap = 1 << 16, n = 0;
	char *b;

	if (!f)
		return cli_fail(cli, "cannot read %s: %s", path, strerror(errno));
	b = malloc(cap);
	while (b) {
		size_t got = fread(b + n, 1, cap - n, f);
		n += got;
		if (n < cap)
			break;
		if (cap >= IMPORT_MAX_BYTES) {
			free(b);
			if (f != stdin)
				fclose(f);
			return cli_fail(cli, "%s is larger than %u MiB", path, IMPORT_MAX_BYTES >> 20);
		}
		char *nb = realloc(b, cap * 2);
		if (!nb)
			free(b);
		b = nb;
		cap *= 2;
	}
	if (!b || ferror(f)) {
		free(b);
		if (f != stdin)
			fclose(f);
		return cli_fail(cli, "reading %s failed", path);
	}
	if (f != stdin)
		fclose(f);
	*buf = b;
	*len = n;
	return 0;
}

static int client_import(struct cli *cli, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "dry-run", no_argument, NULL, OPT_DRY_RUN },
		CLI_COMMON_OPTS
	};
	struct db_client *rows;
	size_t len = 0, n, i;
	unsigned nbad;
	char *buf = NULL;
	int opt, rc;

	while ((opt = cli_getopt(cli, argc, argv, opts)) != -1) {
		if (opt == '?')
			return EXIT_USAGE;
		if (opt == OPT_HELP) {
			printf("usage: vdiskctl client import FILE|- [--dry-run]\n"
			       "  CSV with the header %s (any order; name and mac required)\n"
			       "  each client gets new CHAP secrets; a secret column is refused\n",
			       CLIENT_CSV_HEADER);
			return EXIT_OK;
		}
		if (opt == OPT_DRY_RUN)
			cli->dry_run = 1;
	}
	if (argc - optind != 1)
		return cli_usage(cli, "expected one CSV file (or - for standard input)");
	if ((rc = cli_open_db(cli, 0)) || (rc = slurp(cli, argv[optind], &buf, &len)))
		return rc;
	rc = import_check(cli->db, buf, len, stderr, &rows, &n, &nbad);
	free(buf);
	if (rc)
		return cli_fail(cli, "%s: %s", argv[optind], strerror(-rc));
	if (nbad) {
		free(rows);
		return cli_fail(cli, "%s: %u bad rows, nothing imported", argv[optind], nbad);
	}
	if (cli->dry_run) {
		free(rows);
		printf("%zu clients would be imported (dry run, nothing written)\n", n);
		return EXIT_OK;
	}
	if (db_begin(cli->db)) {
		free(rows);
		return cli_db_fail(cli, "starting the import");
	}
	for (i = 0; i < n; i++)
		if (db_client_insert(cli->db, &rows[i]))
			break;
	if (i < n || db_event_add(cli->db, "info", "vdiskctl", "client import: %zu clients "
				  "from %s", n, argv[optind]) || db_commit(cli->db)) {
		rc = i < n ? cli_fail(cli, "%s: %s", rows[i].name, db_errmsg(cli->db)) :
			     cli_db_fail(cli, "saving the import");
		db_rollback(cli->db);
		free(rows);
		return rc;
	}
	free(rows);
	printf("%zu clients imported\n", n);
	return EXIT_OK;
}

/* Discards the selected clients' overlays now (restore mode does it at each PXE boot). */
static int client_reset(struct cli *cli, int argc, char **argv)
{
	struct selection sel = { 0 };
	struct db_client *all;
	size_t n, nmatch, i, done = 0, failed = 0;
	char *keep;
	int rc;

	if ((rc = selection_args(cli, argc, argv, "client reset SELECTION [--dry-run]: discards "
				 "the selected clients' overlays through vdiskd", &sel)) >= 0)
		return rc;
	/* Read-only here, but the reset itself is an edit: the active server's to make. */
	if ((rc = standby_guard(cli)) || (rc = cli_open_db(cli, DB_OPEN_READONLY)))
		return rc;
	if ((rc = select_clients(cli, &sel, 0, &all, &n, &keep, &nmatch)))
		return rc;
	for (i = 0; i < n; i++) {
		char req[16 + DB_NAME_MAX];
		json_t *answer = NULL;

		if (!keep[i])
			continue;
		if (cli->dry_run) {
			printf("would reset the overlay of %s\n", all[i].name);
			continue;
		}
		snprintf(req, sizeof(req), "overlay-reset %s", all[i].name);
		if (daemon_call(cli, "vdiskd", req, &answer, 0) == 0) {
			printf("%s: overlay reset\n", all[i].name);
			done++;
		} else {
			failed++;
		}
		json_decref(answer);
	}
	free(all);
	free(keep);
	if (cli->dry_run)
		return EXIT_OK;
	printf("%zu overlays reset, %zu failed\n", done, failed);
	return failed ? EXIT_FAIL : EXIT_OK;
}

static int client_list_cmd(struct cli *cli, int argc, char **argv)
{
	return client_list(cli, argc, argv, 0);
}

static int client_export_cmd(struct cli *cli, int argc, char **argv)
{
	return client_list(cli, argc, argv, 1);
}

static const struct subcommand client_cmds[] = {
	{ "add", "client add", client_add },
	{ "list", "client list", client_list_cmd },
	{ "show", "client show", client_show },
	{ "set", "client set", client_set },
	{ "del", "client del", client_del },
	{ "import", "client import", client_import },
	{ "export", "client export", client_export_cmd },
	{ "reset", "client reset", client_reset },
	{ NULL, NULL, NULL },
};

int cmd_client(struct cli *cli, int argc, char **argv)
{
	return run_subcommand(cli, client_cmds, argc, argv);
}
