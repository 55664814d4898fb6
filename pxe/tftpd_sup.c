#include "pxe/tftpd_sup.h"

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "common/log.h"
#include "common/netaddr.h"

static int spawn(struct tftpd_sup *t)
{
	char addr[INET_ADDRSTRLEN + 8], ip[INET_ADDRSTRLEN];
	sigset_t all;
	pid_t pid;

	ipv4_format(t->conf->service_address, ip);
	snprintf(addr, sizeof(addr), "%s:69", ip);
	pid = fork();
	if (pid < 0)
		return -errno;
	if (pid == 0) {
		/* The loop blocks signals for signalfd: the child must get them back. Dying with
		 * pxed, even on SIGKILL, keeps a stale in.tftpd from holding the port. */
		sigemptyset(&all);
		sigprocmask(SIG_SETMASK, &all, NULL);
		prctl(PR_SET_PDEATHSIG, SIGTERM);
		execl(t->conf->tftpd, t->conf->tftpd, "--foreground", "--secure", "--ipv4",
		      "--address", addr, "--user", t->conf->tftp_user, t->conf->tftp_root,
		      (char *)NULL);
		fprintf(stderr, "pxed: cannot run %s: %s\n", t->conf->tftpd, strerror(errno));
		_exit(127);
	}
	t->pid = pid;
	t->started_ms = ev_now_ms();
	log_info("tftp: started %s (pid %d) on %s, root %s", t->conf->tftpd, (int)pid, addr,
		 t->conf->tftp_root);
	return 0;
}

static void restart_fn(struct ev_timer *tm)
{
	struct tftpd_sup *t = tm->arg;
	int rc;

	if (t->stopping || t->pid)
		return;
	t->restarts++;
	rc = spawn(t);
	if (rc) {
		log_err("tftp: cannot fork in.tftpd: %s", strerror(-rc));
		ev_timer_arm(t->loop, &t->restart, t->backoff_ms);
	}
}

int tftpd_sup_start(struct tftpd_sup *t, struct evloop *loop, const struct pxe_conf *conf)
{
	memset(t, 0, sizeof(*t));
	t->loop = loop;
	t->conf = conf;
	t->backoff_ms = TFTPD_BACKOFF_MIN_MS;
	ev_timer_init(&t->restart, restart_fn, t);
	return spawn(t);
}

static void describe(int status, char *buf, size_t len)
{
	if (WIFEXITED(status))
		snprintf(buf, len, "exited with status %d", WEXITSTATUS(status));
	else if (WIFSIGNALED(status))
		snprintf(buf, len, "killed by signal %d", WTERMSIG(status));
	else
		snprintf(buf, len, "stopped (status %#x)", status);
}

int tftpd_sup_reap(struct tftpd_sup *t)
{
	int status;
	uint64_t ran;

	if (!t->pid || waitpid(t->pid, &status, WNOHANG) != t->pid)
		return 0;
	t->pid = 0;
	describe(status, t->last_exit, sizeof(t->last_exit));
	if (t->stopping)
		return 1;
	ran = ev_now_ms() - t->started_ms;
	if (ran >= TFTPD_STABLE_MS)
		t->backoff_ms = TFTPD_BACKOFF_MIN_MS;
	log_warn("tftp: in.tftpd %s after %llu ms; restarting in %u ms", t->last_exit,
		 (unsigned long long)ran, t->backoff_ms);
	ev_timer_arm(t->loop, &t->restart, t->backoff_ms);
	t->backoff_ms = t->backoff_ms * 2 > TFTPD_BACKOFF_MAX_MS ? TFTPD_BACKOFF_MAX_MS
								 : t->backoff_ms * 2;
	return 1;
}

void tftpd_sup_stop(struct tftpd_sup *t)
{
	struct timespec pause = { 0, 20 * 1000 * 1000 };
	int i, status;

	t->stopping = 1;
	if (t->loop)
		ev_timer_cancel(t->loop, &t->restart);
	if (!t->pid)
		return;
	kill(t->pid, SIGTERM);
	for (i = 0; i < 100; i++) {
		if (waitpid(t->pid, &status, WNOHANG) == t->pid)
			goto out_reaped;
		nanosleep(&pause, NULL);
	}
	log_warn("tftp: in.tftpd (pid %d) ignored SIGTERM for 2 s; killing it", (int)t->pid);
	kill(t->pid, SIGKILL);
	waitpid(t->pid, &status, 0);
out_reaped:
	log_info("tftp: stopped in.tftpd (pid %d)", (int)t->pid);
	t->pid = 0;
}
