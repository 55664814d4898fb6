/* vdiskd: the iSCSI target diskless clients boot from.
 *
 * Standalone:  vdiskd --listen ADDR:PORT --lun IQN=FILE[,ro][,overlay=PATH] ...
 * Database:    vdiskd --db PATH [--overlay-dir DIR] [--target IQN] [--ctl PATH]
 * Layers: TCP transport and PDUs (iscsi_conn, iscsi_rx), login and sessions (iscsi_login,
 * iscsi_cmd), SCSI block device (scsi_*), store (store.h). Exit: 0 ok, 1 runtime, 2 usage. */
#include <arpa/inet.h>
#include <errno.h>
#include <ifaddrs.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <systemd/sd-daemon.h>
#include <unistd.h>

#include "common/ctlsock.h"
#include "common/evloop.h"
#include "common/log.h"
#include "common/secretfile.h"
#include "common/version.h"
#include "db/db.h"
#include "vdisk-server/db_targets.h"
#include "vdisk-server/iscsi/iscsi_target.h"
#include "vdisk-server/lun_table.h"
#include "vdisk-server/store/store.h"
#include "vdisk-server/vdiskd_opts.h"

#define DEFAULT_TARGET		"iqn.2026-11.lan.vdisk:disk"
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

/* What pxed, let in by the group vdisk, may ask (common/ctlsock.h) */
static const char *const group_requests[] = { "status", "overlay-reset", NULL };

static void on_signal(struct evloop *loop, int signo, void *arg)
{
	(void)arg;
	log_notice("signal %d: stopping", signo);
	sd_notify(0, "STOPPING=1");
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

/* The counters of the iSCSI servers, then database mode's clients or the standalone targets. */
static void ctl_status(struct daemon_state *d, json_t *answer)
{
	struct iscsi_server_stats *s = &d->srv.stats;
	json_t *targets;

	ctl_add(answer, json_pack("{s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:I}",
				  "sessions", (json_int_t)d->srv.nconns,
				  "logins", (json_int_t)s->logins,
				  "login_failures", (json_int_t)s->login_failures,
				  "rejects", (json_int_t)s->rejects,
				  "bytes_in", (json_int_t)s->bytes_in,
				  "bytes_out", (json_int_t)s->bytes_out,
				  "commands", (json_int_t)s->commands,
				  "iops", (json_int_t)(d->iops + 0.5),
				  "connections_refused", (json_int_t)d->srv.refused_conns,
				  "write_buffers", (json_int_t)d->srv.wbuf_total,
				  "task_set_full", (json_int_t)d->srv.wbuf_full));
	if (d->rsrv.listen_fd >= 0)
		ctl_set(answer, "replica_connections_refused",
			json_integer((json_int_t)d->rsrv.refused_conns));
	if (d->db) {
		db_targets_status(&d->dbt, answer);
		return;
	}
	ctl_set(answer, "role", json_string(d->luns.secondary ? "secondary" : "primary"));
	targets = json_array();
	ctl_set(answer, "target", targets);
	/* After a failure (ctl_error) the lists may be gone with the answer's members: stop. */
	for (unsigned i = 0; i < d->luns.ntargets && !ctl_error(answer); i++) {
		struct iscsi_target *t = d->luns.targets[i];
		json_t *luns = json_array();

		ctl_push(answer, targets, json_pack("{s:o, s:I, s:o}", "name", ctl_text(t->name),
						    "sessions", (json_int_t)t->sessions,
						    "lun", luns));
		for (unsigned l = 0; l < t->scsi.nlu && !ctl_error(answer); l++) {
			struct scsi_lu *lu = t->scsi.lu[l];

			if (lu)
				ctl_push(answer, luns, json_pack(
					"{s:I, s:I, s:I, s:I, s:I}", "number", (json_int_t)l,
					"reads", (json_int_t)lu->reads,
					"writes", (json_int_t)lu->writes,
					"bytes_read", (json_int_t)lu->bytes_read,
					"bytes_written", (json_int_t)lu->bytes_written));
		}
	}
}

static void ctl_overlay_reset(struct daemon_state *d, int argc, char **argv, json_t *answer)
{
	struct db_client c;
	int deferred, rc, force = argc == 3 && strcmp(argv[2], "force") == 0;

	if (!d->db) {
		ctl_fail(answer, "overlay-reset needs --db (standalone LUNs have no client)");
		return;
	}
	if (argc < 2 || argc > 3 || (argc == 3 && !force)) {
		ctl_fail(answer, "usage: overlay-reset CLIENT [force]");
		return;
	}
	rc = db_client_by_name(d->db, argv[1], &c);
	if (rc == 0 && c.overlay == DB_OVERLAY_PERSISTENT && !force) {
		ctl_fail(answer, "%s keeps a persistent overlay (add 'force' to discard it)",
			 argv[1]);
		return;
	}
	if (rc == 0)
		rc = db_targets_reset(&d->dbt, argv[1], &deferred);
	if (rc == -ENOENT) {
		ctl_fail(answer, "no client named %s", argv[1]);
	} else if (rc == -EROFS) {
		ctl_fail(answer, "this server is secondary: its copy of %s changes only through "
			 "the mirror (reset it on the active server)", argv[1]);
	} else if (rc < 0) {
		ctl_fail(answer, "%s: %s", argv[1], strerror(-rc));
	} else if (deferred) {
		char note[256];

		snprintf(note, sizeof(note), "a session of %s is open: the overlay is discarded "
			 "once it has closed, if it does not answer within 1.5 s (a running PC is "
			 "not reset)", argv[1]);
		ctl_set(answer, "note", ctl_text(note));
	}
}

static void ctl_mirror_resolve(struct daemon_state *d, int argc, char **argv, json_t *answer)
{
	int rc;

	if (!d->db || !d->dbt.mirror_on) {
		ctl_fail(answer, "mirror-resolve needs --db and --mirror-peer");
		return;
	}
	if (argc != 3 || strcmp(argv[2], "keep-local") != 0) {
		ctl_fail(answer, "usage: mirror-resolve CLIENT keep-local (to keep the peer's "
			 "copy, resolve on the peer once it is active)");
		return;
	}
	rc = db_targets_keep_local(&d->dbt, argv[1]);
	if (rc == -ENOENT)
		ctl_fail(answer, "%s has no mirror open here (not a hot-standby client, or "
			 "this server is not active)", argv[1]);
	else if (rc == -EINVAL)
		ctl_fail(answer, "%s is not in split brain", argv[1]);
	else if (rc < 0)
		ctl_fail(answer, "%s: %s", argv[1], strerror(-rc));
	else
		db_event_add(d->db, "notice", "vdiskd", "split brain of %s resolved: this server's "
			     "copy kept, the peer's discarded", argv[1]);
}

static void ctl_handler(void *arg, int argc, char **argv, json_t *answer)
{
	struct daemon_state *d = arg;

	if (argc >= 1 && strcmp(argv[0], "status") == 0) {
		ctl_status(d, answer);
	} else if (argc >= 1 && strcmp(argv[0], "overlay-reset") == 0) {
		ctl_overlay_reset(d, argc, argv, answer);
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
	} else if (argc >= 1 && strcmp(argv[0], "mirror-resolve") == 0) {
		ctl_mirror_resolve(d, argc, argv, answer);
	} else {
		ctl_fail(answer, "unknown command (known: status, overlay-reset CLIENT [force], "
			 "role primary|secondary, mirror-resolve CLIENT keep-local)");
	}
}

/* The replica listener takes the peer alone (the address of --mirror-peer), and only by the
 * interface its own address is on (the HA link): a PC that routes to the HA address through
 * our LAN interface reaches nothing. */
static void replica_guard(struct iscsi_server *rsrv, const char *raddr, const char *peer)
{
	char host[80];
	struct ifaddrs *ifs, *i;
	struct in_addr a;

	if (peer && *peer) {
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
	char secret[sizeof(dt->pair.secret) + 2], why[160];
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
	if (fstat(fileno(f), &sb) == 0 && secret_mode_check(&sb, why, sizeof(why))) {
		log_err("--mirror-secret %s: %s", secret_file, why);
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

/* Database mode: the DB, its targets, the pair. Returns 0 or a negative errno (logged). */
static int open_db_mode(struct daemon_state *d, struct vdiskd_opts *o, struct store_pool *pool,
			struct iscsi_provider *prov)
{
	static char target_buf[DB_IQN_MAX];
	const char *target = o->target[0] ? o->target : NULL, *dberr = NULL;
	int rc;

	rc = db_open(o->db_path, 0, &d->db, &dberr);
	if (rc < 0) {
		log_err("database %s: %s", o->db_path, dberr ? dberr : strerror(-rc));
		d->db = NULL;
		return rc;
	}
	if (!target) {
		target = DEFAULT_TARGET;
		if (db_setting_get(d->db, "target_iqn", target_buf, sizeof(target_buf)) == 0 &&
		    iscsi_name_valid(target_buf))
			target = target_buf;
	}
	snprintf(o->target, sizeof(o->target), "%s", target);
	rc = db_targets_init(&d->dbt, d->db, pool, o->target, o->overlay_dir);
	if (rc < 0) {
		log_err("--overlay-dir %s: %s", o->overlay_dir, strerror(-rc));
		goto out_close_db;
	}
	d->dbt.secondary = o->secondary;
	rc = pair_setup(&d->dbt, o->node[0] ? o->node : NULL,
			o->replica_listen[0] ? o->replica_listen : NULL,
			o->mirror_peer[0] ? o->mirror_peer : NULL, o->secret_file,
			o->mirror_timeout_ms, o->rate_mbps);
	if (rc < 0)
		goto out_fini;
	d->dbt.fault = o->test_fault;
	d->dbt.mirror.fault = &d->dbt.fault;
	if (!o->fence_off)
		snprintf(d->dbt.fence_path, sizeof(d->dbt.fence_path), "%s", o->fence);
	else if (d->dbt.mirror_on)
		log_warn("--fence none: hot-standby writes made while the mirror is down are "
			 "acknowledged at once; a takeover then serves a copy without them");
	db_targets_provider(&d->dbt, prov);
	return 0;
out_fini:
	db_targets_fini(&d->dbt);
out_close_db:
	db_close(d->db);
	d->db = NULL;
	return rc;
}

/* The client listener, the replica listener, the control socket. 0 or a negative errno
 * (logged); what was opened stays for the caller to close. */
static int open_listeners(struct daemon_state *d, const struct vdiskd_opts *o,
			  const struct iscsi_provider *prov, struct ctl_server **ctl)
{
	int rc;

	rc = iscsi_server_open(&d->srv, d->loop, o->addr, o->port, prov);
	if (rc < 0) {
		log_err("listen on %s:%u: %s", o->addr, o->port, strerror(-rc));
		d->srv.listen_fd = -1;	/* a failed open leaves it 0 */
		return rc;
	}
	d->srv.nop_interval_ms = o->nop_s * 1000;
	d->srv.login_timeout_ms = o->login_s * 1000;
	d->srv.max_conns_per_addr = o->per_addr;
	d->dbt.srv = &d->srv;
	if (o->replica_listen[0]) {
		struct iscsi_provider rprov;

		db_targets_replica_provider(&d->dbt, &rprov);
		rc = iscsi_server_open(&d->rsrv, d->loop, o->raddr, o->rport, &rprov);
		if (rc < 0) {
			log_err("replica listener on %s: %s", o->replica_listen, strerror(-rc));
			d->rsrv.listen_fd = -1;
			return rc;
		}
		d->rsrv.nop_interval_ms = o->nop_s * 1000;
		d->rsrv.login_timeout_ms = o->login_s * 1000;
		d->rsrv.max_conns_per_addr = 0;	/* the peer: one connection per client */
		replica_guard(&d->rsrv, o->raddr, o->mirror_peer);
		d->dbt.rsrv = &d->rsrv;
	}
	if (o->ctl_path[0]) {
		rc = ctl_server_open(d->loop, o->ctl_path, ctl_handler, d, ctl);
		if (rc < 0) {
			log_err("control socket %s: %s", o->ctl_path, strerror(-rc));
			return rc;
		}
		/* pxed (vdisk-pxe, of the group vdisk) asks for a PC's overlay reset at its boot;
		 * roles and the mirror's resolve stay root's (standbyd's, the admin's) */
		ctl_server_group_allow(*ctl, group_requests);
	}
	return 0;
}

/* Options, then --help/--version/--check-config, then the daemon; exit 0/1/2. */
int main(int argc, char **argv)
{
	static struct vdiskd_opts o;
	static struct daemon_state d;
	struct iscsi_provider prov;
	struct ctl_server *ctl = NULL;
	struct store_pool *pool;
	char err[512], errbuf[512] = "";
	int rc, exit_code = 2;

	vdiskd_opts_init(&o);
	if ((rc = vdiskd_opts_load(&o, argc, argv)) != 0)
		goto out_opts;
	exit_code = 0;
	if (o.help || o.version) {
		o.help ? vdiskd_opts_usage(stdout) : version_print("vdiskd");
		goto out_opts;
	}
	if (vdiskd_opts_check(&o, err, sizeof(err)) < 0) {
		fprintf(stderr, "vdiskd: %s%s%s\n", o.config[0] ? o.config : "",
			o.config[0] ? ": " : "", err);
		exit_code = 2;
		goto out_opts;
	}
	if (o.check_config) {
		/* One line (the unit runs this before every start: its output is the journal's);
		 * what was read, option by option, with --verbose. */
		printf("%s: configuration ok: %s, listen %s:%u%s%s\n",
		       o.config[0] ? o.config : "(command line)",
		       o.db_path[0] ? "database mode" : "standalone", o.addr, o.port,
		       o.mirror_peer[0] ? ", mirror to " : "", o.mirror_peer);
		if (o.verbose)
			vdiskd_opts_print(&o, stdout);
		goto out_opts;
	}
	exit_code = 1;
	log_init("vdiskd", 0, o.verbose ? LOG_INFO : LOG_NOTICE);
	signal(SIGPIPE, SIG_IGN);
	d.loop = evloop_new();
	if (!d.loop) {
		log_err("event loop: %s", strerror(errno));
		goto out_opts;
	}
	/* before the worker threads start, so they inherit the blocked mask */
	if (ev_signal(d.loop, SIGINT, on_signal, NULL) < 0 ||
	    ev_signal(d.loop, SIGTERM, on_signal, NULL) < 0) {
		log_err("signals: %s", strerror(errno));
		goto out_free_loop;
	}
	rc = store_pool_new(d.loop, o.threads, &pool);
	if (rc < 0) {
		log_err("worker pool: %s", strerror(-rc));
		goto out_free_loop;
	}
	if (o.db_path[0]) {
		if (open_db_mode(&d, &o, pool, &prov) < 0)
			goto out_free_pool;
	} else {
		rc = lun_table_open(&d.luns, pool, o.specs, o.nspecs, errbuf, sizeof(errbuf));
		if (rc < 0) {
			log_err("cannot export %s", errbuf[0] ? errbuf : strerror(-rc));
			goto out_free_pool;
		}
		d.luns.allowed = o.allowed;
		d.luns.nallowed = o.nallowed;
		lun_table_set_chap(&d.luns, o.have_chap ? &o.chap : NULL,
				   o.have_mutual ? &o.mutual : NULL);
		lun_table_provider(&d.luns, &prov);
	}
	d.srv.listen_fd = -1;
	d.rsrv.listen_fd = -1;
	if (open_listeners(&d, &o, &prov, &ctl) < 0)
		goto out_close_server;
	if (d.db)
		db_targets_start(&d.dbt, d.loop);
	ev_timer_init(&d.rate_timer, rate_fn, &d);
	ev_timer_arm(d.loop, &d.rate_timer, 1000);
	if (d.db)
		log_notice("vdiskd %s listening on %s:%u, target %s for the clients of %s",
			   vdisk_version, o.addr, o.port, o.target, o.db_path);
	else
		log_notice("vdiskd %s listening on %s:%u, %u target(s), %u LUN(s)", vdisk_version,
			   o.addr, o.port, d.luns.ntargets, d.luns.nlus);
	sd_notify(0, "READY=1");
	rc = evloop_run(d.loop);
	exit_code = rc < 0 ? 1 : 0;
out_close_server:
	if (ctl)
		ctl_server_close(ctl);
	if (d.rsrv.listen_fd >= 0)
		iscsi_server_close(&d.rsrv);
	if (d.srv.listen_fd >= 0)
		iscsi_server_close(&d.srv);
	/* connections with requests in a store are left to exit(): their jobs must not run
	 * on a store closed below (a FLUSH in a worker on a freed overlay, found by ASan) */
	store_pool_stop(pool);
	if (d.db) {
		db_targets_fini(&d.dbt);
		db_close(d.db);
	} else {
		lun_table_close(&d.luns);
	}
out_free_pool:
	store_pool_free(pool);
out_free_loop:
	evloop_free(d.loop);
out_opts:
	vdiskd_opts_free(&o);
	return exit_code;
}
