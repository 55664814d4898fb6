/* The privileged helper and its requests; see privop.h. */
#include "standby/privop.h"

#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <poll.h>
#include <pwd.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/pidfd.h>
#include <linux/capability.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "common/log.h"
#include "standby/ready.h"
#include "standby/tcpack.h"

#define READY_TIMEOUT_MS 1000
#define PRIVOP_FRAME_BUF (2 << 20)	/* the frame pair's send buffer, bytes */
/* vdiskd's user (deploy/systemd/vdiskd.service): the only peer the helper sends its request
 * to, whatever the socket's directory (writable by the loop's group) holds by then */
#define VDISKD_USER "vdisk"
#define UID_NONE ((uid_t)-1)

/* The helper's own state, in its own memory. */
struct helper {
	const struct ha_config *cfg;
	struct res_runtime *rt;
	struct arp_port *arp;
	struct pinger *ping;
	int tickle_fd;
	const int *link_fds;
	unsigned nlinks;
	int fd, exit_fd, frame_fd;	/* its ends of the pairs */
	uint32_t served_seq;		/* the last request served, for the frame records */
	uint32_t arp_lost;		/* claims the frame pair had no room for */
	int pidfd;			/* the script running now, or -1 */
	unsigned script_idx;
	enum res_op script_op;
	uint32_t script_seq;
	uint64_t deadline_ms;		/* its limit (monotonic) */
	uid_t vdiskd_uid;	/* VDISKD_USER's; UID_NONE without it (then root only) */
	struct hbrx rx;
	struct log_ratelimit rl;
};

static uint64_t mono_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

/* ---- the request check (pure: the unit test and the fuzz target call it) ---- */

static int is_svc_addr(const struct ha_config *cfg, uint32_t addr)
{
	unsigned i;

	for (i = 0; i < cfg->res.nres; i++)
		if (cfg->res.res[i].kind == HA_RES_IPADDR && cfg->res.res[i].addr == addr)
			return 1;
	return 0;
}

int privop_req_check(const void *buf, size_t got, const struct ha_config *cfg)
{
	struct privop_req r;
	int args;	/* the fields the kind uses: 1 idx, 2 op, 4 the connection */

	if (got != sizeof(r))
		return -EMSGSIZE;
	memcpy(&r, buf, sizeof(r));
	if (r.magic != PRIVOP_MAGIC || r.zero)
		return -EBADMSG;
	switch (r.kind) {
	case PRIVOP_RES:
	case PRIVOP_VDISKD:
		args = 1 | 2;
		break;
	case PRIVOP_ARP_PROBE:
	case PRIVOP_ARP_GARP:
	case PRIVOP_PING:
		args = 1;
		break;
	case PRIVOP_TICKLE:
		args = 4;
		break;
	case PRIVOP_RES_CANCEL:
	case PRIVOP_RX_START:
	case PRIVOP_RX_STOP:
	case PRIVOP_SYNC:
		args = 0;
		break;
	default:
		return -EOPNOTSUPP;
	}
	/* a field the kind does not use must be 0: nothing rides along unchecked */
	if ((!(args & 1) && r.idx) || (!(args & 2) && r.op) ||
	    (!(args & 4) && (r.laddr || r.raddr || r.lport || r.rport)))
		return -EBADMSG;
	switch (r.kind) {
	case PRIVOP_RES:
		if (r.idx >= cfg->res.nres)
			return -ERANGE;
		if (r.op > RES_STATUS)
			return -EINVAL;
		/* vdiskd is asked on its socket (PRIVOP_VDISKD) */
		return cfg->res.res[r.idx].kind == HA_RES_VDISKD ? -EINVAL : 0;
	case PRIVOP_VDISKD:
		if (r.idx >= cfg->res.nres)
			return -ERANGE;
		if (r.op > RES_STATUS)
			return -EINVAL;
		return cfg->res.res[r.idx].kind == HA_RES_VDISKD ? 0 : -EINVAL;
	case PRIVOP_ARP_PROBE:
	case PRIVOP_ARP_GARP:
		if (r.idx >= cfg->res.nres)
			return -ERANGE;
		return cfg->res.ipaddr_idx >= 0 && r.idx == (unsigned)cfg->res.ipaddr_idx
		       ? 0 : -EINVAL;
	case PRIVOP_PING:
		return r.idx < cfg->cf.nping ? 0 : -ERANGE;
	case PRIVOP_TICKLE:
		if (!r.lport || !r.rport || !r.raddr)
			return -EINVAL;
		return is_svc_addr(cfg, r.laddr) ? 0 : -EINVAL;
	}
	return 0;
}

/* ---- the helper (child) ---- */

/* Closes every descriptor above stderr but the n in keep (which it sorts). */
static void keep_only(int *keep, unsigned n)
{
	unsigned i, j, next = STDERR_FILENO + 1;

	for (i = 1; i < n; i++)
		for (j = i; j > 0 && keep[j - 1] > keep[j]; j--) {
			int t = keep[j];

			keep[j] = keep[j - 1];
			keep[j - 1] = t;
		}
	for (i = 0; i < n; i++) {
		if (keep[i] < (int)next)
			continue;
		if ((unsigned)keep[i] > next)
			close_range(next, (unsigned)keep[i] - 1, 0);
		next = (unsigned)keep[i] + 1;
	}
	close_range(next, ~0u, 0);
}

static void script_end(struct helper *h, int rc)
{
	struct privop_rep rep = { .seq = h->script_seq, .kind = PRIVOP_RES };

	close(h->pidfd);
	h->pidfd = -1;
	if (rc == 0) {
		rc = res_finish(&h->rt[h->script_idx], h->script_op);
	} else {
		rc = res_expire(&h->rt[h->script_idx]);
		log_warn("helper: resource %s: %s passed its limit (%u ms): killed",
			 h->cfg->res.res[h->script_idx].name,
			 h->script_op == RES_START ? "start" : h->script_op == RES_STOP ? "stop"
			 : "status", res_limit_ms(&h->cfg->res.res[h->script_idx], h->script_op));
	}
	rep.rc = rc;
	/* standbyd reads these at once; should it not, the pair holds many */
	send(h->exit_fd, &rep, sizeof(rep), MSG_DONTWAIT | MSG_NOSIGNAL);
}

static int do_res(struct helper *h, const struct privop_req *r)
{
	enum res_op op = (enum res_op)r->op;
	int rc, pidfd = -1;

	if (h->pidfd >= 0)
		return -EBUSY;	/* one job step at a time, as standbyd runs them */
	rc = res_begin(&h->cfg->res.res[r->idx], &h->rt[r->idx], op, &pidfd);
	if (rc != -EINPROGRESS)
		return rc;
	h->pidfd = pidfd;
	h->script_idx = r->idx;
	h->script_op = op;
	h->script_seq = r->seq;
	h->deadline_ms = mono_ms() + res_limit_ms(&h->cfg->res.res[r->idx], op);
	return rc;
}

/* Hands one frame up, unparsed: the loop, unprivileged, parses it. Never blocks us: a loop
 * that far behind loses the frame, and a lost claim of the address is counted (arp_lost),
 * so that a probe does not take silence for an answer. */
static void frame_up(struct helper *h, enum privop_frame_kind kind, const uint8_t *data,
		     size_t len)
{
	struct privop_frame f = { .seq = h->served_seq, .kind = (uint16_t)kind };

	f.len = (uint16_t)(len < PRIVOP_FRAME_MAX ? len : PRIVOP_FRAME_MAX);
	memcpy(f.data, data, f.len);
	if (send(h->frame_fd, &f, sizeof(f), MSG_DONTWAIT | MSG_NOSIGNAL) == (ssize_t)sizeof(f) ||
	    errno == EPIPE || errno == ECONNRESET)
		return;		/* sent, or standbyd is gone and we are about to be */
	if (kind == PRIVOP_FRAME_ARP)
		h->arp_lost++;
	log_limited(&h->rl, LOG_WARNING, "helper: standbyd's loop is behind: a received %s "
		    "dropped", kind == PRIVOP_FRAME_ARP ? "claim of the address" : "echo reply");
}

/* Claims of the address lost so far: the pair's, and the capture's buffer's. */
static uint32_t arp_dropped(struct helper *h)
{
	uint32_t ring = 0;

	/* a count that cannot be had is a loss: the probe must not take it for none */
	if (h->arp && arp_drops(h->arp, &ring) < 0)
		h->arp_lost++;
	return h->arp_lost + ring;
}

static void arp_up(void *arg, const uint8_t *frame, size_t len)
{
	frame_up(arg, PRIVOP_FRAME_ARP, frame, len);
}

static void icmp_up(void *arg, const uint8_t *pkt, size_t len)
{
	frame_up(arg, PRIVOP_FRAME_ICMP, pkt, len);
}

/* What the raw sockets hold now, up: a batch each, or (all) until both are empty, within
 * a bound for a flood. Returns 1 when the capture may hold more. */
#define FRAMES_ALL_BATCHES 16
static int frames_up(struct helper *h, int all)
{
	unsigned i;
	int arp_more = 0;

	for (i = 0; i < (all ? FRAMES_ALL_BATCHES : 1); i++) {
		int icmp_more = 0;

		arp_more = 0;
		/* a read that failed may have left frames behind: not proof of empty */
		if (h->arp) {
			int n = arp_read(h->arp, arp_up, h);

			arp_more = n < 0 || n == ARP_READ_BATCH;
		}
		if (h->ping->fd >= 0)
			icmp_more = pinger_recv(h->ping, icmp_up, h) == PING_READ_BATCH;
		if (!arp_more && !icmp_more)
			break;
	}
	return arp_more;
}

/* vdiskd's user's uid (VDISKD_USER: the packages make it), looked up before the loop can
 * act; UID_NONE without that user (a test, a demo, a hand-made setup: vdiskd runs as root). */
static uid_t vdiskd_expected_uid(void)
{
	const struct passwd *pw = getpwnam(VDISKD_USER);

	return pw ? pw->pw_uid : UID_NONE;
}

/* Connects to vdiskd's socket, sends the request as root (vdiskd takes a role from root
 * only: SO_PEERCRED is the connecting process's) and shuts the socket for writing, so that
 * the loop, which reads the answer on it without blocking us, can say nothing as root. The
 * directory is the loop's group's to write: it could have put a symlink there, or a socket of
 * its own. So the path must be a socket itself, and the peer vdiskd's user or root (vdiskd
 * run by hand or in a test): what another root daemon's socket could get is our one request
 * line, never the loop's words. The socket, or a negative errno. */
static int vdiskd_send(struct helper *h, unsigned idx, enum res_op op)
{
	const char *path = res_vdiskd_socket(&h->cfg->res.res[idx]);
	const char *req = res_vdiskd_request(op);
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	struct iovec iov[2] = { { (void *)req, strlen(req) }, { "\n", 1 } };
	struct msghdr mh = { .msg_iov = iov, .msg_iovlen = 2 };
	struct ucred cred;
	socklen_t clen = sizeof(cred);
	struct stat st;
	int fd, rc;

	if (strlen(path) >= sizeof(sa.sun_path))
		return -ENAMETOOLONG;
	if (lstat(path, &st) < 0)
		return -errno;
	if (!S_ISSOCK(st.st_mode)) {
		log_limited(&h->rl, LOG_ERR, "helper: %s is not a socket (a symlink?): request "
			    "not sent", path);
		return -EACCES;
	}
	memcpy(sa.sun_path, path, strlen(path) + 1);
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (fd < 0)
		return -errno;
	if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0)
		goto out_errno;
	if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &clen) < 0)
		goto out_errno;
	if (cred.uid != 0 && (h->vdiskd_uid == UID_NONE || cred.uid != h->vdiskd_uid)) {
		log_limited(&h->rl, LOG_ERR, "helper: %s is served by uid %u (pid %d), neither "
			    "vdiskd's (%s) nor root: request not sent", path, (unsigned)cred.uid,
			    (int)cred.pid, VDISKD_USER);
		close(fd);
		return -EACCES;
	}
	if (sendmsg(fd, &mh, MSG_NOSIGNAL) != (ssize_t)(iov[0].iov_len + 1) ||
	    shutdown(fd, SHUT_WR) < 0)
		goto out_errno;
	return fd;

out_errno:
	rc = -errno;
	close(fd);
	return rc ? rc : -EIO;
}

/* Carries out a checked request; *pass gets a descriptor to hand over, or stays -1. */
static int handle(struct helper *h, const struct privop_req *r, struct privop_rep *rep,
		  int *pass)
{
	const struct ha_config *c = h->cfg;
	struct tcp_conn conn;
	int rc;

	switch (r->kind) {
	case PRIVOP_RES:
		return do_res(h, r);
	case PRIVOP_RES_CANCEL:
		if (h->pidfd >= 0) {
			close(h->pidfd);
			h->pidfd = -1;
			res_abort(&h->rt[h->script_idx]);
		}
		return 0;
	case PRIVOP_ARP_PROBE:
		return h->arp ? arp_send_probe(h->arp, c->res.res[r->idx].addr) : -EBADF;
	case PRIVOP_ARP_GARP:
		return h->arp ? arp_send_garp(h->arp, c->res.res[r->idx].addr) : -EBADF;
	case PRIVOP_PING:
		return h->ping->fd >= 0 ? pinger_send(h->ping, c->cf.ping[r->idx]) : -EBADF;
	case PRIVOP_TICKLE:
		if (h->tickle_fd < 0)
			return -EBADF;
		conn = (struct tcp_conn){ .laddr = r->laddr, .raddr = r->raddr,
					  .lport = r->lport, .rport = r->rport };
		return tcpack_send(h->tickle_fd, &conn);
	case PRIVOP_RX_START:
		if (h->rx.pid)
			return -EBUSY;
		rc = hbrx_start(&h->rx, h->link_fds, h->nlinks, c, c->cf.realtime);
		if (rc)
			return rc;
		/* the end goes to standbyd; the receiver stays ours to kill and reap */
		*pass = h->rx.fd;
		h->rx.fd = -1;
		rep->pid = h->rx.pid;
		return 0;
	case PRIVOP_RX_STOP:
		hbrx_stop(&h->rx);
		return 0;
	case PRIVOP_VDISKD:
		rc = vdiskd_send(h, r->idx, (enum res_op)r->op);
		if (rc < 0)
			return rc;
		*pass = rc;
		return 0;
	case PRIVOP_SYNC:
		return 0;	/* serve() handed up what was read before it */
	}
	return -EOPNOTSUPP;
}

/* One request, one answer. -1 when standbyd's end is closed. */
static int serve(struct helper *h)
{
	uint8_t buf[sizeof(struct privop_req) + 1];
	char cbuf[CMSG_SPACE(sizeof(int))];
	struct privop_rep rep;
	struct privop_req r;
	struct iovec iov = { .iov_base = &rep, .iov_len = sizeof(rep) };
	struct msghdr mh = { .msg_iov = &iov, .msg_iovlen = 1 };
	ssize_t got;
	int pass = -1, rc;

	/* MSG_TRUNC: the real length, so an oversize record is seen as one */
	got = recv(h->fd, buf, sizeof(buf), MSG_DONTWAIT | MSG_TRUNC);
	if (got < 0)
		return errno == EAGAIN || errno == EINTR ? 0 : -1;
	if (got == 0)
		return -1;
	memset(&rep, 0, sizeof(rep));
	/* an oversize record, cut to buf, is still not one record long */
	rc = privop_req_check(buf, (size_t)got > sizeof(buf) ? sizeof(buf) : (size_t)got,
			      h->cfg);
	if (rc) {
		/* the seq where there is one, so standbyd can tell the answer is to it */
		if ((size_t)got >= offsetof(struct privop_req, kind))
			memcpy(&rep.seq, buf + offsetof(struct privop_req, seq), sizeof(rep.seq));
		rep.rc = rc;
		rep.arp_dropped = arp_dropped(h);
		log_limited(&h->rl, LOG_ERR, "helper: request refused (%zd bytes): %s", got,
			    strerror(-rc));
	} else {
		memcpy(&r, buf, sizeof(r));
		/* what came before this request (a probe, a ping) goes up marked as before it; a
		 * capture not empty after that is a flood, and what a sync leaves in it unread
		 * counts as lost: the probe asking must not decide on it */
		if (frames_up(h, 1) && r.kind == PRIVOP_SYNC)
			h->arp_lost++;
		h->served_seq = r.seq;
		/* counted before the request is carried out: a claim lost once a probe is out
		 * is one its asker sees as new */
		rep.arp_dropped = arp_dropped(h);
		rep.seq = r.seq;
		rep.kind = r.kind;
		rep.rc = handle(h, &r, &rep, &pass);
	}
	if (pass >= 0) {
		struct cmsghdr *cm;

		memset(cbuf, 0, sizeof(cbuf));
		mh.msg_control = cbuf;
		mh.msg_controllen = sizeof(cbuf);
		cm = CMSG_FIRSTHDR(&mh);
		cm->cmsg_level = SOL_SOCKET;
		cm->cmsg_type = SCM_RIGHTS;
		cm->cmsg_len = CMSG_LEN(sizeof(int));
		memcpy(CMSG_DATA(cm), &pass, sizeof(int));
	}
	got = sendmsg(h->fd, &mh, MSG_NOSIGNAL);
	if (pass >= 0)
		close(pass);
	return got == (ssize_t)sizeof(rep) ? 0 : -1;
}

static __attribute__((noreturn)) void helper_loop(struct helper *h)
{
	unsigned i;

	for (;;) {
		/* a descriptor of -1 is not polled */
		struct pollfd pfd[4] = { { .fd = h->fd, .events = POLLIN },
					 { .fd = h->pidfd, .events = POLLIN },
					 { .fd = h->arp ? h->arp->fd : -1, .events = POLLIN },
					 { .fd = h->ping->fd, .events = POLLIN } };
		int timeout = -1, rc;

		if (h->pidfd >= 0) {
			uint64_t now = mono_ms();

			timeout = h->deadline_ms > now ? (int)(h->deadline_ms - now) : 0;
		}
		rc = poll(pfd, 4, timeout);
		if (rc < 0 && errno != EINTR)
			break;
		if (h->pidfd >= 0 && (pfd[1].revents || mono_ms() >= h->deadline_ms))
			script_end(h, pfd[1].revents ? 0 : -ETIMEDOUT);
		if (rc > 0 && (pfd[2].revents || pfd[3].revents))
			frames_up(h, 0);
		if (rc > 0 && pfd[0].revents && serve(h) < 0)
			break;
	}
	/* standbyd is gone (or stopping): what it would have stopped at exit, stopped here;
	 * the address stays, as it did when standbyd was killed (its successor resumes) */
	if (h->pidfd >= 0)
		res_abort(&h->rt[h->script_idx]);
	for (i = 0; i < h->cfg->res.nres; i++)
		res_release_children(&h->cfg->res.res[i], &h->rt[i]);
	hbrx_stop(&h->rx);
	_exit(0);
}

static __attribute__((noreturn)) void helper_main(const struct privop_setup *s, int fd,
						  int exit_fd, int frame_fd)
{
	static struct helper h;
	struct sched_param sp = { .sched_priority = 1 };
	int keep[HA_MAX_LINKS + 8];
	unsigned n = 0, i;
	const char ready = 1;

	prctl(PR_SET_NAME, "standbyd-priv", 0, 0, 0);	/* for ps and the admin */
	/* The takeover's steps (the address, the ARPs) run here now: as promptly as
	 * standbyd's own loop, which runs at this priority (ha.cf's realtime). */
	if (s->cfg->cf.realtime)
		sched_setscheduler(0, SCHED_RR | SCHED_RESET_ON_FORK, &sp);
	h.cfg = s->cfg;
	h.rt = s->rt;
	h.arp = s->arp;
	h.ping = s->ping;
	h.tickle_fd = s->tickle_fd;
	h.link_fds = s->link_fds;
	h.nlinks = s->nlinks;
	h.fd = fd;
	h.exit_fd = exit_fd;
	h.frame_fd = frame_fd;
	h.pidfd = -1;
	h.rl = (struct log_ratelimit)LOG_RATELIMIT_INIT(5);
	h.vdiskd_uid = vdiskd_expected_uid();
	endpwent();
	/* What it sends on and what the receivers read; not the database, the control socket
	 * or standbyd's loop, which are none of its business. */
	keep[n++] = fd;
	keep[n++] = exit_fd;
	keep[n++] = frame_fd;
	if (s->arp)
		keep[n++] = s->arp->fd;
	if (s->ping->fd >= 0)
		keep[n++] = s->ping->fd;
	if (s->tickle_fd >= 0)
		keep[n++] = s->tickle_fd;
	for (i = 0; i < s->nlinks && i < HA_MAX_LINKS; i++)
		keep[n++] = s->link_fds[i];
	/* syslog's and the journal's descriptors go with the rest: stderr alone from here */
	log_stderr_only();
	keep_only(keep, n);
	if (send(fd, &ready, 1, MSG_NOSIGNAL) != 1)
		_exit(1);
	helper_loop(&h);
}

/* ---- standbyd's side ---- */

/* The helper no longer answers as it should: both ends shut, so that the loop reads EOF on
 * exit_fd (and the helper, if it still runs, reads EOF and exits). */
static void lose(struct privop *p, const char *why)
{
	if (p->lost)
		return;
	p->lost = 1;
	log_err("privileged helper (pid %d) lost: %s", (int)p->pid, why);
	if (p->fd >= 0)
		shutdown(p->fd, SHUT_RDWR);
	if (p->exit_fd >= 0)
		shutdown(p->exit_fd, SHUT_RDWR);
	if (p->frame_fd >= 0)
		shutdown(p->frame_fd, SHUT_RDWR);
	/* at once: the caller's -EPIPE must not be taken for a resource's failure */
	if (p->on_lost)
		p->on_lost(p->lost_arg);
}

/* Sends r and waits for its answer (a descriptor handed over goes to *passed when not
 * NULL). Returns the helper's rc, or -EPIPE. */
static int call(struct privop *p, struct privop_req *r, struct privop_rep *rep, int *passed,
		int timeout_ms)
{
	uint8_t buf[sizeof(*rep) + 1];
	char cbuf[CMSG_SPACE(sizeof(int))];
	struct iovec iov = { .iov_base = buf, .iov_len = sizeof(buf) };
	struct msghdr mh = { .msg_iov = &iov, .msg_iovlen = 1, .msg_control = cbuf,
			     .msg_controllen = sizeof(cbuf) };
	struct pollfd pfd = { .fd = p->fd, .events = POLLIN };
	struct cmsghdr *cm;
	int fd = -1, rc;
	ssize_t got;

	if (p->fd < 0 || p->lost)
		return -EPIPE;
	r->magic = PRIVOP_MAGIC;
	r->seq = ++p->seq;
	if (send(p->fd, r, sizeof(*r), MSG_NOSIGNAL) != (ssize_t)sizeof(*r)) {
		lose(p, strerror(errno));
		return -EPIPE;
	}
	do
		rc = poll(&pfd, 1, timeout_ms);
	while (rc < 0 && errno == EINTR);
	if (rc <= 0) {
		lose(p, rc == 0 ? "no answer within its time" : strerror(errno));
		return -EPIPE;
	}
	got = recvmsg(p->fd, &mh, MSG_CMSG_CLOEXEC | MSG_TRUNC);
	for (cm = got > 0 ? CMSG_FIRSTHDR(&mh) : NULL; cm; cm = CMSG_NXTHDR(&mh, cm))
		if (cm->cmsg_level == SOL_SOCKET && cm->cmsg_type == SCM_RIGHTS &&
		    cm->cmsg_len == CMSG_LEN(sizeof(int)) && fd < 0)
			memcpy(&fd, CMSG_DATA(cm), sizeof(int));
	if (got != (ssize_t)sizeof(*rep)) {
		lose(p, got <= 0 ? "its end closed" : "an answer that is not one");
		goto out_close;
	}
	memcpy(rep, buf, sizeof(*rep));
	if (rep->seq != r->seq || (rep->kind && rep->kind != r->kind) || rep->zero) {
		lose(p, "an answer to another request");
		goto out_close;
	}
	p->arp_dropped = rep->arp_dropped;
	if (!rep->kind) {
		p->refused++;
		log_err("privileged helper refused request %u: %s", r->kind, strerror(-rep->rc));
	}
	if (passed && fd >= 0 && rep->rc == 0) {
		*passed = fd;
		return 0;
	}
	if (fd >= 0)
		close(fd);
	return rep->rc;

out_close:
	if (fd >= 0)
		close(fd);
	return -EPIPE;
}

int privop_res(struct privop *p, unsigned idx, enum res_op op, uint32_t *seq)
{
	struct privop_req r = { .kind = PRIVOP_RES, .idx = (uint16_t)idx, .op = (uint16_t)op };
	struct privop_rep rep;
	int rc = call(p, &r, &rep, NULL, PRIVOP_FAST_MS);

	*seq = r.seq;
	return rc;
}

int privop_res_cancel(struct privop *p)
{
	struct privop_req r = { .kind = PRIVOP_RES_CANCEL };
	struct privop_rep rep;

	return call(p, &r, &rep, NULL, PRIVOP_FAST_MS);
}

int privop_arp(struct privop *p, unsigned idx, int garp)
{
	struct privop_req r = { .kind = garp ? PRIVOP_ARP_GARP : PRIVOP_ARP_PROBE,
				.idx = (uint16_t)idx };
	struct privop_rep rep;

	return call(p, &r, &rep, NULL, PRIVOP_FAST_MS);
}

int privop_ping(struct privop *p, unsigned idx)
{
	struct privop_req r = { .kind = PRIVOP_PING, .idx = (uint16_t)idx };
	struct privop_rep rep;

	return call(p, &r, &rep, NULL, PRIVOP_FAST_MS);
}

int privop_tickle(struct privop *p, const struct tcp_conn *c)
{
	struct privop_req r = { .kind = PRIVOP_TICKLE, .laddr = c->laddr, .raddr = c->raddr,
				.lport = c->lport, .rport = c->rport };
	struct privop_rep rep;

	return call(p, &r, &rep, NULL, PRIVOP_FAST_MS);
}

int privop_sync(struct privop *p)
{
	struct privop_req r = { .kind = PRIVOP_SYNC };
	struct privop_rep rep;

	return call(p, &r, &rep, NULL, PRIVOP_FAST_MS);
}

int privop_vdiskd(struct privop *p, unsigned idx, enum res_op op)
{
	struct privop_req r = { .kind = PRIVOP_VDISKD, .idx = (uint16_t)idx, .op = (uint16_t)op };
	struct privop_rep rep;
	int fd = -1, rc = call(p, &r, &rep, &fd, PRIVOP_FAST_MS);

	if (rc)
		return rc;
	return fd >= 0 ? fd : -EPROTO;
}

int privop_rx_start(struct privop *p, struct hbrx *rx)
{
	struct privop_req r = { .kind = PRIVOP_RX_START };
	struct privop_rep rep;
	int fd = -1, rc = call(p, &r, &rep, &fd, PRIVOP_CALL_MS);

	if (rc)
		return rc;
	if (fd < 0 || rep.pid <= 0 || fcntl(fd, F_SETFL, O_NONBLOCK) < 0) {
		if (fd >= 0)
			close(fd);
		privop_rx_stop(p, rx);
		return -EPROTO;
	}
	rx->pid = rep.pid;
	rx->fd = fd;
	return 0;
}

void privop_rx_stop(struct privop *p, struct hbrx *rx)
{
	struct privop_req r = { .kind = PRIVOP_RX_STOP };
	struct privop_rep rep;

	if (rx->fd >= 0)
		close(rx->fd);
	rx->fd = -1;
	rx->pid = 0;
	call(p, &r, &rep, NULL, PRIVOP_CALL_MS);
}

/* One record of SIZE bytes from FD into OUT, without waiting: 1, 0 when none is waiting, or
 * -EPIPE with the helper lost (its end closed, an error, a record that is not WHAT). */
_Static_assert(sizeof(struct privop_rep) <= sizeof(struct privop_frame),
	       "recv_record's buffer holds the largest record");
static int recv_record(struct privop *p, int fd, void *out, size_t size, const char *what)
{
	uint8_t buf[sizeof(struct privop_frame) + 1];
	char why[64];
	ssize_t got;

	if (fd < 0 || p->lost)
		return -EPIPE;
	got = recv(fd, buf, size + 1, MSG_DONTWAIT | MSG_TRUNC);
	if (got < 0 && (errno == EAGAIN || errno == EINTR))
		return 0;
	if (got != (ssize_t)size) {
		snprintf(why, sizeof(why), "%s that is not one", what);
		lose(p, got == 0 ? "its end closed" : got < 0 ? strerror(errno) : why);
		return -EPIPE;
	}
	memcpy(out, buf, size);
	return 1;
}

int privop_read_exit(struct privop *p, uint32_t *seq, int *rc)
{
	struct privop_rep rep;
	int got = recv_record(p, p->exit_fd, &rep, sizeof(rep), "an exit record");

	if (got <= 0)
		return got;
	if (rep.kind != PRIVOP_RES || rep.zero || rep.pid || rep.rc > 0 || rep.arp_dropped) {
		lose(p, "an exit record that is not one");
		return -EPIPE;
	}
	*seq = rep.seq;
	*rc = rep.rc;
	return 1;
}

int privop_read_frame(struct privop *p, struct privop_frame *f)
{
	int got = recv_record(p, p->frame_fd, f, sizeof(*f), "a frame record");

	if (got <= 0)
		return got;
	if ((f->kind != PRIVOP_FRAME_ARP && f->kind != PRIVOP_FRAME_ICMP) ||
	    f->len > PRIVOP_FRAME_MAX) {
		lose(p, "a frame record that is not one");
		return -EPIPE;
	}
	return 1;
}

int privop_start(struct privop *p, const struct privop_setup *s)
{
	int sp[3][2];	/* requests, exit records, frame records: [0] ours, [1] the helper's */
	unsigned i, n;
	int rc = 0;

	p->pid = 0;
	p->fd = p->exit_fd = p->frame_fd = -1;
	p->seq = 0;
	p->lost = 0;
	p->refused = 0;
	p->cfg = s->cfg;
	p->on_lost = NULL;
	p->lost_arg = NULL;
	for (n = 0; n < 3; n++)
		if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sp[n]) < 0) {
			rc = -errno;
			break;
		}
	if (rc) {
		for (i = 0; i < n; i++) {
			close(sp[i][0]);
			close(sp[i][1]);
		}
		goto out_log;
	}
	/* Room for a burst of frames while the loop is busy (a write to the database, DB
	 * shipping): as much as the capture's own buffer holds, about 2 MB. Root may raise it
	 * past wmem_max; else as far as that goes. */
	if (setsockopt(sp[2][1], SOL_SOCKET, SO_SNDBUFFORCE, &(int){ PRIVOP_FRAME_BUF },
		       sizeof(int)) < 0)
		setsockopt(sp[2][1], SOL_SOCKET, SO_SNDBUF, &(int){ PRIVOP_FRAME_BUF }, sizeof(int));
	p->pid = fork();
	if (p->pid == 0) {
		for (i = 0; i < 3; i++)
			close(sp[i][0]);
		helper_main(s, sp[0][1], sp[1][1], sp[2][1]);
	}
	rc = p->pid < 0 ? -errno : 0;
	for (i = 0; i < 3; i++)
		close(sp[i][1]);
	p->fd = sp[0][0];
	p->exit_fd = sp[1][0];
	p->frame_fd = sp[2][0];
	if (rc) {
		p->pid = 0;
		goto out_stop;
	}
	rc = ready_wait(p->fd, READY_TIMEOUT_MS);
	if (rc == 0 && (fcntl(p->exit_fd, F_SETFL, O_NONBLOCK) < 0 ||
			fcntl(p->frame_fd, F_SETFL, O_NONBLOCK) < 0))
		rc = -errno;
	if (rc)
		goto out_stop;
	return 0;

out_stop:
	privop_stop(p);
out_log:
	log_err("privileged helper: could not start it: %s", strerror(-rc));
	return rc;
}

void privop_stop(struct privop *p)
{
	int pfd, rc = 1;

	if (p->fd >= 0)
		close(p->fd);
	if (p->exit_fd >= 0)
		close(p->exit_fd);
	if (p->frame_fd >= 0)
		close(p->frame_fd);
	p->fd = p->exit_fd = p->frame_fd = -1;
	if (p->pid <= 0)
		return;
	/* Lost, it may be stuck; unprivileged, we could not kill it past the wait: either way
	 * not waited for, only reaped if already gone. It still reads EOF and exits after
	 * stopping pxed and a script; the service manager kills what is left of the unit once
	 * standbyd has exited. */
	if (p->lost || geteuid() != 0) {
		if (waitpid(p->pid, NULL, WNOHANG) == 0)
			log_notice("privileged helper (pid %d) not waited for (%s): left to finish, or "
				   "to the service manager", (int)p->pid,
				   p->lost ? "lost" : "not ours to kill");
		p->pid = 0;
		return;
	}
	/* It stops pxed (up to 3 s) and a script, then exits; stuck, it is killed. */
	pfd = pidfd_open(p->pid, 0);
	if (pfd >= 0) {
		struct pollfd w = { .fd = pfd, .events = POLLIN };

		do
			rc = poll(&w, 1, PRIVOP_CALL_MS);
		while (rc < 0 && errno == EINTR);
		close(pfd);
	}
	if (rc == 0)
		kill(p->pid, SIGKILL);
	while (waitpid(p->pid, NULL, 0) < 0 && errno == EINTR)
		;
	p->pid = 0;
}

/* Whether the permitted, effective and inheritable sets are all empty (capget(2)). */
static int caps_empty(void)
{
	struct __user_cap_header_struct hdr = { .version = _LINUX_CAPABILITY_VERSION_3 };
	struct __user_cap_data_struct data[2];
	unsigned i;

	memset(data, 0, sizeof(data));
	if (syscall(SYS_capget, &hdr, data) < 0)
		return -errno;
	for (i = 0; i < 2; i++)
		if (data[i].permitted || data[i].effective || data[i].inheritable)
			return 0;
	return 1;
}

int privop_drop(const char *user)
{
	const struct passwd *pw = getpwnam(user);
	gid_t gid;
	uid_t uid;
	int rc;

	if (!pw) {
		log_warn("no user %s (the packages make it): standbyd's loop stays root with its "
			 "capabilities; only the privileged helper was split off", user);
		return 0;
	}
	uid = pw->pw_uid;
	gid = pw->pw_gid;
	if (!uid) {
		log_err("user %s is root: not a user to drop to", user);
		return -EINVAL;
	}
	/* Its group alone (vdisk, for the database and vdiskd's socket), also as the one
	 * supplementary group: the control socket lets in the callers of a group of ours as
	 * getgroups() lists them (vdiskd's fence-peer, pxed's status), which is not the gid.
	 * setresuid to a user other than root clears every capability set. */
	if (setgroups(1, &gid) < 0 || setresgid(gid, gid, gid) < 0 || setresuid(uid, uid, uid) < 0)
		goto out_errno;
	if (setuid(0) == 0) {
		errno = EPERM;
		goto out_errno;
	}
	/* setresuid cleared them, unless a securebits setting kept them: checked, not assumed;
	 * the ambient set, which would be raised again across an exec, cleared */
	if (prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0) < 0)
		goto out_errno;
	rc = caps_empty();
	if (rc <= 0) {
		errno = rc < 0 ? -rc : EPERM;
		goto out_errno;
	}
	/* nothing it runs gains a privilege; the keys in its memory are not for ptrace */
	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0 || prctl(PR_SET_DUMPABLE, 0, 0, 0, 0) < 0)
		goto out_errno;
	log_notice("running as %s (uid %u, gid %u) with no capabilities; the privileged helper "
		   "does the rest", user, (unsigned)uid, (unsigned)gid);
	return 1;

out_errno:
	uid = (uid_t)errno;	/* log_err may change errno */
	log_err("dropping to user %s: %s", user, strerror((int)uid));
	return -(int)uid;
}
