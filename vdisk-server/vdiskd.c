/* vdiskd: the iSCSI target diskless clients boot from.
 *
 * Standalone:  vdiskd --listen ADDR:PORT --lun IQN=FILE[,ro][,overlay=PATH] ...
 * Database:    vdiskd --db PATH [--overlay-dir DIR] [--target IQN] [--ctl PATH]
 * Layers: TCP transport and PDUs (iscsi_conn, iscsi_rx), login and sessions (iscsi_login,
 * iscsi_cmd), SCSI block device (scsi_*), store (store.h). Exit: 0 ok, 1 runtime, 2 usage. */
#include <arpa/inet.h>
#include <errno.h>
#include <getopt.h>
#include <ifaddrs.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/ctlsock.h"
#include "common/evloop.h"
#include "common/log.h"
#include "db/db.h"
#include "vdisk-server/db_targets.h"
#include "vdisk-server/iscsi_target.h"
#include "vdisk-server/lun_table.h"
#include "vdisk-server/store.h"

#define MAX_LUN_ARGS 1024

static void usage(FILE *f)
{
	fprintf(f,
"usage: vdiskd --listen ADDR:PORT --lun IQN=FILE[,ro][,overlay=PATH] [options]\n"
"       vdiskd --db PATH [--listen ADDR:PORT] [--overlay-dir DIR] [--target IQN] [options]\n"
"\n"
"Exports files as SCSI disks over iSCSI (RFC 7143). Several --lun with one IQN are the\n"
"LUNs 0, 1, ... of that target. With --db, a login's initiator name selects the client\n"
"record; its image is the read-only base and DIR/<client>.data/.map its overlay.\n"
"\n"
"  --listen ADDR:PORT     IPv4 address and TCP port to listen on (default 0.0.0.0:3260)\n"
"  --lun IQN=FILE[,OPT]   export FILE as the next LUN of target IQN; OPT: ro (read-only),\n"
"                         overlay=PATH (FILE is a read-only base, writes go to the\n"
"                         copy-on-write overlay PATH.data/PATH.map)\n"
"  --allow IQN            only these initiators may log in (repeatable; default anyone)\n"
"  --chap USER:SECRET     require CHAP from initiators\n"
"  --mutual-chap USER:SECRET  answer the initiator's CHAP challenge (mutual CHAP)\n"
"  --db PATH              serve the clients of this database (no --lun then)\n"
"  --overlay-dir DIR      client overlays (default /var/lib/vdisk/overlays)\n"
"  --target IQN           the target name clients log in to (default: the DB setting\n"
"                         target_iqn, else iqn.2026-11.lan.vdisk:disk)\n"
"  --ctl PATH             control socket: status, overlay-reset CLIENT [force],\n"
"                         role primary|secondary, mirror-resolve CLIENT keep-local\n"
"                         (default /run/vdisk/vdiskd.sock with --db, none standalone)\n"
"  --role primary|secondary  the role at start (default primary; under standbyd give\n"
"                         secondary: standbyd promotes it on takeover)\n"
"  --node NAME            this server's name in the DB (default the host name)\n"
"  --replica-listen ADDR:PORT  the HA-link address where the peer's mirror logs in\n"
"                         (CHAP with the pair secret; accepted while secondary)\n"
"  --mirror-peer ADDR:PORT  the peer's replica listener: hot-standby clients' writes\n"
"                         are mirrored there while primary\n"
"  --mirror-secret FILE   the pair secret (first line; the same file on both servers)\n"
"  --mirror-timeout-ms N  the peer is given up after N ms without an answer (default\n"
"                         3000): writes then go on, recorded for resync\n"
"  --fence SOCKET|none    writes the peer lacks are acknowledged only once standbyd at\n"
"                         SOCKET has the peer's copy marked outdated, or the peer dead\n"
"                         (default /run/vdisk/standbyd.sock); none: at once, and a\n"
"                         takeover can then lose them (docs/mirror.md, Fencing)\n"
"  --resync-rate MBPS     resync bandwidth cap in MB/s (default 0: none)\n"
"  --test-fault crash-at-final-answer|lose-final-request  for tests: at the next\n"
"                         resync's last step (the peer's copy declared equal) exit when\n"
"                         its answer comes, or lose the step and drop the connection\n"
"                         (docs/mirror.md)\n"
"  --threads N            disk worker threads (default 4)\n"
"  --nop-interval SEC     NOP-In keepalive on idle connections (default 5, 0 off)\n"
"  --login-timeout SEC    a connection still logging in after SEC is dropped (default 15)\n"
"  --max-conns-per-addr N  connections one initiator address may hold (default 8; the\n"
"                         replica listener: no cap, the peer opens one per client)\n"
"  --verbose              log every login and connection\n"
"  --help                 this text\n");
}

#define DEFAULT_TARGET		"iqn.2026-11.lan.vdisk:disk"
#define DEFAULT_OVERLAY_DIR	"/var/lib/vdisk/overlays"
#define DEFAULT_CTL		"/run/vdisk/vdiskd.sock"
#define DEFAULT_FENCE		"/run/vdisk/standbyd.sock"
#define MIRROR_CHAP_USER	"vdisk-mirror"

struct daemon_state {
	struct evloop *loop;
	struct iscsi_server srv;
	struct iscsi_server rsrv;	/* replica listener, listen_fd -1 without one */
	struct lun_table luns;		/* standalone */
	struct db *db;			/* database mode */
	struct db_targets dbt;
	struct ev_timer rate_timer;
	uint64_t last_commands;
	double iops;
};

static void on_signal(struct evloop *loop, int signo, void *arg)
{
	(void)arg;
	log_notice("signal %d: stopping", signo);
	ev_stop(loop);
}

/* IOPS over the last second, for `status`. */
static void rate_fn(struct ev_timer *t)
{
	struct daemon_state *d = t->arg;

	d->iops = (double)(d->srv.stats.commands - d->last_commands);
	d->last_commands = d->srv.stats.commands;
	ev_timer_arm(d->loop, &d->rate_timer, 1000);
}

static void ctl_status(struct daemon_state *d, FILE *out)
{
	struct iscsi_server_stats *s = &d->srv.stats;

	fprintf(out, "ok\n");
	fprintf(out, "sessions %u\nlogins %llu\nlogin_failures %llu\nrejects %llu\n",
		d->srv.nconns, (unsigned long long)s->logins,
		(unsigned long long)s->login_failures, (unsigned long long)s->rejects);
	fprintf(out, "bytes_in %llu\nbytes_out %llu\ncommands %llu\niops %.0f\n",
		(unsigned long long)s->bytes_in, (unsigned long long)s->bytes_out,
		(unsigned long long)s->commands, d->iops);
	fprintf(out, "connections_refused %llu\nwrite_buffers %llu\ntask_set_full %llu\n",
		(unsigned long long)d->srv.refused_conns,
		(unsigned long long)d->srv.wbuf_total, (unsigned long long)d->srv.wbuf_full);
	if (d->db) {
		db_targets_status(&d->dbt, out);
		return;
	}
	fprintf(out, "role %s\n", d->luns.secondary ? "secondary" : "primary");
	for (unsigned i = 0; i < d->luns.ntargets; i++) {
		struct iscsi_target *t = d->luns.targets[i];

		fprintf(out, "target %s sessions %u\n", t->name, t->sessions);
		for (unsigned l = 0; l < t->scsi.nlu; l++) {
			struct scsi_lu *lu = t->scsi.lu[l];

			if (lu)
				fprintf(out, "  lun %u reads %llu writes %llu bytes_read %llu "
					"bytes_written %llu\n", l, (unsigned long long)lu->reads,
					(unsigned long long)lu->writes,
					(unsigned long long)lu->bytes_read,
					(unsigned long long)lu->bytes_written);
		}
	}
}

static void ctl_overlay_reset(struct daemon_state *d, int argc, char **argv, FILE *out)
{
	struct db_client c;
	int deferred, rc, force = argc == 3 && strcmp(argv[2], "force") == 0;

	if (!d->db) {
		fprintf(out, "error: overlay-reset needs --db (standalone LUNs have no client)\n");
		return;
	}
	if (argc < 2 || argc > 3 || (argc == 3 && !force)) {
		fprintf(out, "error: usage: overlay-reset CLIENT [force]\n");
		return;
	}
	rc = db_client_by_name(d->db, argv[1], &c);
	if (rc == 0 && c.overlay == DB_OVERLAY_PERSISTENT && !force) {
		fprintf(out, "error: %s keeps a persistent overlay (add 'force' to discard it)\n",
			argv[1]);
		return;
	}
	if (rc == 0)
		rc = db_targets_reset(&d->dbt, argv[1], &deferred);
	if (rc == -ENOENT) {
		fprintf(out, "error: no client named %s\n", argv[1]);
	} else if (rc < 0) {
		fprintf(out, "error: %s: %s\n", argv[1], strerror(-rc));
	} else {
		fprintf(out, "ok\n");
		if (deferred)
			fprintf(out, "a session of %s is open: the overlay is discarded once it has "
				"closed, if it does not answer within 1.5 s (a running PC is not "
				"reset)\n", argv[1]);
	}
}

static void ctl_mirror_resolve(struct daemon_state *d, int argc, char **argv, FILE *out)
{
	int rc;

	if (!d->db || !d->dbt.mirror_on) {
		fprintf(out, "error: mirror-resolve needs --db and --mirror-peer\n");
		return;
	}
	if (argc != 3 || strcmp(argv[2], "keep-local") != 0) {
		fprintf(out, "error: usage: mirror-resolve CLIENT keep-local (to keep the peer's "
			"copy, resolve on the peer once it is active)\n");
		return;
	}
	rc = db_targets_keep_local(&d->dbt, argv[1]);
	if (rc == -ENOENT)
		fprintf(out, "error: %s has no mirror open here (not a hot-standby client, or "
			"this server is not active)\n", argv[1]);
	else if (rc == -EINVAL)
		fprintf(out, "error: %s is not in split brain\n", argv[1]);
	else if (rc < 0)
		fprintf(out, "error: %s: %s\n", argv[1], strerror(-rc));
	else {
		fprintf(out, "ok\n");
		db_event_add(d->db, "notice", "vdiskd", "split brain of %s resolved: this server's "
			     "copy kept, the peer's discarded", argv[1]);
	}
}

static void ctl_handler(void *arg, int argc, char **argv, FILE *out)
{
	struct daemon_state *d = arg;

	if (argc >= 1 && strcmp(argv[0], "status") == 0) {
		ctl_status(d, out);
	} else if (argc >= 1 && strcmp(argv[0], "overlay-reset") == 0) {
		ctl_overlay_reset(d, argc, argv, out);
	} else if (argc == 2 && strcmp(argv[0], "role") == 0 &&
		   (strcmp(argv[1], "primary") == 0 || strcmp(argv[1], "secondary") == 0)) {
		int secondary = strcmp(argv[1], "secondary") == 0;

		if (d->db) {
			db_targets_role(&d->dbt, secondary);
		} else {
			d->luns.secondary = secondary;
			if (secondary)
				for (unsigned i = 0; i < d->luns.ntargets; i++)
					iscsi_server_drop_target(&d->srv, d->luns.targets[i]);
		}
		fprintf(out, "ok\n");
	} else if (argc >= 1 && strcmp(argv[0], "mirror-resolve") == 0) {
		ctl_mirror_resolve(d, argc, argv, out);
	} else {
		fprintf(out, "error: unknown command (known: status, overlay-reset CLIENT [force], "
			"role primary|secondary, mirror-resolve CLIENT keep-local)\n");
	}
}

static int parse_listen(const char *arg, char *addr, size_t alen, uint16_t *port)
{
	const char *colon = strrchr(arg, ':');
	char *end;
	unsigned long p;

	if (!colon || colon == arg || (size_t)(colon - arg) >= alen)
		return -EINVAL;
	memcpy(addr, arg, (size_t)(colon - arg));
	addr[colon - arg] = '\0';
	errno = 0;
	p = strtoul(colon + 1, &end, 10);
	if (errno || *end || p == 0 || p > 65535)
		return -EINVAL;
	*port = (uint16_t)p;
	return 0;
}

static int parse_cred(const char *arg, struct chap_cred *c)
{
	const char *colon = strchr(arg, ':');

	if (!colon || colon == arg || (size_t)(colon - arg) >= sizeof(c->user) ||
	    strlen(colon + 1) < 1 || strlen(colon + 1) >= sizeof(c->secret))
		return -EINVAL;
	memset(c, 0, sizeof(*c));
	memcpy(c->user, arg, (size_t)(colon - arg));
	strcpy(c->secret, colon + 1);
	return 0;
}

/* The replica listener takes the peer alone (the address of --mirror-peer), and only by the
 * interface its own address is on (the HA link): a PC that routes to the HA address through
 * our LAN interface reaches nothing. */
static void replica_guard(struct iscsi_server *rsrv, const char *raddr, const char *peer)
{
	char host[64];
	struct ifaddrs *ifs, *i;
	struct in_addr a;

	if (peer) {
		snprintf(host, sizeof(host), "%s", peer);
		*strrchr(host, ':') = '\0';	/* main checked "ADDR:PORT" */
		if (inet_pton(AF_INET, host, &a) == 1)
			rsrv->only_addr = a.s_addr;
	}
	if (inet_pton(AF_INET, raddr, &a) != 1 || a.s_addr == INADDR_ANY || getifaddrs(&ifs) < 0)
		return;
	for (i = ifs; i; i = i->ifa_next) {
		const struct sockaddr_in *sa = (const struct sockaddr_in *)i->ifa_addr;

		if (!sa || sa->sin_family != AF_INET || sa->sin_addr.s_addr != a.s_addr)
			continue;
		if (setsockopt(rsrv->listen_fd, SOL_SOCKET, SO_BINDTODEVICE, i->ifa_name,
			       (socklen_t)strlen(i->ifa_name) + 1) < 0)
			log_warn("replica listener: cannot bind to %s: %s", i->ifa_name,
				 strerror(errno));
		break;
	}
	freeifaddrs(ifs);
}

/* The pair settings of database mode: who we are, the peer's replica listener, the secret. */
static int pair_setup(struct db_targets *dt, const char *node, const char *replica_listen,
		      const char *mirror_peer, const char *secret_file, unsigned timeout_ms,
		      unsigned rate_mbps)
{
	char secret[sizeof(dt->pair.secret) + 2];
	struct stat sb;
	FILE *f;
	size_t len;

	if (node) {
		snprintf(dt->node, sizeof(dt->node), "%s", node);
	} else {
		char host[256];

		if (gethostname(host, sizeof(host)) == 0) {
			size_t n = strcspn(host, ".");

			host[sizeof(host) - 1] = '\0';
			if (n >= sizeof(dt->node))
				n = sizeof(dt->node) - 1;
			memcpy(dt->node, host, n);
			dt->node[n] = '\0';
		}
	}
	if (!replica_listen && !mirror_peer)
		return 0;
	f = fopen(secret_file, "r");
	if (!f) {
		log_err("--mirror-secret %s: %s", secret_file, strerror(errno));
		return -errno;
	}
	/* as heartbeat's authkeys: a secret others can read is no secret */
	if (fstat(fileno(f), &sb) == 0 && (sb.st_mode & 077)) {
		log_err("--mirror-secret %s: readable by group or others (mode %03o): chmod 600 it",
			secret_file, (unsigned)(sb.st_mode & 0777));
		fclose(f);
		return -EPERM;
	}
	if (!fgets(secret, sizeof(secret), f))
		secret[0] = '\0';
	fclose(f);
	len = strcspn(secret, "\r\n");
	secret[len] = '\0';
	if (len < 12 || len >= sizeof(dt->pair.secret) ||
	    len >= sizeof(dt->mirror.chap_secret)) {
		log_err("--mirror-secret %s: the first line must be a secret of 12 to %zu "
			"characters", secret_file, sizeof(dt->mirror.chap_secret) - 1);
		return -EINVAL;
	}
	snprintf(dt->pair.user, sizeof(dt->pair.user), "%s", MIRROR_CHAP_USER);
	memcpy(dt->pair.secret, secret, len + 1);
	dt->replica_on = replica_listen != NULL;
	if (mirror_peer) {
		dt->mirror_on = 1;
		snprintf(dt->mirror.peer, sizeof(dt->mirror.peer), "%s", mirror_peer);
		snprintf(dt->mirror.target, sizeof(dt->mirror.target), "%s", dt->target_name);
		snprintf(dt->mirror.chap_user, sizeof(dt->mirror.chap_user), "%s", MIRROR_CHAP_USER);
		memcpy(dt->mirror.chap_secret, secret, len + 1);
		dt->mirror.timeout_ms = timeout_ms;
		dt->mirror.peer_up = &dt->peer_up;
		dt->mirror.rate_bps = (uint64_t)rate_mbps * 1000000u;
	}
	return 0;
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "listen", required_argument, NULL, 'l' },
		{ "lun", required_argument, NULL, 'L' },
		{ "allow", required_argument, NULL, 'a' },
		{ "chap", required_argument, NULL, 'c' },
		{ "mutual-chap", required_argument, NULL, 'm' },
		{ "ctl", required_argument, NULL, 'C' },
		{ "db", required_argument, NULL, 'D' },
		{ "overlay-dir", required_argument, NULL, 'O' },
		{ "target", required_argument, NULL, 'T' },
		{ "threads", required_argument, NULL, 't' },
		{ "role", required_argument, NULL, 'R' },
		{ "node", required_argument, NULL, 'N' },
		{ "replica-listen", required_argument, NULL, 'r' },
		{ "mirror-peer", required_argument, NULL, 'p' },
		{ "mirror-secret", required_argument, NULL, 's' },
		{ "mirror-timeout-ms", required_argument, NULL, 'M' },
		{ "fence", required_argument, NULL, 'f' },
		{ "resync-rate", required_argument, NULL, 'b' },
		{ "test-fault", required_argument, NULL, 'F' },
		{ "nop-interval", required_argument, NULL, 'n' },
		{ "login-timeout", required_argument, NULL, 'g' },
		{ "max-conns-per-addr", required_argument, NULL, 'x' },
		{ "verbose", no_argument, NULL, 'v' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	static struct lun_spec specs[MAX_LUN_ARGS];
	static struct daemon_state d;
	struct chap_cred chap, mutual;
	int have_chap = 0, have_mutual = 0, verbose = 0, opt, rc, exit_code = 1;
	unsigned nspecs = 0, threads = 4, nop_s = 5, login_s = ISCSI_LOGIN_TIMEOUT_MS / 1000;
	unsigned per_addr = ISCSI_CONNS_PER_ADDR;
	char addr[64] = "0.0.0.0", errbuf[512] = "";
	const char *ctl_path = NULL, *db_path = NULL, *overlay_dir = DEFAULT_OVERLAY_DIR;
	const char *target = NULL, *why, *dberr;
	char target_buf[DB_IQN_MAX];
	char **allowed = NULL;
	unsigned nallowed = 0;
	uint16_t port = 3260;
	struct store_pool *pool;
	struct iscsi_provider prov;
	struct ctl_server *ctl = NULL;
	char *end;
	int secondary = 0;
	const char *node = NULL, *replica_listen = NULL, *mirror_peer = NULL;
	const char *secret_file = NULL;
	char raddr[64];
	uint16_t rport = 0;
	unsigned mirror_timeout = 3000, rate_mbps = 0;
	const char *fence = DEFAULT_FENCE;
	int test_fault = 0;

	while ((opt = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		switch (opt) {
		case 'l':
			if (parse_listen(optarg, addr, sizeof(addr), &port) < 0) {
				fprintf(stderr, "vdiskd: --listen %s: expected ADDR:PORT\n", optarg);
				return 2;
			}
			break;
		case 'L':
			if (nspecs == MAX_LUN_ARGS) {
				fprintf(stderr, "vdiskd: more than %d --lun\n", MAX_LUN_ARGS);
				return 2;
			}
			if (lun_spec_parse(optarg, &specs[nspecs], &why) < 0) {
				fprintf(stderr, "vdiskd: --lun %s: %s\n", optarg, why);
				return 2;
			}
			nspecs++;
			break;
		case 'a': {
			char **grown = realloc(allowed, (nallowed + 1) * sizeof(*allowed));

			if (!grown || !iscsi_name_valid(optarg)) {
				fprintf(stderr, "vdiskd: --allow %s: not an iSCSI name\n", optarg);
				free(grown ? grown : allowed);
				return 2;
			}
			allowed = grown;
			allowed[nallowed++] = optarg;
			break;
		}
		case 'c':
			if (parse_cred(optarg, &chap) < 0) {
				fprintf(stderr, "vdiskd: --chap: expected USER:SECRET\n");
				return 2;
			}
			have_chap = 1;
			break;
		case 'm':
			if (parse_cred(optarg, &mutual) < 0) {
				fprintf(stderr, "vdiskd: --mutual-chap: expected USER:SECRET\n");
				return 2;
			}
			have_mutual = 1;
			break;
		case 'C':
			ctl_path = optarg;
			break;
		case 'D':
			db_path = optarg;
			break;
		case 'O':
			overlay_dir = optarg;
			break;
		case 'T':
			if (!iscsi_name_valid(optarg)) {
				fprintf(stderr, "vdiskd: --target %s: not an iSCSI name\n", optarg);
				return 2;
			}
			target = optarg;
			break;
		case 't':
			threads = (unsigned)strtoul(optarg, &end, 10);
			if (*end || threads < 1 || threads > 64) {
				fprintf(stderr, "vdiskd: --threads: 1 to 64\n");
				return 2;
			}
			break;
		case 'n':
			nop_s = (unsigned)strtoul(optarg, &end, 10);
			if (*end || nop_s > 3600) {
				fprintf(stderr, "vdiskd: --nop-interval: 0 to 3600 seconds\n");
				return 2;
			}
			break;
		case 'g':
			login_s = (unsigned)strtoul(optarg, &end, 10);
			if (*end || login_s < 1 || login_s > 3600) {
				fprintf(stderr, "vdiskd: --login-timeout: 1 to 3600 seconds\n");
				return 2;
			}
			break;
		case 'x':
			per_addr = (unsigned)strtoul(optarg, &end, 10);
			if (*end || per_addr < 1 || per_addr > 4096) {
				fprintf(stderr, "vdiskd: --max-conns-per-addr: 1 to 4096\n");
				return 2;
			}
			break;
		case 'R':
			if (strcmp(optarg, "primary") != 0 && strcmp(optarg, "secondary") != 0) {
				fprintf(stderr, "vdiskd: --role: primary or secondary\n");
				return 2;
			}
			secondary = strcmp(optarg, "secondary") == 0;
			break;
		case 'N':
			if (!*optarg || strlen(optarg) >= DB_NAME_MAX) {
				fprintf(stderr, "vdiskd: --node: a server name of 1 to %d bytes\n",
					DB_NAME_MAX - 1);
				return 2;
			}
			node = optarg;
			break;
		case 'r':
			if (parse_listen(optarg, raddr, sizeof(raddr), &rport) < 0) {
				fprintf(stderr, "vdiskd: --replica-listen %s: expected ADDR:PORT\n",
					optarg);
				return 2;
			}
			replica_listen = optarg;
			break;
		case 'p': {
			char paddr[64];
			uint16_t pport;

			if (parse_listen(optarg, paddr, sizeof(paddr), &pport) < 0 ||
			    strlen(optarg) >= sizeof(((struct mirror_config *)0)->peer)) {
				fprintf(stderr, "vdiskd: --mirror-peer %s: expected ADDR:PORT\n", optarg);
				return 2;
			}
			mirror_peer = optarg;
			break;
		}
		case 's':
			secret_file = optarg;
			break;
		case 'M':
			mirror_timeout = (unsigned)strtoul(optarg, &end, 10);
			if (*end || mirror_timeout < 100 || mirror_timeout > 600000) {
				fprintf(stderr, "vdiskd: --mirror-timeout-ms: 100 to 600000\n");
				return 2;
			}
			break;
		case 'f':
			if (strlen(optarg) >= FENCE_PATH_MAX) {
				fprintf(stderr, "vdiskd: --fence: a socket path of at most %d "
					"characters, or none\n", FENCE_PATH_MAX - 1);
				return 2;
			}
			fence = strcmp(optarg, "none") == 0 ? NULL : optarg;
			break;
		case 'b':
			rate_mbps = (unsigned)strtoul(optarg, &end, 10);
			if (*end || rate_mbps > 100000) {
				fprintf(stderr, "vdiskd: --resync-rate: 0 (no cap) to 100000 MB/s\n");
				return 2;
			}
			break;
		case 'F':
			if (strcmp(optarg, "crash-at-final-answer") == 0) {
				test_fault = MIRROR_FAULT_CRASH_AT_ANSWER;
			} else if (strcmp(optarg, "lose-final-request") == 0) {
				test_fault = MIRROR_FAULT_LOSE_REQUEST;
			} else {
				fprintf(stderr, "vdiskd: --test-fault: crash-at-final-answer or "
					"lose-final-request\n");
				return 2;
			}
			break;
		case 'v':
			verbose = 1;
			break;
		case 'h':
			usage(stdout);
			return 0;
		default:
			usage(stderr);
			return 2;
		}
	}
	if (optind < argc) {
		fprintf(stderr, "vdiskd: unexpected argument '%s'\n", argv[optind]);
		return 2;
	}
	if (nspecs == 0 && !db_path) {
		fprintf(stderr, "vdiskd: nothing to export: give --db PATH or at least one "
			"--lun IQN=FILE\n");
		return 2;
	}
	if (nspecs && db_path) {
		fprintf(stderr, "vdiskd: --lun and --db exclude each other\n");
		return 2;
	}
	if (db_path && !ctl_path)
		ctl_path = DEFAULT_CTL;
	if (have_mutual && !have_chap) {
		fprintf(stderr, "vdiskd: --mutual-chap needs --chap\n");
		return 2;
	}
	if ((replica_listen || mirror_peer) && (!db_path || !secret_file)) {
		fprintf(stderr, "vdiskd: --replica-listen and --mirror-peer need --db and "
			"--mirror-secret\n");
		return 2;
	}
	log_init("vdiskd", 0, verbose ? LOG_INFO : LOG_NOTICE);
	signal(SIGPIPE, SIG_IGN);
	d.loop = evloop_new();
	if (!d.loop) {
		log_err("event loop: %s", strerror(errno));
		goto out_free_allowed;
	}
	/* before the worker threads start, so they inherit the blocked mask */
	if (ev_signal(d.loop, SIGINT, on_signal, NULL) < 0 ||
	    ev_signal(d.loop, SIGTERM, on_signal, NULL) < 0) {
		log_err("signals: %s", strerror(errno));
		goto out_free_loop;
	}
	rc = store_pool_new(d.loop, threads, &pool);
	if (rc < 0) {
		log_err("worker pool: %s", strerror(-rc));
		goto out_free_loop;
	}
	if (db_path) {
		rc = db_open(db_path, 0, &d.db, &dberr);
		if (rc < 0) {
			log_err("database %s: %s", db_path, dberr ? dberr : strerror(-rc));
			goto out_free_pool;
		}
		if (!target) {
			target = DEFAULT_TARGET;
			if (db_setting_get(d.db, "target_iqn", target_buf, sizeof(target_buf)) == 0 &&
			    iscsi_name_valid(target_buf))
				target = target_buf;
		}
		rc = db_targets_init(&d.dbt, d.db, pool, target, overlay_dir);
		if (rc < 0) {
			log_err("--overlay-dir %s: %s", overlay_dir, strerror(-rc));
			goto out_close_db;
		}
		d.dbt.secondary = secondary;
		rc = pair_setup(&d.dbt, node, replica_listen, mirror_peer, secret_file,
				mirror_timeout, rate_mbps);
		if (rc < 0)
			goto out_close_luns;
		d.dbt.fault = test_fault;
		d.dbt.mirror.fault = &d.dbt.fault;
		if (fence)
			snprintf(d.dbt.fence_path, sizeof(d.dbt.fence_path), "%s", fence);
		else if (d.dbt.mirror_on)
			log_warn("--fence none: hot-standby writes made while the mirror is down are "
				 "acknowledged at once; a takeover then serves a copy without them");
		db_targets_provider(&d.dbt, &prov);
	} else {
		rc = lun_table_open(&d.luns, pool, specs, nspecs, errbuf, sizeof(errbuf));
		if (rc < 0) {
			log_err("cannot export %s", errbuf[0] ? errbuf : strerror(-rc));
			goto out_free_pool;
		}
		d.luns.allowed = allowed;
		d.luns.nallowed = nallowed;
		lun_table_set_chap(&d.luns, have_chap ? &chap : NULL, have_mutual ? &mutual : NULL);
		lun_table_provider(&d.luns, &prov);
	}
	rc = iscsi_server_open(&d.srv, d.loop, addr, port, &prov);
	if (rc < 0) {
		log_err("listen on %s:%u: %s", addr, port, strerror(-rc));
		goto out_close_luns;
	}
	d.srv.nop_interval_ms = nop_s * 1000;
	d.srv.login_timeout_ms = login_s * 1000;
	d.srv.max_conns_per_addr = per_addr;
	d.dbt.srv = &d.srv;
	d.rsrv.listen_fd = -1;
	if (replica_listen) {
		struct iscsi_provider rprov;

		db_targets_replica_provider(&d.dbt, &rprov);
		rc = iscsi_server_open(&d.rsrv, d.loop, raddr, rport, &rprov);
		if (rc < 0) {
			log_err("replica listener on %s: %s", replica_listen, strerror(-rc));
			goto out_close_server;
		}
		d.rsrv.nop_interval_ms = nop_s * 1000;
		d.rsrv.login_timeout_ms = login_s * 1000;
		d.rsrv.max_conns_per_addr = 0;	/* the peer: one connection per client */
		replica_guard(&d.rsrv, raddr, mirror_peer);
		d.dbt.rsrv = &d.rsrv;
	}
	if (d.db)
		db_targets_start(&d.dbt, d.loop);
	ev_timer_init(&d.rate_timer, rate_fn, &d);
	ev_timer_arm(d.loop, &d.rate_timer, 1000);
	if (ctl_path) {
		char dir[4096];
		char *slash;

		/* /run/vdisk may not exist yet after a reboot */
		snprintf(dir, sizeof(dir), "%s", ctl_path);
		slash = strrchr(dir, '/');
		if (slash && slash != dir) {
			*slash = '\0';
			mkdir(dir, 0755);
		}
		rc = ctl_server_open(d.loop, ctl_path, ctl_handler, &d, &ctl);
		if (rc < 0) {
			log_err("control socket %s: %s", ctl_path, strerror(-rc));
			goto out_close_server;
		}
	}
	if (d.db)
		log_notice("listening on %s:%u, target %s for the clients of %s", addr, port,
			   target, db_path);
	else
		log_notice("listening on %s:%u, %u target(s), %u LUN(s)", addr, port,
			   d.luns.ntargets, d.luns.nlus);
	rc = evloop_run(d.loop);
	exit_code = rc < 0 ? 1 : 0;
	if (ctl)
		ctl_server_close(ctl);
out_close_server:
	if (d.rsrv.listen_fd >= 0)
		iscsi_server_close(&d.rsrv);
	iscsi_server_close(&d.srv);
out_close_luns:
	if (d.db)
		db_targets_fini(&d.dbt);
	else
		lun_table_close(&d.luns);
out_close_db:
	if (d.db)
		db_close(d.db);
out_free_pool:
	store_pool_free(pool);
out_free_loop:
	evloop_free(d.loop);
out_free_allowed:
	free(allowed);
	return exit_code;
}
