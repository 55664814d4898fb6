/* standbyd: heartbeat and failover for the server pair. */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/log.h"
#include "common/version.h"
#include "standby/config.h"
#include "standby/ctl.h"
#include "standby/daemon.h"
#include "standby/privop.h"
#include "standby/resource.h"

#define DEFAULT_CONFDIR "/etc/ha.d"
#define DEFAULT_CTL     "/run/vdisk/standbyd.sock"
#define DEFAULT_DB      "/var/lib/vdisk/vdisk.db"	/* as vdiskctl's */
#define DEFAULT_STATE   "/var/lib/vdisk"

static const char usage_text[] =
"usage: standbyd [-c DIR] [--node NAME] [--ctl PATH] [--db PATH] [--state-dir DIR]\n"
"                [--user NAME] [--syslog] [-v]\n"
"       standbyd [-c DIR] [--node NAME] --check-config\n"
"       standbyd --version\n"
"\n"
"  -c, --config DIR   read DIR/ha.cf, DIR/authkeys, DIR/haresources (" DEFAULT_CONFDIR ")\n"
"  --node NAME        this node's name in ha.cf (default: uname -n)\n"
"  --ctl PATH         control socket (" DEFAULT_CTL ")\n"
"  --db PATH          the database: events are recorded in it, and the active node ships\n"
"                     it to the peer (default $VDISK_DB, else " DEFAULT_DB ")\n"
"  --state-dir DIR    where standbyd.state records that this node's copy, or the\n"
"                     peer's, is outdated\n"
"                     (" DEFAULT_STATE ")\n"
"  --user NAME        once the privileged helper runs, the loop runs as NAME, with no\n"
"                     capabilities (" PRIVOP_USER "; root stays root when there is no\n"
"                     such user)\n"
"  --check-config     check the three files and exit\n"
"  --syslog           log to syslog as well as stderr\n"
"  -v, --verbose      debug logging\n"
"  --version          print the version and exit\n"
"\n"
"Exit status: 0 ok, 1 failure (including a bad configuration), 2 usage.\n";

enum { OPT_NODE = 256, OPT_CTL, OPT_DB, OPT_STATE, OPT_USER, OPT_CHECK, OPT_SYSLOG,
       OPT_VERSION };

/* A bcast link on the service address's interface sends heartbeats to every PC. */
static void warn_bcast(const struct ha_config *cfg, const char *svc_ifname)
{
	unsigned i;

	for (i = 0; i < cfg->cf.nlinks; i++)
		if (cfg->cf.links[i].kind == HA_LINK_BCAST &&
		    strcmp(cfg->cf.links[i].ifname, svc_ifname) == 0)
			fprintf(stderr, "standbyd: warning: ha.cf line %u: bcast %s broadcasts "
				"heartbeats to every PC on the service address's LAN; use 'ucast %s "
				"PEER' there\n", cfg->cf.links[i].line, svc_ifname, svc_ifname);
}

/* --check-config: the files (already loaded), then the resources: a script that is not
 * there fails the takeover, not the check. Returns the exit status. */
static int check_config(struct ha_config *cfg, const char *confdir)
{
	struct res_runtime rt;
	struct cfg_err err;
	unsigned i;

	for (i = 0; i < cfg->res.nres; i++) {
		if (res_prepare(cfg, &cfg->res.res[i], &rt, &err)) {
			fprintf(stderr, "standbyd: %s/haresources: %s\n", confdir, err.msg);
			return 1;
		}
		if ((int)i == cfg->res.ipaddr_idx)
			warn_bcast(cfg, rt.ifname);
	}
	printf("%s: configuration ok: node %s, peer %s, %u link%s, %u resource%s, "
	       "keepalive %u ms, deadtime %u ms, auth %s%s, %s\n", confdir, cfg->node,
	       cfg->peer, cfg->cf.nlinks, cfg->cf.nlinks == 1 ? "" : "s", cfg->res.nres,
	       cfg->res.nres == 1 ? "" : "s", cfg->cf.keepalive_ms, cfg->cf.deadtime_ms,
	       ha_auth_alg_name(cfg->keys.keys[cfg->keys.active].alg),
	       ha_authkeys_weak(&cfg->keys) ? " (INSECURE: weak keys forced by insecure_auth)"
	       : "", cfg->keys.ship ? "DB shipping key of its own"
	       : "no 'ship N' key: DB shipping and connection lists off");
	return 0;
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "config", required_argument, NULL, 'c' },
		{ "node", required_argument, NULL, OPT_NODE },
		{ "ctl", required_argument, NULL, OPT_CTL },
		{ "db", required_argument, NULL, OPT_DB },
		{ "state-dir", required_argument, NULL, OPT_STATE },
		{ "user", required_argument, NULL, OPT_USER },
		{ "check-config", no_argument, NULL, OPT_CHECK },
		{ "syslog", no_argument, NULL, OPT_SYSLOG },
		{ "verbose", no_argument, NULL, 'v' },
		{ "help", no_argument, NULL, 'h' },
		{ "version", no_argument, NULL, OPT_VERSION },
		{ NULL, 0, NULL, 0 },
	};
	struct standbyd_opts o = { DEFAULT_CONFDIR, NULL, DEFAULT_CTL, NULL, DEFAULT_STATE,
				   PRIVOP_USER, sb_ctl_handle };
	int check = 0, use_syslog = 0, level = LOG_INFO, opt, rc;
	struct ha_config *cfg;
	struct cfg_err err;

	while ((opt = getopt_long(argc, argv, "c:vh", opts, NULL)) != -1) {
		switch (opt) {
		case 'c': o.confdir = optarg; break;
		case OPT_NODE: o.node = optarg; break;
		case OPT_CTL: o.ctl_path = optarg; break;
		case OPT_DB: o.db_path = optarg; break;
		case OPT_STATE: o.state_dir = optarg; break;
		case OPT_USER: o.user = optarg; break;
		case OPT_CHECK: check = 1; break;
		case OPT_SYSLOG: use_syslog = 1; break;
		case 'v': level = LOG_DEBUG; break;
		case 'h':
			fputs(usage_text, stdout);
			return 0;
		case OPT_VERSION:
			version_print("standbyd");
			return 0;
		default:
			fputs(usage_text, stderr);
			return 2;
		}
	}
	if (optind != argc) {
		fprintf(stderr, "standbyd: unexpected argument '%s'\n", argv[optind]);
		return 2;
	}
	/* fd 0-2 open (on /dev/null if they were not): a link socket or the database opened at
	 * fd 2 would be written to as stderr, by us and by the heartbeat receiver */
	rc = open("/dev/null", O_RDWR);
	while (rc >= 0 && rc <= STDERR_FILENO)
		rc = open("/dev/null", O_RDWR);
	if (rc < 0) {
		fprintf(stderr, "standbyd: /dev/null: %s\n", strerror(errno));
		return 1;
	}
	close(rc);
	log_init("standbyd", use_syslog, level);
	if (!o.db_path)
		o.db_path = getenv("VDISK_DB");
	if (!o.db_path || !*o.db_path)
		o.db_path = DEFAULT_DB;
	/* The loop applies shipped DBs and records events itself: it must not wait long for
	 * another writer (SQLite's busy wait would hold the heartbeats). A failed apply is
	 * retried by the sender. */
	setenv("VDISK_DB_TIMEOUT_MS", "100", 0);
	cfg = malloc(sizeof(*cfg));
	if (!cfg) {
		fprintf(stderr, "standbyd: out of memory\n");
		return 1;
	}
	rc = ha_config_load(cfg, o.confdir, o.node, &err);
	if (rc) {
		fprintf(stderr, "standbyd: %s\n", err.msg);
		free(cfg);
		return 1;
	}
	if (check) {
		rc = check_config(cfg, o.confdir);
		free(cfg);
		return rc;
	}
	rc = standbyd_run(cfg, &o);
	free(cfg);
	return rc ? 1 : 0;
}
