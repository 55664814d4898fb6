/* vdiskctl image add|list (image sync: cmd_image_sync.c) and group add|list: what clients
 * refer to by name. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "client-admin/cli_db.h"
#include "client-admin/commands.h"
#include "client-admin/fields.h"
#include "client-admin/output.h"

static int image_add(struct cli *cli, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "path", required_argument, NULL, OPT_PATH },
		{ "size", required_argument, NULL, OPT_SIZE },
		CLI_COMMON_OPTS
	};
	struct db_image img = { 0 };
	struct stat sb;
	char *end;
	int opt, rc, have_size = 0;

	while ((opt = cli_getopt(cli, argc, argv, opts)) != -1) {
		if (opt == '?')
			return EXIT_USAGE;
		if (opt == OPT_HELP) {
			printf("usage: vdiskctl image add NAME --path FILE [--size BYTES]\n"
			       "  the size is read from FILE when it exists\n");
			return EXIT_OK;
		}
		if (opt == OPT_PATH) {
			if (optarg[0] != '/' || strlen(optarg) >= sizeof(img.path))
				return cli_usage(cli, "--path '%s': give an absolute path", optarg);
			strcpy(img.path, optarg);
		} else if (opt == OPT_SIZE) {
			errno = 0;
			img.size = strtoll(optarg, &end, 10);
			if (errno || *end || end == optarg || img.size <= 0 ||
			    img.size % 512)
				return cli_usage(cli, "--size '%s': expected a positive number of "
						 "bytes, a multiple of 512", optarg);
			have_size = 1;
		}
	}
	if (argc - optind != 1)
		return cli_usage(cli, "expected one image name");
	if (!*argv[optind] || strlen(argv[optind]) >= sizeof(img.name))
		return cli_usage(cli, "image name '%s': empty or too long", argv[optind]);
	strcpy(img.name, argv[optind]);
	if (!img.path[0])
		return cli_usage(cli, "--path is required");
	if (stat(img.path, &sb) == 0) {
		if (have_size && img.size != sb.st_size)
			return cli_fail(cli, "--size %lld differs from %s's size %lld",
					(long long)img.size, img.path, (long long)sb.st_size);
		img.size = sb.st_size;
	} else if (!have_size) {
		return cli_fail(cli, "%s: %s (give --size to register an image that is not "
				"here yet)", img.path, strerror(errno));
	}
	if ((rc = cli_open_db(cli, 0)))
		return rc;
	if (db_begin(cli->db))
		return cli_db_fail(cli, "starting the change");
	if (db_image_insert(cli->db, &img) ||
	    db_event_add(cli->db, "info", "vdiskctl", "image add %s (%s, %lld bytes)", img.name,
			 img.path, (long long)img.size) ||
	    db_commit(cli->db)) {
		rc = cli_db_fail(cli, img.name);
		db_rollback(cli->db);
		return rc;
	}
	printf("added image %s (%lld MiB)\n", img.name, (long long)(img.size >> 20));
	return EXIT_OK;
}

static int image_list(struct cli *cli, int argc, char **argv)
{
	static const struct column cols[] = {
		{ "NAME", "name", 0 }, { "SIZE", NULL, 0 }, { NULL, "size", 1 },
		{ "PATH", "path", 0 },
	};
	struct db_image *img;
	struct table t;
	size_t n, i;
	int rc;

	if ((rc = cli_simple_args(cli, argc, argv, "image list [--json]", 0, 0)) >= 0)
		return rc;
	if ((rc = cli_open_db(cli, DB_OPEN_READONLY)))
		return rc;
	if (db_image_all(cli->db, &img, &n))
		return cli_db_fail(cli, "reading images");
	table_init(&t, 4, cols);
	for (i = 0; i < n && rc == 0; i++) {
		char mib[32], bytes[32];
		const char *row[] = { img[i].name, mib, bytes, img[i].path };
		snprintf(mib, sizeof(mib), "%lld MiB", (long long)(img[i].size >> 20));
		snprintf(bytes, sizeof(bytes), "%lld", (long long)img[i].size);
		rc = table_add(&t, row);
	}
	if (rc == 0)
		table_print(&t, cli->json, stdout);
	table_free(&t);
	free(img);
	return rc ? cli_fail(cli, "out of memory") : EXIT_OK;
}

static const struct subcommand image_cmds[] = {
	{ "add", "image add", image_add },
	{ "list", "image list", image_list },
	{ "sync", "image sync", image_sync },
	{ NULL, NULL, NULL },
};

int cmd_image(struct cli *cli, int argc, char **argv)
{
	return run_subcommand(cli, image_cmds, argc, argv);
}

static int group_add(struct cli *cli, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "image", required_argument, NULL, OPT_IMAGE },
		CLI_COMMON_OPTS
	};
	struct db_group g = { 0 };
	struct db_image img;
	int opt, rc;

	while ((opt = cli_getopt(cli, argc, argv, opts)) != -1) {
		if (opt == '?')
			return EXIT_USAGE;
		if (opt == OPT_HELP) {
			printf("usage: vdiskctl group add NAME [--image I]\n");
			return EXIT_OK;
		}
		if (opt == OPT_IMAGE) {
			if (strlen(optarg) >= sizeof(g.image))
				return cli_usage(cli, "--image '%s' is too long", optarg);
			strcpy(g.image, optarg);
		}
	}
	if (argc - optind != 1)
		return cli_usage(cli, "expected one group name");
	if (!*argv[optind] || strlen(argv[optind]) >= sizeof(g.name))
		return cli_usage(cli, "group name '%s': empty or too long", argv[optind]);
	strcpy(g.name, argv[optind]);
	if ((rc = cli_open_db(cli, 0)))
		return rc;
	if (g.image[0] && db_image_by_name(cli->db, g.image, &img))
		return cli_fail(cli, "no image '%s'", g.image);
	if (db_begin(cli->db))
		return cli_db_fail(cli, "starting the change");
	if (db_group_insert(cli->db, &g) ||
	    db_event_add(cli->db, "info", "vdiskctl", "group add %s", g.name) ||
	    db_commit(cli->db)) {
		rc = cli_db_fail(cli, g.name);
		db_rollback(cli->db);
		return rc;
	}
	printf("added group %s\n", g.name);
	return EXIT_OK;
}

static int group_list(struct cli *cli, int argc, char **argv)
{
	static const struct column cols[] = { { "NAME", "name", 0 }, { "IMAGE", "image", 0 } };
	struct db_group *g;
	struct table t;
	size_t n, i;
	int rc;

	if ((rc = cli_simple_args(cli, argc, argv, "group list [--json]", 0, 0)) >= 0)
		return rc;
	if ((rc = cli_open_db(cli, DB_OPEN_READONLY)))
		return rc;
	if (db_group_all(cli->db, &g, &n))
		return cli_db_fail(cli, "reading groups");
	table_init(&t, 2, cols);
	for (i = 0; i < n && rc == 0; i++) {
		const char *row[] = { g[i].name, g[i].image };
		rc = table_add(&t, row);
	}
	if (rc == 0)
		table_print(&t, cli->json, stdout);
	table_free(&t);
	free(g);
	return rc ? cli_fail(cli, "out of memory") : EXIT_OK;
}

static const struct subcommand group_cmds[] = {
	{ "add", "group add", group_add },
	{ "list", "group list", group_list },
	{ NULL, NULL, NULL },
};

int cmd_group(struct cli *cli, int argc, char **argv)
{
	return run_subcommand(cli, group_cmds, argc, argv);
}
