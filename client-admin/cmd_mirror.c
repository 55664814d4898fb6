/* vdiskctl mirror status|resolve: the synchronous mirror of hot-standby clients, through the
 * local vdiskd's control socket. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "client-admin/answer_text.h"
#include "client-admin/commands.h"
#include "client-admin/daemons.h"
#include "client-admin/fields.h"

static const char usage_text[] =
"usage: vdiskctl mirror status [--ctl PATH]\n"
"       vdiskctl mirror resolve CLIENT --keep NODE [--ctl PATH]\n"
"  status    the pair's replication state (in-sync, syncing, degraded, split-brain) and,\n"
"            per hot-standby client with a mirror open: state, chunks to copy, progress, ETA\n"
"  resolve   settles a split brain of CLIENT: NODE's copy is kept and the other one is\n"
"            discarded and fully resynced. Run it on NODE while NODE is active (with\n"
"            vdiskctl standby takeover NODE first if needed).\n"
"  --ctl PATH  vdiskd's control socket (default: vdiskd.sock in $VDISK_RUN_DIR, else\n"
"            " VDISK_DEFAULT_RUN_DIR ")\n";

/* The string member key of vdiskd's status answer, or NULL. */
static const char *status_word(const json_t *answer, const char *key)
{
	return json_string_value(json_object_get(answer, key));
}

/* "mirror: STATE", then one line per hot-standby client with a mirror or a replica open here:
 * its element of vdiskd's mirror_client or replica_client list, as answer_print shows it. */
static int mirror_status(struct cli *cli, const char *ctl)
{
	json_t *answer = NULL, *lists;
	const char *state;
	int rc = daemon_call_at(cli, "vdiskd", ctl, "status", DAEMON_TIMEOUT_MS, &answer, 0);

	if (rc)
		return rc;
	state = status_word(answer, "mirror");
	printf("mirror: %s\n", state ? state : "?");
	lists = json_object();
	if (lists) {
		static const char *const keys[] = { "mirror_client", "replica_client" };

		for (size_t i = 0; i < sizeof(keys) / sizeof(keys[0]); i++) {
			json_t *list = json_object_get(answer, keys[i]);

			if (json_is_array(list))
				json_object_set(lists, keys[i], list);
		}
		answer_print(stdout, lists, 2);
		json_decref(lists);
	}
	json_decref(answer);
	return EXIT_OK;
}

static int mirror_resolve(struct cli *cli, const char *ctl, const char *client, const char *keep)
{
	json_t *answer = NULL;
	char node[64] = "", request[160];
	const char *v;
	int rc;

	if (strlen(client) > 64 || strpbrk(client, " \t\r\n"))
		return cli_usage(cli, "'%s' is not a client name", client);
	rc = daemon_call_at(cli, "vdiskd", ctl, "status", DAEMON_TIMEOUT_MS, &answer, 0);
	if (rc)
		return rc;
	v = status_word(answer, "node");
	if (v && strlen(v) < sizeof(node))
		snprintf(node, sizeof(node), "%s", v);
	json_decref(answer);
	answer = NULL;
	if (strcmp(node, keep) != 0)
		return cli_fail(cli, "this server is %s, not %s: to keep %s's copy of %s, make %s "
				"active (vdiskctl standby takeover %s) and run this there",
				node[0] ? node : "(unnamed)", keep, keep, client, keep, keep);
	snprintf(request, sizeof(request), "mirror-resolve %s keep-local", client);
	rc = daemon_call_at(cli, "vdiskd", ctl, request, DAEMON_TIMEOUT_MS, &answer, 0);
	if (rc)
		return rc;
	printf("%s: split brain resolved: %s's copy kept, the peer's is being resynced\n", client,
	       keep);
	json_decref(answer);
	return EXIT_OK;
}

int cmd_mirror(struct cli *cli, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "ctl", required_argument, NULL, OPT_PATH },
		{ "keep", required_argument, NULL, OPT_NAME },
		CLI_COMMON_OPTS
	};
	const char *ctl = NULL, *keep = NULL;
	char path[256];
	int opt, nargs, rc;

	cli->cmd = "mirror";
	while ((opt = cli_getopt(cli, argc, argv, opts)) != -1) {
		if (opt == '?')
			return EXIT_USAGE;
		if (opt == OPT_HELP) {
			fputs(usage_text, stdout);
			return EXIT_OK;
		}
		if (opt == OPT_PATH)
			ctl = optarg;
		if (opt == OPT_NAME)
			keep = optarg;
	}
	nargs = argc - optind;
	if (nargs == 0)
		return cli_usage(cli, "missing subcommand: status or resolve");
	if (!ctl && (rc = daemon_socket_path(cli, "vdiskd", path, sizeof(path))))
		return rc;
	if (strcmp(argv[optind], "status") == 0) {
		if (nargs != 1 || keep)
			return cli_usage(cli, "status takes no argument");
		return mirror_status(cli, ctl ? ctl : path);
	}
	if (strcmp(argv[optind], "resolve") == 0) {
		if (nargs != 2 || !keep)
			return cli_usage(cli, "usage: mirror resolve CLIENT --keep NODE");
		return mirror_resolve(cli, ctl ? ctl : path, argv[optind + 1], keep);
	}
	return cli_usage(cli, "unknown subcommand '%s' (see 'vdiskctl mirror --help')",
			 argv[optind]);
}
