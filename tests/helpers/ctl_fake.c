/* Test helper: a stand-in for a daemon's control socket (standbyd, vdiskd, pxed).
 *   ctl_fake SOCKET LOG ANSWERS
 * Appends every request line to LOG and answers from ANSWERS, a file holding one JSON
 * object, read afresh for each request so a test can change an answer (standbyd's state)
 * while it runs: its member named by the whole request line, else by the request's first
 * word, is the answer, sent as it is ({"ok":true,...} or {"ok":false,"error":...}). A request
 * it has no member for, or an ANSWERS that does not read as JSON, is answered with an error
 * that says so. Exits on SIGTERM or SIGINT. */
#include <signal.h>
#include <stdio.h>
#include <string.h>

#include "common/ctlsock.h"
#include "common/evloop.h"

static const char *answers_path, *log_path;

static void log_request(int argc, char **argv, char *line, size_t len)
{
	FILE *f = fopen(log_path, "a");
	size_t off = 0;
	int i;

	line[0] = '\0';
	for (i = 0; i < argc; i++)
		off += (size_t)snprintf(line + off, off < len ? len - off : 0, "%s%s", i ? " " : "",
					argv[i]);
	if (f) {
		fprintf(f, "%s\n", line);
		fclose(f);
	}
}

static void handle(void *arg, int argc, char **argv, json_t *answer)
{
	char line[CTL_MAX_REQUEST];
	json_error_t err;
	json_t *all, *mine;

	(void)arg;
	log_request(argc, argv, line, sizeof(line));
	all = json_load_file(answers_path, JSON_REJECT_DUPLICATES, &err);
	if (!json_is_object(all)) {
		ctl_fail(answer, "ctl_fake: %s: %s", answers_path, all ? "not an object" : err.text);
		json_decref(all);
		return;
	}
	mine = json_object_get(all, line);
	if (!mine)
		mine = json_object_get(all, argv[0]);
	if (json_is_object(mine)) {
		/* as it is, "ok" too: a test may answer what no daemon would */
		json_object_clear(answer);
		if (json_object_update(answer, mine))
			ctl_fail(answer, "ctl_fake: out of memory");
	} else {
		ctl_fail(answer, "ctl_fake: no answer for '%.40s' in %s", line, answers_path);
	}
	json_decref(all);
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
		fprintf(stderr, "usage: ctl_fake SOCKET LOG ANSWERS\n");
		return 2;
	}
	log_path = argv[2];
	answers_path = argv[3];
	loop = evloop_new();
	if (!loop || ev_signal(loop, SIGTERM, on_signal, NULL) ||
	    ev_signal(loop, SIGINT, on_signal, NULL) ||
	    ctl_server_open(loop, argv[1], handle, NULL, &srv)) {
		perror("ctl_fake");
		return 1;
	}
	evloop_run(loop);
	ctl_server_close(srv);
	evloop_free(loop);
	return 0;
}
