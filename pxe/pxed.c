/* pxed: DHCP or proxyDHCP answers for PXE and iPXE clients from the DB, per-client iPXE
 * scripts, and tftp-hpa's in.tftpd run and supervised on the TFTP root.
 * Exit status: 0 clean stop, 1 runtime failure, 2 usage or configuration error. */
#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <systemd/sd-daemon.h>

#include "common/ctlsock.h"
#include "common/evloop.h"
#include "common/log.h"
#include "common/version.h"
#include "db/db.h"
#include "pxe/http_scripts.h"
#include "pxe/ipxe_script.h"
#include "pxe/pxe_conf.h"
#include "pxe/privs.h"
#include "pxe/pxe_server.h"
#include "pxe/ra.h"
#include "pxe/tftpd_sup.h"

/* Defaults, so standbyd can start a bare /usr/sbin/pxed as a resource. */
#define PXED_DEFAULT_CONF "/etc/vdisk/pxed.conf"
#define PXED_DEFAULT_DB   "/var/lib/vdisk/vdisk.db"

struct pxed {
	struct pxe_conf conf;
	struct evloop *loop;
	struct db *db;
	struct pxe_server srv;
	struct pxe_http http;
	struct tftpd_sup tftpd;
	struct ctl_server *ctl;
	struct ra_sender ra;
};

static void usage(FILE *f)
{
	fprintf(f,
		"Usage: pxed [--db PATH] [-c FILE] [options]\n"
		"DHCP or proxyDHCP server for PXE and iPXE clients of the vdisk pair; serves\n"
		"each client its own iPXE script over HTTP and runs tftp-hpa's in.tftpd.\n"
		"\n"
		"  -c, --config FILE   key = value configuration (see pxed.conf.example);\n"
		"                      default " PXED_DEFAULT_CONF "\n"
		"      --db PATH       the vdisk SQLite database; default " PXED_DEFAULT_DB "\n"
		"      --ctl PATH      control socket (overrides ctl_socket)\n"
		"      --state DIR     directory for the leases file (overrides state_dir)\n"
		"      --check-config  read FILE, report the first bad line, and exit\n"
		"  -v, --verbose       log debug messages\n"
		"      --syslog        log to syslog as well as stderr\n"
		"      --version       print the version and exit\n"
		"  -h, --help          this text\n"
		"\n"
		"Control socket requests: status, leases.\n"
		"Exit status: 0 stopped cleanly, 1 runtime failure, 2 usage or configuration error.\n");
}

static void tftpd_status(struct pxed *d, json_t *answer)
{
	if (!d->conf.tftp)
		ctl_set(answer, "tftpd", json_pack("{s:s}", "state", "off"));
	else if (d->tftpd.pid)
		ctl_set(answer, "tftpd", json_pack("{s:s,s:I}", "state", "running",
						   "pid", (json_int_t)d->tftpd.pid));
	else
		ctl_set(answer, "tftpd", json_pack("{s:s}", "state", "restarting"));
	ctl_set(answer, "tftpd_restarts", json_integer(d->tftpd.restarts));
	/* how it last ended, as the log says it ("killed by signal 9") */
	if (d->tftpd.restarts)
		ctl_set(answer, "tftpd_last_exit", ctl_text(d->tftpd.last_exit));
}

static void on_ctl(void *arg, int argc, char **argv, json_t *answer)
{
	struct pxed *d = arg;

	if (argc == 1 && strcmp(argv[0], "status") == 0) {
		pxe_server_status(&d->srv, answer);
		tftpd_status(d, answer);
		ctl_set(answer, "router_solicitations",
			json_integer((json_int_t)d->ra.solicitations));
		ctl_set(answer, "router_adverts", json_integer((json_int_t)d->ra.sent));
		pxe_http_status(&d->http, answer);
	} else if (argc == 1 && strcmp(argv[0], "leases") == 0) {
		pxe_server_leases(&d->srv, answer);
	} else {
		ctl_fail(answer, "unknown request '%s' (try status, leases)", argv[0]);
	}
}

static void on_signal(struct evloop *loop, int signo, void *arg)
{
	struct pxed *d = arg;

	if (signo == SIGCHLD) {
		tftpd_sup_reap(&d->tftpd);
		return;
	}
	log_notice("signal %d: stopping", signo);
	sd_notify(0, "STOPPING=1");
	ev_stop(loop);
}

static int copy_path(char *dst, size_t len, const char *src, const char *what)
{
	if (strlen(src) >= len) {
		fprintf(stderr, "pxed: %s path too long\n", what);
		return -1;
	}
	strcpy(dst, src);
	return 0;
}

static int run(struct pxed *d, const char *db_path)
{
	const char *files[3] = { d->conf.bios_file, d->conf.efi_file, NULL };
	const char *dberr = NULL;
	char err[512];
	int rc, status = 1;

	/* The database first: nothing is created on disk for a daemon that cannot run. */
	rc = db_open(db_path, 0, &d->db, &dberr);
	if (rc) {
		log_err("database %s: %s", db_path, dberr ? dberr : strerror(-rc));
		return 1;
	}
	if (mkdir(d->conf.state_dir, 0755) == 0) {
		/* the leases are written there after pxed became its user */
		rc = privs_give(d->conf.state_dir, d->conf.user);
		if (rc) {
			log_err("state_dir %s: cannot give it to %s: %s", d->conf.state_dir,
				d->conf.user, strerror(-rc));
			goto out_db;
		}
	} else if (errno != EEXIST) {
		log_err("state_dir %s: %s", d->conf.state_dir, strerror(errno));
		goto out_db;
	}
	if (tftp_root_prepare(d->conf.tftp_root, d->conf.ipxe_dir, files, err, sizeof(err))) {
		log_err("tftp_root: %s", err);
		goto out_db;
	}
	d->loop = evloop_new();
	if (!d->loop) {
		log_err("event loop: %s", strerror(errno));
		goto out_db;
	}
	if (ev_signal(d->loop, SIGTERM, on_signal, d) || ev_signal(d->loop, SIGINT, on_signal, d) ||
	    ev_signal(d->loop, SIGCHLD, on_signal, d)) {
		log_err("signals: %s", strerror(errno));
		goto out_loop;
	}
	if (pxe_server_init(&d->srv, &d->conf, d->db, d->loop))
		goto out_loop;
	if (pxe_server_listen(&d->srv))
		goto out_loop;
	/* Each client's iPXE script (with its CHAP secrets) over HTTP, to that client only. */
	if (pxe_http_start(&d->http, &d->srv, d->loop))
		goto out_server;
	rc = ctl_server_open(d->loop, d->conf.ctl_socket, on_ctl, d, &d->ctl);
	if (rc) {
		log_err("control socket %s: %s", d->conf.ctl_socket, strerror(-rc));
		goto out_http;
	}
	d->ra.io.fd = -1;
	if (d->conf.router_advert) {
		rc = ra_open(&d->ra, d->loop, d->conf.interface);
		/* Only a faster boot is lost: iPXE still boots after its IPv6 wait. */
		if (rc)
			log_warn("router advertisements off: %s", strerror(-rc));
	}
	if (d->conf.tftp && tftpd_sup_start(&d->tftpd, d->loop, &d->conf)) {
		log_err("cannot start %s", d->conf.tftpd);
		goto out_ctl;
	}
	/* Every socket is open and in.tftpd started: from here on only what is still used. */
	rc = privs_limit(d->conf.user);
	if (rc) {
		log_err("cannot drop capabilities%s%s: %s", *d->conf.user ? " and become " : "",
			d->conf.user, strerror(-rc));
		goto out_tftpd;
	}
	log_notice("pxed %s answering on %s%s%s", vdisk_version, d->conf.interface,
		   *d->conf.user ? " as user " : "", d->conf.user);
	sd_notify(0, "READY=1");
	if (evloop_run(d->loop) == 0)
		status = 0;
out_tftpd:
	tftpd_sup_stop(&d->tftpd);
out_ctl:
	ra_close(&d->ra);
	ctl_server_close(d->ctl);
out_http:
	pxe_http_stop(&d->http);
out_server:
	pxe_server_close(&d->srv);
out_loop:
	evloop_free(d->loop);
out_db:
	db_close(d->db);
	return status;
}

int main(int argc, char **argv)
{
	enum { O_DB = 256, O_CTL, O_STATE, O_CHECK, O_SYSLOG, O_VERSION };
	static const struct option opts[] = {
		{ "config", required_argument, NULL, 'c' },
		{ "db", required_argument, NULL, O_DB },
		{ "ctl", required_argument, NULL, O_CTL },
		{ "state", required_argument, NULL, O_STATE },
		{ "check-config", no_argument, NULL, O_CHECK },
		{ "verbose", no_argument, NULL, 'v' },
		{ "syslog", no_argument, NULL, O_SYSLOG },
		{ "help", no_argument, NULL, 'h' },
		{ "version", no_argument, NULL, O_VERSION },
		{ NULL, 0, NULL, 0 },
	};
	const char *config = PXED_DEFAULT_CONF, *db_path = PXED_DEFAULT_DB, *ctl = NULL;
	const char *state = NULL;
	int check = 0, verbose = 0, use_syslog = 0, c;
	static struct pxed d;
	char err[512];

	while ((c = getopt_long(argc, argv, "c:vh", opts, NULL)) != -1) {
		switch (c) {
		case 'c': config = optarg; break;
		case O_DB: db_path = optarg; break;
		case O_CTL: ctl = optarg; break;
		case O_STATE: state = optarg; break;
		case O_CHECK: check = 1; break;
		case 'v': verbose = 1; break;
		case O_SYSLOG: use_syslog = 1; break;
		case 'h': usage(stdout); return 0;
		case O_VERSION: version_print("pxed"); return 0;
		default: usage(stderr); return 2;
		}
	}
	if (optind != argc) {
		fprintf(stderr, "pxed: unexpected argument '%s'\n", argv[optind]);
		usage(stderr);
		return 2;
	}
	if (pxe_conf_load(config, &d.conf, err, sizeof(err))) {
		fprintf(stderr, "pxed: %s\n", err);
		return 2;
	}
	if ((ctl && copy_path(d.conf.ctl_socket, sizeof(d.conf.ctl_socket), ctl, "--ctl")) ||
	    (state && copy_path(d.conf.state_dir, sizeof(d.conf.state_dir), state, "--state")))
		return 2;
	if (privs_user_check(d.conf.user, err, sizeof(err))) {
		fprintf(stderr, "pxed: %s: %s\n", config, err);
		return 2;
	}
	if (check) {
		printf("%s: ok\n", config);
		return 0;
	}
	log_init("pxed", use_syslog, verbose ? LOG_DEBUG : LOG_INFO);
	return run(&d, db_path);
}
