/* The control socket, server and asynchronous client in one event loop: answers arrive
 * whole (also large ones) as JSON, a daemon that never answers times out, no daemon fails at
 * once, a cancelled request is never answered, an empty request gets an error answer; the
 * blocking client's timeout bounds the whole answer of a daemon that trickles it. The one
 * parser of answers refuses whatever is not one (must-fail vectors), and building an answer
 * never loses a member silently. */
#include <errno.h>
#include <grp.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <sys/un.h>
#include <unistd.h>

#include "common/ctlsock.h"
#include "common/log.h"
#include "tests/lib/tap.h"

static struct evloop *loop;
static int answers, last_rc;
static char last_reply[256];
static size_t last_len;

static void handler(void *arg, int argc, char **argv, json_t *answer)
{
	json_t *lines;
	int i;

	(void)arg;
	if (strcmp(argv[0], "big") == 0) {
		lines = json_array();
		ctl_set(answer, "line", lines);
		for (i = 0; i < 20000; i++)
			ctl_push(answer, lines, json_integer(i));
		return;
	}
	if (strcmp(argv[0], "echo") == 0 && argc == 2) {
		ctl_fail(answer, "unknown word '%s'", argv[1]);
		return;
	}
	ctl_set(answer, "args", json_integer(argc));
}

static void got(void *arg, int rc, const json_t *answer)
{
	char *text = answer ? json_dumps(answer, JSON_COMPACT) : NULL;

	(void)arg;
	answers++;
	last_rc = rc;
	last_len = json_array_size(json_object_get(answer, "line"));
	snprintf(last_reply, sizeof(last_reply), "%s", text ? text : "");
	free(text);
	ev_stop(loop);
}

/* ctl_parse: what is an answer and what is not. */
static void test_parse(void)
{
	static const char *const bad[] = {
		"", "\n", "ok\n", "error: x\n", "[]", "null", "1", "\"ok\"", "{}",
		"{\"ok\":1}", "{\"ok\":\"true\"}", "{\"ok\":null}", "{\"ok\":false}",
		"{\"ok\":false,\"error\":3}", "{\"ok\":true,\"ok\":false}",
		"{\"ok\":true} x", "{\"ok\":true}{\"ok\":true}", "{\"ok\":true",
		"{\"ok\":true,\"a\":\"\xff\"}",
	};
	json_t *a = NULL;

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		is_int(ctl_parse(bad[i], strlen(bad[i]), &a), -EPROTO, "not an answer: vector %zu", i);
	const char *good = "{\"ok\":true,\"n\":5}\n", *error = "{\"ok\":false,\"error\":\"no\"}";

	is_int(ctl_parse(good, strlen(good), &a), 0, "an answer that says ok");
	ok(a && !ctl_error(a) && json_integer_value(json_object_get(a, "n")) == 5,
	   "its members as they were sent, a number a number");
	json_decref(a);
	is_int(ctl_parse(error, strlen(error), &a), 0, "an error answer");
	is_str(a ? ctl_error(a) : "", "no", "its message");
	json_decref(a);
	/* a NUL inside the answer's bytes ends nothing early: len counts */
	ok(ctl_parse("{\"ok\":true}\0junk", 16, &a) == -EPROTO, "bytes after a NUL are read");
}

/* Building: a failed value turns the answer into an error, never a missing member. */
static void test_build(void)
{
	json_t *a = json_pack("{s:b}", "ok", 1), *arr = json_array();
	char *text;

	ctl_set(a, "n", json_integer(1));
	ctl_set(a, "list", arr);
	ctl_push(a, arr, json_string("x"));
	ok(ctl_error(a) == NULL && json_array_size(arr) == 1, "members set and pushed");
	ctl_add(a, json_pack("{s:s}", "bad", "\xff"));
	ok(ctl_error(a) != NULL, "a member that cannot be made: the answer says so (%s)",
	   ctl_error(a) ? ctl_error(a) : "ok");
	ok(json_object_get(a, "n") == NULL, "and keeps no half of the members");
	ctl_set(a, "late", json_integer(2));
	ok(json_object_get(a, "late") == NULL, "after a failure nothing is added");
	json_decref(a);
	a = json_pack("{s:b}", "ok", 1);
	ok(ctl_error(NULL) != NULL, "no answer is not an ok");
	json_object_set_new(a, "ok", json_false());
	ok(ctl_error(a) != NULL, "{\"ok\":false} without a message is not an ok either (%s)",
	   ctl_error(a) ? ctl_error(a) : "NULL");
	ctl_fail(a, "bad word '%s'", "\xff\x01z");
	text = json_dumps(a, JSON_COMPACT);
	is_str(text ? text : "", "{\"ok\":false,\"error\":\"bad word '?" "?z'\"}",
	       "a message quoting bytes that are not text stays an answer");
	free(text);
	json_decref(a);
}

static void stop_fn(struct ev_timer *t)
{
	ev_stop(t->arg);
}

static void run_for(unsigned ms)
{
	struct ev_timer guard;

	ev_timer_init(&guard, stop_fn, loop);
	ev_timer_arm(loop, &guard, ms);
	evloop_run(loop);
	ev_timer_cancel(loop, &guard);
}

static void on_alarm(int sig)
{
	(void)sig;
}

/* What a process of user uid and group gid (no other group) gets for request from the
 * server at path, which runs in this process's loop: 0 an answer, 3 an error answer, 1 none
 * (the connection refused). */
static int call_as(const char *path, uid_t uid, gid_t gid, const char *request)
{
	pid_t pid = fork();
	int status = -1;

	if (pid == 0) {
		json_t *answer = NULL;

		if (setgroups(0, NULL) || setgid(gid) || setuid(uid))
			_exit(2);
		if (ctl_call(path, request, 1000, &answer) != 0)
			_exit(1);
		_exit(ctl_error(answer) ? 3 : 0);
	}
	run_for(1500);
	if (pid < 0 || waitpid(pid, &status, 0) != pid || !WIFEXITED(status))
		return -1;
	return WEXITSTATUS(status);
}

/* Who may talk to a daemon, whatever the socket file allows (made 0666 here): root, the
 * daemon's user, and, for the requests the daemon lets its group make, a user whose group
 * is one of the daemon's supplementary groups (vdiskd, vdisk:vdisk, asking standbyd, root in
 * the group vdisk, to fence). */
static void test_peers(struct ctl_server *srv, const char *dir, const char *path)
{
	static const char *const group_requests[] = { "status", "fence-peer", NULL };
	const gid_t pair = 54321;

	if (geteuid() != 0) {
		diag("the peers allowed: not checked, needs root to be another user");
		return;
	}
	chmod(dir, 0711);
	chmod(path, 0666);
	setgroups(0, NULL);
	is_int(call_as(path, pair, pair, "status"), 1,
	       "a user of a group the daemon is not in: refused");
	ok(setgroups(1, &pair) == 0, "the daemon joins that group");
	is_int(call_as(path, pair, pair, "status"), 0, "now that user's daemon gets the status");
	is_int(call_as(path, pair, pair, "fence-peer"), 3,
	       "but not another request, by default");
	ctl_server_group_allow(srv, group_requests);
	is_int(call_as(path, pair, pair, "fence-peer"), 0, "a request the daemon lets its group make");
	is_int(call_as(path, pair, pair, "takeover"), 3, "an admin's request: refused, with why");
	is_int(call_as(path, pair + 1, pair + 1, "status"), 1, "another user and group still refused");
	setgroups(0, NULL);
	chmod(dir, 0700);
}

/* A daemon that answers one byte every 50 ms for 2 s: each byte comes well within the
 * client's timeout, the whole answer does not. */
static pid_t trickler(const char *path)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	int fd = socket(AF_UNIX, SOCK_STREAM, 0), c;
	char req[64];
	pid_t pid;

	if (strlen(path) >= sizeof(sa.sun_path))
		return -1;
	memcpy(sa.sun_path, path, strlen(path) + 1);
	if (fd < 0 || bind(fd, (struct sockaddr *)&sa, sizeof(sa)) || listen(fd, 1))
		return -1;
	pid = fork();
	if (pid != 0) {
		close(fd);
		return pid;
	}
	c = accept(fd, NULL, NULL);
	if (c >= 0 && read(c, req, sizeof(req)) > 0)
		for (int i = 0; i < 40 && write(c, "x", 1) == 1; i++)
			usleep(50000);
	_exit(0);
}

int main(void)
{
	char dir[] = "/tmp/test_ctlsock.XXXXXX", path[128], mute[128];
	struct ctl_server *srv;
	struct ctl_req *req;
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	int fd;

	log_init("test", 0, LOG_ERR);
	test_parse();
	test_build();
	if (!mkdtemp(dir))
		return 1;
	snprintf(path, sizeof(path), "%s/d.sock", dir);
	snprintf(mute, sizeof(mute), "%s/mute.sock", dir);
	loop = evloop_new();
	is_int(ctl_server_open(loop, path, handler, NULL, &srv), 0, "server listens");

	is_int(ctl_call_start(loop, path, "status a b", 1000, got, NULL, &req), 0, "request sent");
	run_for(2000);
	is_int(answers, 1, "answered once");
	is_int(last_rc, 0, "rc 0");
	is_str(last_reply, "{\"ok\":true,\"args\":3}", "whole answer, words split");

	ctl_call_start(loop, path, "big", 2000, got, NULL, &req);
	run_for(3000);
	ok(last_rc == 0 && last_len == 20000, "a large answer arrives whole (%zu elements)",
	   last_len);

	ctl_call_start(loop, path, "", 1000, got, NULL, &req);
	run_for(2000);
	is_str(last_reply, "{\"ok\":false,\"error\":\"empty request\"}",
	       "an empty request gets an error answer");
	ctl_call_start(loop, path, "echo caf\xc3\xa9", 1000, got, NULL, &req);
	run_for(2000);
	ok(last_rc == 0 && strstr(last_reply, "unknown word 'caf?" "?'"),
	   "a request's bytes quoted in an error are made text: %s", last_reply);

	/* A daemon that accepts nothing and answers nothing: the listen backlog takes the
	 * connection, the answer never comes. */
	fd = socket(AF_UNIX, SOCK_STREAM, 0);
	strcpy(sa.sun_path, mute);
	ok(bind(fd, (struct sockaddr *)&sa, sizeof(sa)) == 0 && listen(fd, 4) == 0, "mute daemon");
	answers = 0;
	is_int(ctl_call_start(loop, mute, "status", 200, got, NULL, &req), 0, "request to it sent");
	run_for(2000);
	ok(answers == 1 && last_rc == -ETIMEDOUT, "it times out (rc %d)", last_rc);

	answers = 0;
	ctl_call_start(loop, mute, "status", 100, got, NULL, &req);
	ctl_call_cancel(req);
	run_for(300);
	is_int(answers, 0, "a cancelled request is never answered");
	close(fd);

	snprintf(mute, sizeof(mute), "%s/none.sock", dir);
	ok(ctl_call_start(loop, mute, "status", 100, got, NULL, &req) == -ENOENT,
	   "no daemon: fails at once with -ENOENT");
	ok(ctl_call_start(loop, path, "two\nlines", 100, got, NULL, &req) == -EINVAL,
	   "a request with a line break is refused");

	test_peers(srv, dir, path);
	ctl_server_close(srv);
	ok(access(path, F_OK) != 0, "socket file removed at close");

	{
		json_t *reply = NULL;
		pid_t pid;

		snprintf(mute, sizeof(mute), "%s/trickle.sock", dir);
		pid = trickler(mute);
		ok(pid > 0, "a daemon that trickles its answer");
		is_int(ctl_call(mute, "status", 500, &reply), -ETIMEDOUT,
		       "the blocking client gives up at its timeout, not at the answer's end");
		json_decref(reply);
		kill(pid, SIGKILL);
		waitpid(pid, NULL, 0);
	}
	{
		/* A hung daemon: it accepts nothing, its backlog is full. The blocking client
		 * must still give up at its timeout (SIGALRM ends a connect that would not). */
		struct sigaction sa_alrm = { .sa_handler = on_alarm };
		int lfd = socket(AF_UNIX, SOCK_STREAM, 0), filled = 0, cfd;
		json_t *reply = NULL;

		snprintf(mute, sizeof(mute), "%s/hung.sock", dir);
		strcpy(sa.sun_path, mute);
		ok(bind(lfd, (struct sockaddr *)&sa, sizeof(sa)) == 0 && listen(lfd, 0) == 0,
		   "a hung daemon");
		while (filled < 64 && (cfd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK, 0)) >= 0 &&
		       connect(cfd, (struct sockaddr *)&sa, sizeof(sa)) == 0)
			filled++;
		ok(filled < 64, "its backlog is full (%d connections queued)", filled);
		sigaction(SIGALRM, &sa_alrm, NULL);
		alarm(3);
		is_int(ctl_call(mute, "status", 300, &reply), -ETIMEDOUT,
		       "the blocking client gives up at its timeout on a full backlog");
		alarm(0);
		json_decref(reply);
		close(lfd);
	}

	/* /run/vdisk after a reboot: the directory is made with the socket */
	snprintf(path, sizeof(path), "%s/run/d.sock", dir);
	is_int(ctl_server_open(loop, path, handler, NULL, &srv), 0, "a server in a missing directory");
	ok(access(path, F_OK) == 0, "its directory and socket were made");
	ctl_server_close(srv);
	snprintf(path, sizeof(path), "%s/no/such/d.sock", dir);
	ok(ctl_server_open(loop, path, handler, NULL, &srv) == -ENOENT,
	   "a directory two levels deep is not made: -ENOENT");
	evloop_free(loop);
	snprintf(path, sizeof(path), "rm -rf %s", dir);
	ok(system(path) == 0, "clean up");
	return done_testing();
}
