/* Test helper: a stand-in for another daemon's control socket (standbyd, vdiskd).
 *   pxe_fakectl SOCKET REPLYFILE LOGFILE
 * Appends every request line to LOGFILE and answers with REPLYFILE's content, read afresh
 * for each request so a test can change the answer (standbyd's state) while it runs. */
#include <signal.h>
#include <stdio.h>
#include <string.h>

#include "common/ctlsock.h"
#include "common/evloop.h"

static const char *reply_path, *log_path;

static void handle(void *arg, int argc, char **argv, FILE *out)
{
	char buf[4096];
	size_t n;
	FILE *f;
	int i;

	(void)arg;
	f = fopen(log_path, "a");
	if (f) {
		for (i = 0; i < argc; i++)
			fprintf(f, "%s%s", i ? " " : "", argv[i]);
		fputc('\n', f);
		fclose(f);
	}
	f = fopen(reply_path, "r");
	if (!f) {
		fprintf(out, "error: no reply file\n");
		return;
	}
	n = fread(buf, 1, sizeof(buf), f);
	fclose(f);
	fwrite(buf, 1, n, out);
}

static void on_signal(struct evloop *loop, int signo, void *arg)
{
	(void)signo;
	(void)arg;
	ev_stop(loop);
}

int main(int argc, char **argv)
{
	struct ctl_server *srv;
	struct evloop *loop;

	if (argc != 4) {
		fprintf(stderr, "usage: pxe_fakectl SOCKET REPLYFILE LOGFILE\n");
		return 2;
	}
	reply_path = argv[2];
	log_path = argv[3];
	loop = evloop_new();
	if (!loop || ev_signal(loop, SIGTERM, on_signal, NULL) ||
	    ev_signal(loop, SIGINT, on_signal, NULL) ||
	    ctl_server_open(loop, argv[1], handle, NULL, &srv)) {
		perror("pxe_fakectl");
		return 1;
	}
	evloop_run(loop);
	ctl_server_close(srv);
	evloop_free(loop);
	return 0;
}
