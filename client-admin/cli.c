#include "client-admin/cli.h"

#include <stdarg.h>
#include <stdio.h>
#include <strings.h>

static void vreport(const struct cli *cli, const char *fmt, va_list ap)
{
	fprintf(stderr, "vdiskctl%s%s: ", cli && cli->cmd ? " " : "",
		cli && cli->cmd ? cli->cmd : "");
	vfprintf(stderr, fmt, ap);
	fputc('\n', stderr);
}

int cli_usage(const struct cli *cli, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vreport(cli, fmt, ap);
	va_end(ap);
	return EXIT_USAGE;
}

int cli_fail(const struct cli *cli, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vreport(cli, fmt, ap);
	va_end(ap);
	return EXIT_FAIL;
}

int cli_getopt(struct cli *cli, int argc, char **argv, const struct option *opts)
{
	int c;

	opterr = 0;
	/* Global options end at the command's name; a command's options and operands may
	 * come in any order ("image add NAME --path P"). */
	c = getopt_long(argc, argv, cli->cmd ? "" : "+", opts, NULL);
	switch (c) {
	case OPT_DB:
		cli->db_path = optarg;
		return 0;
	case OPT_JSON:
		cli->json = 1;
		return 0;
	case '?':
		/* getopt_long leaves the option's value in optopt when only its argument
		 * is missing, and 0 when the option itself is unknown. */
		if (optopt)
			cli_usage(cli, "option '%s' needs a value", argv[optind - 1]);
		else
			cli_usage(cli, "unknown option '%s' (see --help)", argv[optind - 1]);
		return '?';
	default:
		return c;
	}
}

int cli_parse_bool(const char *s)
{
	static const char *const yes[] = { "on", "yes", "true", "1", "y" };
	static const char *const no[] = { "off", "no", "false", "0", "n" };
	size_t i;

	for (i = 0; i < sizeof(yes) / sizeof(yes[0]); i++) {
		if (strcasecmp(s, yes[i]) == 0)
			return 1;
		if (strcasecmp(s, no[i]) == 0)
			return 0;
	}
	return -1;
}

int cli_simple_args(struct cli *cli, int argc, char **argv, const char *usage, int min, int max)
{
	static const struct option opts[] = { CLI_COMMON_OPTS };
	int opt, n;

	while ((opt = cli_getopt(cli, argc, argv, opts)) != -1) {
		if (opt == '?')
			return EXIT_USAGE;
		if (opt == OPT_HELP) {
			printf("usage: vdiskctl %s\n", usage);
			return EXIT_OK;
		}
	}
	n = argc - optind;
	if (n > max)
		return cli_usage(cli, "unexpected argument '%s' (usage: vdiskctl %s)",
				 argv[optind + max], usage);
	if (n < min)
		return cli_usage(cli, "missing argument (usage: vdiskctl %s)", usage);
	return -1;
}
