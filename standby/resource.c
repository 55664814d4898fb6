#include "standby/resource.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/pidfd.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "common/ctlsock.h"
#include "common/log.h"
#include "standby/hbpkt.h"
#include "standby/ipaddr.h"

#define MAX_ARGV 20

/* Splits a copy of args on blanks into argv[first...]; returns the next free index. */
static int split_args(char *copy, char **argv, int first)
{
	char *save = NULL, *w;
	int n = first;

	for (w = strtok_r(copy, " \t", &save); w && n < MAX_ARGV - 2; w = strtok_r(NULL, " \t", &save))
		argv[n++] = w;
	return n;
}

/* fork + exec with a clean signal mask (the daemon blocks the signals its loop reads). */
static pid_t spawn(char **argv)
{
	pid_t pid = fork();
	sigset_t none;
	int fd;

	if (pid != 0)
		return pid < 0 ? -errno : pid;
	sigemptyset(&none);
	sigprocmask(SIG_SETMASK, &none, NULL);
	fd = open("/dev/null", O_RDWR);
	if (fd >= 0) {
		dup2(fd, 0);
		dup2(fd, 1);
		if (fd > 2)
			close(fd);
	}
	/* nothing of the helper's (pcap's packet socket and eventfd, the links, the tickles'
	 * raw socket) reaches a script or pxed, close-on-exec or not */
	close_range(3, ~0U, 0);
	setsid();
	/* systemd takes readiness from standbyd alone (NotifyAccess=main): pxed run as a
	 * resource must not speak for the unit */
	unsetenv("NOTIFY_SOCKET");
	execv(argv[0], argv);
	_exit(127);
}

/* Waits up to timeout_ms for pid to exit, then kills it; reaps it either way. Without a
 * pidfd to wait on (out of descriptors), killed at once: the wait must stay bounded. */
static void wait_or_kill(pid_t pid, int timeout_ms)
{
	int pfd = pidfd_open(pid, 0), rc = 0;
	struct pollfd p;

	if (pfd >= 0) {
		p.fd = pfd;
		p.events = POLLIN;
		do
			rc = poll(&p, 1, timeout_ms);
		while (rc < 0 && errno == EINTR);
		close(pfd);
	}
	if (rc <= 0)	/* the time passed, or no way to wait: killed, so the wait below ends */
		kill(pid, SIGKILL);
	while (waitpid(pid, NULL, 0) < 0 && errno == EINTR)
		;
}

/* Starts path ARGS... ACTION (args split on blanks); returns a pidfd for it, or a negative
 * errno. */
static int spawn_script(struct res_runtime *rt, const char *args, const char *action)
{
	char copy[HA_RES_ARG_MAX];
	char *argv[MAX_ARGV];
	int n, fd;
	pid_t pid;

	snprintf(copy, sizeof(copy), "%s", args);
	argv[0] = rt->script;
	n = split_args(copy, argv, 1);
	argv[n++] = (char *)action;
	argv[n] = NULL;
	pid = spawn(argv);
	if (pid < 0)
		return (int)pid;
	fd = pidfd_open(pid, 0);
	if (fd < 0) {
		fd = -errno;
		kill(pid, SIGKILL);
		waitpid(pid, NULL, 0);
		return fd;
	}
	rt->script_pid = pid;
	return fd;
}

int res_finish(struct res_runtime *rt, enum res_op op)
{
	int status = 0;

	if (!rt->script_pid)
		return -ECHILD;
	while (waitpid(rt->script_pid, &status, 0) < 0 && errno == EINTR)
		;
	rt->script_pid = 0;
	if (rt->stopping_pxed) {
		rt->stopping_pxed = 0;
		return 0;	/* stopped: its SIGTERM's status is no failure */
	}
	if (!WIFEXITED(status))
		return -EINTR;	/* killed by a signal */
	/* LSB status: 0 running, 1-3 stopped or dead, 4 unknown. */
	if (op == RES_STATUS)
		return WEXITSTATUS(status) ? -ESRCH : 0;
	return WEXITSTATUS(status) ? -ECHILD : 0;
}

void res_abort(struct res_runtime *rt)
{
	if (!rt->script_pid)
		return;
	kill(rt->script_pid, SIGKILL);
	waitpid(rt->script_pid, NULL, 0);
	rt->script_pid = 0;
	rt->stopping_pxed = 0;
}

unsigned res_limit_ms(const struct ha_resource *r, enum res_op op)
{
	if (r->kind == HA_RES_PXED)
		return RES_PXED_STOP_MS;
	return op == RES_STATUS ? RES_STATUS_TIMEOUT_MS : RES_SCRIPT_TIMEOUT_MS;
}

int res_expire(struct res_runtime *rt)
{
	int pxed = rt->stopping_pxed;

	res_abort(rt);
	return pxed ? 0 : -ETIMEDOUT;
}

int res_prepare(const struct ha_config *c, const struct ha_resource *r, struct res_runtime *rt,
		struct cfg_err *err)
{
	struct stat st;
	int rc;

	memset(rt, 0, sizeof(*rt));
	switch (r->kind) {
	case HA_RES_IPADDR:
		if (r->ifname[0] && r->prefix) {
			snprintf(rt->ifname, sizeof(rt->ifname), "%s", r->ifname);
			rt->prefix = r->prefix;
			break;
		}
		rc = ipaddr_find_if(r->addr, rt->ifname, &rt->prefix);
		if (rc) {
			snprintf(err->msg, sizeof(err->msg), "IPaddr::%s: no interface with a subnet "
				 "holding it; give ADDR/PREFIX/IF", r->arg);
			return rc;
		}
		if (r->ifname[0])
			snprintf(rt->ifname, sizeof(rt->ifname), "%s", r->ifname);
		if (r->prefix)
			rt->prefix = r->prefix;
		break;
	case HA_RES_LSB:
		/* Heartbeat's search order: its own resource.d, then the system's scripts. */
		snprintf(rt->script, sizeof(rt->script), "%s/resource.d/%s", c->dir, r->name);
		if (stat(rt->script, &st) == 0 && S_ISREG(st.st_mode))
			break;
		snprintf(rt->script, sizeof(rt->script), "/etc/init.d/%s", r->name);
		if (stat(rt->script, &st) == 0 && S_ISREG(st.st_mode))
			break;
		snprintf(err->msg, sizeof(err->msg), "resource %s: no script %s/resource.d/%s or "
			 "/etc/init.d/%s", r->name, c->dir, r->name, r->name);
		return -ENOENT;
	case HA_RES_VDISKD:
	case HA_RES_PXED:
		break;
	}
	return 0;
}

const char *res_vdiskd_socket(const struct ha_resource *r)
{
	return *r->arg ? r->arg : RES_VDISKD_SOCK;
}

const char *res_vdiskd_request(enum res_op op)
{
	static const char *const req[] = { "role primary", "role secondary", "status" };

	return req[op];
}

/* The string member key of vdiskd's answer; NULL when missing or not a string. */
static const char *answer_word(const json_t *answer, const char *key)
{
	return json_string_value(json_object_get(answer, key));
}

int res_vdiskd_result(enum res_op op, int rc, const json_t *answer)
{
	const char *error, *role;

	if (rc)
		return rc;
	error = ctl_error(answer);
	if (error) {
		log_warn("vdiskd answered '%s': %.200s", res_vdiskd_request(op), error);
		return -EIO;
	}
	/* Only the active node checks its vdiskd's status. One that says secondary was
	 * restarted (by its service manager, in the role it starts in) between two checks: not
	 * running as the resource, so the monitor's restart tells it primary again. */
	role = answer_word(answer, "role");
	if (op == RES_STATUS && role && strcmp(role, "secondary") == 0) {
		log_warn("vdiskd is in the secondary role on the active node (restarted?)");
		return -ESRCH;
	}
	return 0;
}

int res_vdiskd_mirror(const json_t *answer)
{
	static const struct { const char *name; enum hb_repl repl; } states[] = {
		{ "off", HB_REPL_IN_SYNC }, { "in-sync", HB_REPL_IN_SYNC },
		{ "syncing", HB_REPL_SYNCING }, { "degraded", HB_REPL_DEGRADED },
		/* hot-standby clients without a mirror: their writes are here only, as while
		 * degraded (a value of its own would need both nodes upgraded: hbpkt.h) */
		{ "unprotected", HB_REPL_DEGRADED },
		{ "split-brain", HB_REPL_SPLIT_BRAIN },
	};
	size_t i;
	const char *v = ctl_error(answer) ? NULL : answer_word(answer, "mirror");

	for (i = 0; v && i < sizeof(states) / sizeof(states[0]); i++)
		if (strcmp(v, states[i].name) == 0)
			return states[i].repl;
	return HB_REPL_UNKNOWN;
}

int res_vdiskd_primary(const json_t *answer)
{
	const char *v = ctl_error(answer) ? NULL : answer_word(answer, "role");

	return v && strcmp(v, "primary") == 0;
}

int res_vdiskd_fencing(const json_t *answer)
{
	const json_t *fence = json_object_get(answer, "fence");
	const char *v = ctl_error(answer) || !json_is_object(fence) ? NULL :
		json_string_value(json_object_get(fence, "state"));

	return v && (strcmp(v, "asking") == 0 || strcmp(v, "done") == 0);
}

static int pxed_status(struct res_runtime *rt)
{
	if (!rt->pid)
		return -ESRCH;
	if (waitpid(rt->pid, NULL, WNOHANG) != 0) {
		rt->pid = 0;
		return -ESRCH;
	}
	return 0;
}

static int pxed_start(const struct ha_resource *r, struct res_runtime *rt)
{
	char copy[HA_RES_ARG_MAX];
	char *argv[MAX_ARGV];
	int n;
	pid_t pid;

	if (pxed_status(rt) == 0)
		return 0;
	snprintf(copy, sizeof(copy), "%s", *r->arg ? r->arg : RES_PXED_CMD);
	n = split_args(copy, argv, 0);
	argv[n] = NULL;
	pid = spawn(argv);
	if (pid < 0)
		return (int)pid;
	rt->pid = pid;
	return 0;
}

/* At exit: stopped either way, by SIGTERM or by the SIGKILL past the limit. */
static void pxed_stop(struct res_runtime *rt)
{
	if (!rt->pid)
		return;
	kill(rt->pid, SIGTERM);
	wait_or_kill(rt->pid, RES_PXED_STOP_MS);
	rt->pid = 0;
}

/* The resource's stop: SIGTERM, then waited for like a script (a pidfd), so that a pxed slow
 * to exit holds no one up; past RES_PXED_STOP_MS, res_expire kills it. */
static int pxed_stop_begin(struct res_runtime *rt, int *pidfd)
{
	int fd;

	if (pxed_status(rt) != 0)
		return 0;	/* none, or it exited (reaped) */
	fd = pidfd_open(rt->pid, 0);
	if (fd < 0) {
		pxed_stop(rt);
		return 0;
	}
	kill(rt->pid, SIGTERM);
	rt->script_pid = rt->pid;
	rt->stopping_pxed = 1;
	rt->pid = 0;
	*pidfd = fd;
	return -EINPROGRESS;
}

static int ipaddr_op(const struct ha_resource *r, struct res_runtime *rt, enum res_op op)
{
	int rc;

	switch (op) {
	case RES_START:
		return ipaddr_add(rt->ifname, r->addr, rt->prefix);
	case RES_STOP:
		return ipaddr_del(rt->ifname, r->addr, rt->prefix);
	case RES_STATUS:
		break;
	}
	rc = ipaddr_is_local(r->addr);
	return rc < 0 ? rc : rc ? 0 : -ESRCH;
}

int res_begin(const struct ha_resource *r, struct res_runtime *rt, enum res_op op, int *pidfd)
{
	static const char *const lsb_action[] = { "start", "stop", "status" };

	switch (r->kind) {
	case HA_RES_IPADDR:
		return ipaddr_op(r, rt, op);
	case HA_RES_LSB:
		*pidfd = spawn_script(rt, r->arg, lsb_action[op]);
		return *pidfd < 0 ? *pidfd : -EINPROGRESS;
	case HA_RES_VDISKD:
		return -EOPNOTSUPP;	/* asynchronous: the daemon's loop asks vdiskd */
	case HA_RES_PXED:
		return op == RES_START ? pxed_start(r, rt) : op == RES_STOP
		       ? pxed_stop_begin(rt, pidfd) : pxed_status(rt);
	}
	return -EINVAL;
}

void res_release_children(const struct ha_resource *r, struct res_runtime *rt)
{
	res_abort(rt);
	if (r->kind == HA_RES_PXED)
		pxed_stop(rt);
}
