/* The control socket, server and asynchronous client in one event loop: answers arrive
 * whole (also large ones), a daemon that never answers times out, no daemon fails at once,
 * a cancelled request is never answered, an empty request gets an error line; the blocking
 * client's timeout bounds the whole answer of a daemon that trickles it. */
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

static void handler(void *arg, int argc, char **argv, FILE *out)
{
	int i;

	(void)arg;
	if (strcmp(argv[0], "big") == 0) {
		fprintf(out, "ok\n");
		for (i = 0; i < 20000; i++)
			fprintf(out, "line: %05d\n", i);
		return;
	}
	fprintf(out, "ok\nargs: %d\n", argc);
}

static void got(void *arg, int rc, const char *reply)
{
	(void)arg;
	answers++;
	last_rc = rc;
	last_len = reply ? strlen(reply) : 0;
	snprintf(last_reply, sizeof(last_reply), "%s", reply ? reply : "");
	ev_stop(loop);
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
 * server at path, which runs in this process's loop: 0 an answer, 3 an error line, 1 none
 * (the connection refused). */
static int call_as(const char *path, uid_t uid, gid_t gid, const char *request)
{
	pid_t pid = fork();
	int status = -1;

	if (pid == 0) {
		char *reply = NULL;

		if (setgroups(0, NULL) || setgid(gid) || setuid(uid))
			_exit(2);
		if (ctl_call(path, request, 1000, &reply) != 0)
			_exit(1);
		_exit(strncmp(reply, "error: ", 7) == 0 ? 3 : 0);
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
	is_str(last_reply, "ok\nargs: 3\n", "whole answer, words split");

	ctl_call_start(loop, path, "big", 2000, got, NULL, &req);
	run_for(3000);
	ok(last_rc == 0 && last_len == 3 + 20000 * 12, "a %zu-byte answer arrives whole", last_len);

	ctl_call_start(loop, path, "", 1000, got, NULL, &req);
	run_for(2000);
	ok(strncmp(last_reply, "error: ", 7) == 0, "an empty request gets an error line");

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
		char *reply = NULL;
		pid_t pid;

		snprintf(mute, sizeof(mute), "%s/trickle.sock", dir);
		pid = trickler(mute);
		ok(pid > 0, "a daemon that trickles its answer");
		is_int(ctl_call(mute, "status", 500, &reply), -ETIMEDOUT,
		       "the blocking client gives up at its timeout, not at the answer's end");
		free(reply);
		kill(pid, SIGKILL);
		waitpid(pid, NULL, 0);
	}
	{
		/* A hung daemon: it accepts nothing, its backlog is full. The blocking client
		 * must still give up at its timeout (SIGALRM ends a connect that would not). */
		struct sigaction sa_alrm = { .sa_handler = on_alarm };
		int lfd = socket(AF_UNIX, SOCK_STREAM, 0), filled = 0, cfd;
		char *reply = NULL;

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
		free(reply);
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
