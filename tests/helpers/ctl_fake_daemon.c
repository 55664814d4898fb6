/* A stand-in daemon for tests: serves the control-socket protocol on PATH, answering
 * `status` with fixed key: value lines (or, given STATUS_FILE, with what that file holds when
 * asked), `overlay-reset NAME` with ok (or an error for NAME
 * "BUSY"), `role primary|secondary` with ok, and recording every request in LOG. Exits on
 * SIGTERM. */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>

#include "common/ctlsock.h"
#include "common/log.h"

static FILE *reqlog;
static const char *status_file;

static void status(FILE *out)
{
	char buf[4096];
	size_t n;
	FILE *f;

	if (!status_file) {
		fprintf(out, "ok\nstate: active\npeer: srv-b alive\nsessions: 3\n");
		return;
	}
	f = fopen(status_file, "re");
	if (!f) {
		fprintf(out, "error: %s: %s\n", status_file, strerror(errno));
		return;
	}
	fprintf(out, "ok\n");
	while ((n = fread(buf, 1, sizeof(buf), f)) > 0)
		fwrite(buf, 1, n, out);
	fclose(f);
}

static void handle(void *arg, int argc, char **argv, FILE *out)
{
	int i;

	(void)arg;
	for (i = 0; i < argc; i++)
		fprintf(reqlog, "%s%s", i ? " " : "", argv[i]);
	fputc('\n', reqlog);
	fflush(reqlog);
	if (strcmp(argv[0], "status") == 0)
		status(out);
	else if (strcmp(argv[0], "overlay-reset") == 0 && argc == 2 && strcmp(argv[1], "BUSY"))
		fprintf(out, "ok\n");
	else if (strcmp(argv[0], "overlay-reset") == 0 && argc == 2)
		fprintf(out, "error: %s has a session open\n", argv[1]);
	else if (strcmp(argv[0], "role") == 0 && argc == 2)
		fprintf(out, "ok\n");
	else
		fprintf(out, "error: unknown command '%s'\n", argv[0]);
}

static void on_term(struct evloop *loop, int signo, void *arg)
{
	(void)signo;
	(void)arg;
	ev_stop(loop);
}

int main(int argc, char **argv)
{
	struct evloop *loop;
	struct ctl_server *srv;
	int rc;

	if (argc != 3 && argc != 4) {
		fprintf(stderr, "usage: ctl_fake_daemon SOCKET LOG [STATUS_FILE]\n");
		return 2;
	}
	status_file = argv[3];
	log_init("fake", 0, LOG_WARNING);
	reqlog = fopen(argv[2], "a");
	loop = evloop_new();
	if (!reqlog || !loop)
		return 1;
	ev_signal(loop, SIGTERM, on_term, NULL);
	rc = ctl_server_open(loop, argv[1], handle, NULL, &srv);
	if (rc) {
		fprintf(stderr, "ctl_server_open: %s\n", strerror(-rc));
		return 1;
	}
	evloop_run(loop);
	ctl_server_close(srv);
	evloop_free(loop);
	fclose(reqlog);
	return 0;
}
