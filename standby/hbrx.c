/* The heartbeat receiver process; see hbrx.h. */
#include "standby/hbrx.h"

#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <poll.h>
#include <pwd.h>
#include <sched.h>
#include <seccomp.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "common/log.h"
#include "standby/ready.h"

#define READY_TIMEOUT_MS 1000	/* it takes a few ms; the loop waits meanwhile */
#define RX_BATCH 64		/* packets read from one link before looking at the others */
#define UP_FD 3			/* the receiver's descriptors: its end of the pair, */
#define LINK_FD0 4		/* then the links in order */

struct rx_state {
	unsigned n;
	const struct ha_config *cfg;	/* the child's copy, its ship key wiped */
	struct hb_window win;
	uint32_t pending[HB_MAX_LINKS][HB_DROP_NKINDS];
	int npending;
	uint64_t sent_ms;		/* when the last record went up */
};

static uint64_t mono_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

/* ---- the receiver (child) ---- */

static __attribute__((noreturn)) void rx_fail(const char *what)
{
	fprintf(stderr, "standbyd: heartbeat receiver: %s: %s\n", what, strerror(errno));
	_exit(1);
}

/* Gives the receiver its end of the pair as UP_FD and the links from LINK_FD0, /dev/null
 * as stdin and stdout, and closes everything else (raw sockets, the database, the control
 * socket). stderr stays: standbyd made sure at start that it is no socket or file of its
 * own (standbyd.c). */
static void rx_keep_fds(int up, const int *fds, unsigned n)
{
	int src[HB_MAX_LINKS + 1], tmp[HB_MAX_LINKS + 1], hi = LINK_FD0 + (int)n, null;
	unsigned i;

	src[0] = up;
	memcpy(src + 1, fds, n * sizeof(*fds));
	for (i = 0; i <= n; i++)
		if (src[i] > hi)
			hi = src[i];
	/* above every source and every target first, so no dup2 lands on one still needed */
	for (i = 0; i <= n; i++)
		if ((tmp[i] = fcntl(src[i], F_DUPFD, hi + 1)) < 0)
			rx_fail("dup");
	for (i = 0; i <= n; i++)
		if (dup2(tmp[i], UP_FD + (int)i) < 0)
			rx_fail("dup2");
	if (close_range(LINK_FD0 + n, ~0u, 0) < 0)
		rx_fail("close_range");
	null = open("/dev/null", O_RDWR);
	if (null < 0 || dup2(null, STDIN_FILENO) < 0 || dup2(null, STDOUT_FILENO) < 0)
		rx_fail("/dev/null");
	if (null > STDERR_FILENO)
		close(null);
}

/* Root no more, for good: the user's ids, no groups, no capabilities (setresuid to non-zero
 * clears them), no way back through exec (NO_NEW_PRIVS), no ptrace by that user (not
 * dumpable), no new file or socket (NOFILE at the descriptors held), no child. Writes are
 * the seccomp filter's to bar: a file-size limit would kill it for a line on a stderr that
 * is a log file. */
static void rx_drop(uid_t uid, gid_t gid, const char *root, unsigned n)
{
	struct rlimit nofile = { LINK_FD0 + n, LINK_FD0 + n }, zero = { 0, 0 };

	if (chroot(root) < 0 || chdir("/") < 0)
		rx_fail("chroot");
	if (setgroups(0, NULL) < 0 || setresgid(gid, gid, gid) < 0 || setresuid(uid, uid, uid) < 0)
		rx_fail("dropping root");
	if (setuid(0) == 0 || setgid(0) == 0) {
		errno = EPERM;
		rx_fail("root could be taken back");
	}
	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0 || prctl(PR_SET_DUMPABLE, 0, 0, 0, 0) < 0)
		rx_fail("prctl");
	if (setrlimit(RLIMIT_NOFILE, &nofile) < 0 || setrlimit(RLIMIT_NPROC, &zero) < 0)
		rx_fail("rlimits");
}

int hbrx_seccomp(void)
{
	static const int any_fd[] = {
		SCMP_SYS(read), SCMP_SYS(recvfrom), SCMP_SYS(recvmsg), SCMP_SYS(poll),
		SCMP_SYS(ppoll), SCMP_SYS(clock_gettime), SCMP_SYS(gettimeofday),
		SCMP_SYS(exit), SCMP_SYS(exit_group), SCMP_SYS(rt_sigreturn),
		SCMP_SYS(restart_syscall), SCMP_SYS(brk), SCMP_SYS(mmap), SCMP_SYS(munmap),
		SCMP_SYS(mremap), SCMP_SYS(madvise), SCMP_SYS(futex), SCMP_SYS(getrandom),
		SCMP_SYS(getpid), SCMP_SYS(gettid), SCMP_SYS(sched_yield),
		/* the sanitizers' runtime, on its way out */
		SCMP_SYS(sigaltstack), SCMP_SYS(rt_sigprocmask),
	};
	static const int up_only[] = { SCMP_SYS(sendto), SCMP_SYS(sendmsg) };
	static const int up_or_stderr[] = { SCMP_SYS(write), SCMP_SYS(writev) };
	const struct scmp_arg_cmp on_up = { .arg = 0, .op = SCMP_CMP_EQ, .datum_a = UP_FD };
	const struct scmp_arg_cmp on_stderr = { .arg = 0, .op = SCMP_CMP_EQ,
						.datum_a = STDERR_FILENO };
	scmp_filter_ctx ctx = seccomp_init(SCMP_ACT_ERRNO(EPERM));
	int rc = ctx ? 0 : -ENOMEM;
	unsigned i;

	for (i = 0; !rc && i < sizeof(any_fd) / sizeof(any_fd[0]); i++)
		rc = seccomp_rule_add(ctx, SCMP_ACT_ALLOW, any_fd[i], 0);
	for (i = 0; !rc && i < sizeof(up_only) / sizeof(up_only[0]); i++)
		rc = seccomp_rule_add_array(ctx, SCMP_ACT_ALLOW, up_only[i], 1, &on_up);
	for (i = 0; !rc && i < sizeof(up_or_stderr) / sizeof(up_or_stderr[0]); i++) {
		rc = seccomp_rule_add_array(ctx, SCMP_ACT_ALLOW, up_or_stderr[i], 1, &on_up);
		if (!rc)
			rc = seccomp_rule_add_array(ctx, SCMP_ACT_ALLOW, up_or_stderr[i], 1,
						    &on_stderr);
	}
	if (!rc)
		rc = seccomp_load(ctx);
	seccomp_release(ctx);
	return rc;
}

static int rx_send(struct rx_state *s, const struct hbrx_rec *r)
{
	if (send(UP_FD, r, sizeof(*r), MSG_DONTWAIT) != (ssize_t)sizeof(*r))
		return -1;
	s->sent_ms = mono_ms();
	return 0;
}

/* The drop counts since the last flush, one record per link and reason. A count the parent
 * has no room for yet stays pending. */
static void rx_flush(struct rx_state *s)
{
	struct hbrx_rec r;
	unsigned l, why;

	memset(&r, 0, sizeof(r));
	s->npending = 0;
	for (l = 0; l < s->n; l++)
		for (why = HB_DROP_MALFORMED; why < HB_DROP_NKINDS; why++) {
			if (!s->pending[l][why])
				continue;
			r.link = (uint8_t)l;
			r.why = (uint8_t)why;
			r.count = s->pending[l][why];
			if (rx_send(s, &r) == 0)
				s->pending[l][why] = 0;
			else
				s->npending = 1;
		}
}

/* Nothing to say for a while: that it is alive, so a stuck receiver can be told apart. */
static void rx_alive(struct rx_state *s)
{
	struct hbrx_rec r;

	memset(&r, 0, sizeof(r));
	rx_send(s, &r);
}

/* One packet: checked as the parent will check it, with a window of the receiver's own. An
 * accepted one (or an accepted one's copy by another link) goes up at once; if the parent's
 * queue is full it is lost, as one the kernel's would drop. Our own, looped back, is not
 * news; the rest are counted. */
static void rx_packet(struct rx_state *s, unsigned l, const uint8_t *buf, size_t len)
{
	const struct ha_config *c = s->cfg;
	struct hbrx_rec r;
	struct hb_msg msg;
	enum hb_drop why = hb_decode(buf, len, &c->keys, &msg);

	if (why == HB_OK)
		why = hb_accept(&msg, c->cf.cluster, c->node, c->peer, hb_wall_ms(), l, &s->win);
	if (why == HB_DROP_SELF)
		return;
	if (why != HB_OK && why != HB_DROP_DUP) {
		if (s->pending[l][why] < UINT32_MAX)
			s->pending[l][why]++;
		s->npending = 1;
		return;
	}
	memset(&r, 0, sizeof(r));
	r.link = (uint8_t)l;
	r.len = (uint16_t)len;
	r.count = 1;
	memcpy(r.pkt, buf, len);
	rx_send(s, &r);
}

/* What is queued on one link, up to RX_BATCH packets. */
static void rx_link(struct rx_state *s, unsigned l)
{
	uint8_t buf[HB_LEN + 1];
	unsigned budget = RX_BATCH;
	ssize_t got;

	/* MSG_TRUNC returns the datagram's real length, so an oversize one is seen as such. */
	while (budget-- && (got = recv(LINK_FD0 + (int)l, buf, sizeof(buf),
				       MSG_DONTWAIT | MSG_TRUNC)) >= 0)
		rx_packet(s, l, buf, (size_t)got > sizeof(buf) ? sizeof(buf) : (size_t)got);
}

static __attribute__((noreturn)) void rx_loop(struct rx_state *s)
{
	struct pollfd pfd[HB_MAX_LINKS + 1];
	uint64_t flushed = mono_ms();
	unsigned i;

	pfd[0] = (struct pollfd){ .fd = UP_FD, .events = POLLIN };
	for (i = 0; i < s->n; i++)
		pfd[1 + i] = (struct pollfd){ .fd = LINK_FD0 + (int)i, .events = POLLIN };
	for (;;) {
		uint64_t now = mono_ms(), next = s->sent_ms + HBRX_FLUSH_MS;

		if (s->npending && flushed + HBRX_FLUSH_MS < next)
			next = flushed + HBRX_FLUSH_MS;
		if (poll(pfd, s->n + 1, next > now ? (int)(next - now) : 0) < 0 && errno != EINTR)
			rx_fail("poll");
		/* the parent never writes: anything on the pair is its end closing */
		if (pfd[0].revents)
			_exit(0);
		for (i = 0; i < s->n; i++)
			if (pfd[1 + i].revents)
				rx_link(s, i);
		now = mono_ms();
		if (s->npending && now - flushed >= HBRX_FLUSH_MS) {
			rx_flush(s);
			flushed = now;
		}
		if (now - s->sent_ms >= HBRX_FLUSH_MS) {
			rx_alive(s);
			s->sent_ms = now;	/* tried: with the pair full, not again at once */
		}
	}
}

struct rx_setup {
	int up;
	const int *fds;
	unsigned n;
	const struct ha_config *cfg;
	int realtime;
	uid_t uid;
	gid_t gid;
	const char *root;
};

static __attribute__((noreturn)) void rx_child(const struct rx_setup *c)
{
	/* static: the configuration's copy and a flood's counts are not for a small stack */
	static struct ha_config cfg;
	static struct rx_state s;
	struct sched_param sp = { .sched_priority = 1 };
	uint8_t warm[HB_LEN] = { 0 };
	const char ready = 1;
	int rc;

	prctl(PR_SET_NAME, "standbyd-rx", 0, 0, 0);	/* for ps and the admin */
	/* The parent's SCHED_RESET_ON_FORK made this an ordinary process; heartbeats are read
	 * here now, so it needs the parent's priority back (while it may still set it). */
	if (c->realtime)
		sched_setscheduler(0, SCHED_RR | SCHED_RESET_ON_FORK, &sp);
	rx_keep_fds(c->up, c->fds, c->n);
	cfg = *c->cfg;
	/* DB shipping's key is none of its business (hb_decode refuses it anyway) */
	if (cfg.keys.ship)
		memset(&cfg.keys.keys[cfg.keys.ship], 0, sizeof(cfg.keys.keys[0]));
	/* OpenSSL reads its configuration and loads its providers and each digest at first
	 * use: that happens here, for every listed key (the peer may sign with any of them
	 * during a key change), while files and system calls are still in reach. */
	for (unsigned k = 0; k < HA_MAX_KEYS; k++)
		if (cfg.keys.keys[k].alg != HA_AUTH_NONE)
			hb_sign(warm, HB_LEN, &cfg.keys, k);
	rx_drop(c->uid, c->gid, c->root, c->n);
	rc = hbrx_seccomp();
	if (rc) {
		errno = -rc;
		rx_fail("seccomp");
	}
	s.n = c->n;
	s.cfg = &cfg;
	if (send(UP_FD, &ready, 1, 0) != 1)
		rx_fail("ready");
	s.sent_ms = mono_ms();
	rx_loop(&s);
}

/* ---- the parent's side ---- */

/* The user to run as, looked up once: NSS may be slow, and a restart runs on the loop. */
static int find_user(struct hbrx *rx)
{
	const struct passwd *pw;

	if (rx->uid)
		return 0;
	pw = getpwnam(HBRX_USER);
	if (!pw) {
		pw = getpwnam(HBRX_USER_FALLBACK);
		if (pw)
			log_warn("heartbeat receiver: no user %s (the packages make it): running "
				 "it as %s, which other daemons may share", HBRX_USER,
				 HBRX_USER_FALLBACK);
	}
	if (!pw || !pw->pw_uid) {
		log_err("heartbeat receiver: no user %s or %s to run as", HBRX_USER,
			HBRX_USER_FALLBACK);
		return -ENOENT;
	}
	rx->uid = pw->pw_uid;
	rx->gid = pw->pw_gid;
	return 0;
}

int hbrx_start(struct hbrx *rx, const int *fds, unsigned n, const struct ha_config *cfg,
	       int realtime)
{
	char root[] = "/tmp/standbyd-rx.XXXXXX";
	struct rx_setup c = { .fds = fds, .n = n, .cfg = cfg, .realtime = realtime,
			      .root = root };
	int sv[2], rc;

	rx->pid = 0;
	rx->fd = -1;
	if (n > HB_MAX_LINKS) {
		log_err("heartbeat receiver: %u links, at most %d", n, HB_MAX_LINKS);
		return -EINVAL;
	}
	rc = find_user(rx);
	if (rc)
		return rc;
	c.uid = rx->uid;
	c.gid = rx->gid;
	/* An empty directory only root may enter, removed once the receiver is inside: its
	 * root is then a directory nothing can be created in. */
	if (!mkdtemp(root)) {
		rc = -errno;
		log_err("heartbeat receiver: mkdtemp %s: %s", root, strerror(-rc));
		return rc;
	}
	if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) < 0) {
		rc = -errno;
		goto out_rmdir;
	}
	c.up = sv[1];
	rx->pid = fork();
	if (rx->pid == 0)
		rx_child(&c);
	rc = rx->pid < 0 ? -errno : 0;
	close(sv[1]);
	rx->fd = sv[0];
	if (rc) {
		rx->pid = 0;
		goto out_stop;
	}
	rc = ready_wait(rx->fd, READY_TIMEOUT_MS);
	if (rc)
		goto out_stop;
	if (fcntl(rx->fd, F_SETFL, O_NONBLOCK) < 0) {
		rc = -errno;
		goto out_stop;
	}
	rmdir(root);
	return 0;

out_stop:
	hbrx_stop(rx);
out_rmdir:
	rmdir(root);
	log_err("heartbeat receiver: could not start it: %s", strerror(-rc));
	return rc;
}

void hbrx_stop(struct hbrx *rx)
{
	if (rx->pid > 0) {
		kill(rx->pid, SIGKILL);
		while (waitpid(rx->pid, NULL, 0) < 0 && errno == EINTR)
			;
	}
	if (rx->fd >= 0)
		close(rx->fd);
	rx->pid = 0;
	rx->fd = -1;
}

int hbrx_rec_check(const void *buf, size_t got, unsigned nlinks)
{
	struct hbrx_rec r;

	if (got != sizeof(r))
		return -EPROTO;
	memcpy(&r, buf, sizeof(r));
	if (r.link >= nlinks)
		return -EPROTO;
	if (r.why == HB_OK) {
		if (r.len == 0 && r.count == 0)
			return 0;	/* alive */
		return (r.len == HB_LEN || r.len == HB_V1_LEN) && r.count == 1 ? 0 : -EPROTO;
	}
	/* drops the receiver counts: not our own packets or copies, which it passes quietly */
	if (r.why < HB_DROP_MALFORMED || r.why >= HB_DROP_SELF)
		return -EPROTO;
	return r.len == 0 && r.count > 0 ? 0 : -EPROTO;
}

int hbrx_read(struct hbrx *rx, unsigned nlinks, struct hbrx_rec *rec)
{
	/* one byte more than a record, so a longer message is seen as such */
	uint8_t buf[sizeof(*rec) + 1];
	ssize_t got;

	if (rx->fd < 0)
		return -EPIPE;
	got = recv(rx->fd, buf, sizeof(buf), MSG_DONTWAIT | MSG_TRUNC);
	if (got < 0)
		return errno == EAGAIN || errno == EINTR ? 0 : -EPIPE;
	if (got == 0)
		return -EPIPE;
	if (hbrx_rec_check(buf, (size_t)got, nlinks)) {
		log_err("heartbeat receiver sent a record that is not one (%zd bytes): it is "
			"not to be trusted", got);
		return -EPROTO;
	}
	memcpy(rec, buf, sizeof(*rec));
	return 1;
}
