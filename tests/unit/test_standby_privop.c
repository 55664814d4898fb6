/* The privileged helper (privop.c):
 * - privop_req_check: a request of every kind that passes, and must-fail vectors for each
 *   check (size, magic, padding, unknown kind, index out of range, op, resource of the wrong
 *   kind, a field the kind does not use, a tickle not from a service address);
 * - as root, a live helper: refused records are answered with an error and it serves on; a
 *   script's exit comes as a record (running, stopped), the time limit is enforced by the
 *   helper (-ETIMEDOUT), a cancelled script sends nothing; it exits when standbyd's end
 *   closes; one that is killed shows as EOF on the exit pair; vdiskd's request is sent by
 *   the helper (a stand-in socket sees it come from root, as the request for the op) and the
 *   socket handed back carries the answer; pxed's stop answered at once, its exit a
 *   record, by SIGTERM or, ignored, by SIGKILL at RES_PXED_STOP_MS; in a network namespace
 *   of its own: a ping to 127.0.0.1 comes back as a frame record (the echo reply, unparsed,
 *   marked with the ping's request), and only echo replies to our id; a claim of the
 *   service address on lo comes back as a record; floods into an unread pair and into a
 *   stalled helper: every claim a record or counted lost once syncs are answered, and one
 *   sync already shows a loss. A request's round trip is printed.
 * - privop_read_frame: a record that is not one loses the helper; the freshness rule. */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <net/if.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <linux/if_ether.h>
#include <linux/if_packet.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "common/log.h"
#include "standby/privop.h"
#include "tests/lib/tap.h"

#define SVC_ADDR 0x0a090064u	/* 10.9.0.100 */

static void config(struct ha_config *c, const char *dir)
{
	memset(c, 0, sizeof(*c));
	snprintf(c->dir, sizeof(c->dir), "%s", dir);
	c->res.res[0].kind = HA_RES_IPADDR;
	c->res.res[0].addr = SVC_ADDR;
	c->res.res[1].kind = HA_RES_LSB;
	strcpy(c->res.res[1].name, "svc");
	c->res.res[2].kind = HA_RES_VDISKD;
	c->res.res[3].kind = HA_RES_PXED;
	c->res.nres = 4;
	c->res.ipaddr_idx = 0;
	c->cf.nping = 1;
	c->cf.ping[0] = 0x0a090001u;
}

static struct privop_req req(unsigned kind, unsigned idx, unsigned op)
{
	struct privop_req r;

	memset(&r, 0, sizeof(r));
	r.magic = PRIVOP_MAGIC;
	r.seq = 7;
	r.kind = (uint16_t)kind;
	r.idx = (uint16_t)idx;
	r.op = (uint16_t)op;
	return r;
}

static struct privop_req tickle(uint32_t laddr, uint16_t lport, uint32_t raddr, uint16_t rport)
{
	struct privop_req r = req(PRIVOP_TICKLE, 0, 0);

	r.laddr = laddr;
	r.lport = lport;
	r.raddr = raddr;
	r.rport = rport;
	return r;
}

static void check_vectors(const struct ha_config *c)
{
	static const struct { unsigned kind, idx, op; int want; const char *what; } v[] = {
		{ PRIVOP_RES, 1, RES_START, 0, "script start" },
		{ PRIVOP_RES, 1, RES_STOP, 0, "script stop" },
		{ PRIVOP_RES, 1, RES_STATUS, 0, "script status" },
		{ PRIVOP_RES, 0, RES_START, 0, "address add" },
		{ PRIVOP_RES, 0, RES_STOP, 0, "address delete" },
		{ PRIVOP_RES, 3, RES_START, 0, "pxed start" },
		{ PRIVOP_RES_CANCEL, 0, 0, 0, "cancel" },
		{ PRIVOP_ARP_PROBE, 0, 0, 0, "probe" },
		{ PRIVOP_ARP_GARP, 0, 0, 0, "gratuitous ARP" },
		{ PRIVOP_PING, 0, 0, 0, "ping" },
		{ PRIVOP_RX_START, 0, 0, 0, "receiver start" },
		{ PRIVOP_RX_STOP, 0, 0, 0, "receiver stop" },
		{ PRIVOP_SYNC, 0, 0, 0, "sync" },
		{ PRIVOP_VDISKD, 2, RES_START, 0, "vdiskd: role primary" },
		{ PRIVOP_VDISKD, 2, RES_STATUS, 0, "vdiskd: status" },
		/* must fail */
		{ 0, 0, 0, -EOPNOTSUPP, "kind 0" },
		{ PRIVOP_NKINDS, 0, 0, -EOPNOTSUPP, "kind past the last" },
		{ 0xffff, 0, 0, -EOPNOTSUPP, "kind 0xffff" },
		{ PRIVOP_RES, 4, RES_START, -ERANGE, "resource index = count" },
		{ PRIVOP_RES, 0xffff, RES_START, -ERANGE, "resource index 0xffff" },
		{ PRIVOP_RES, 1, RES_STATUS + 1, -EINVAL, "op past status" },
		{ PRIVOP_RES, 1, 0xffff, -EINVAL, "op 0xffff" },
		{ PRIVOP_RES, 2, RES_START, -EINVAL, "vdiskd as a resource step (it is asked)" },
		{ PRIVOP_VDISKD, 1, RES_START, -EINVAL, "vdiskd's request to a script" },
		{ PRIVOP_VDISKD, 0, RES_STOP, -EINVAL, "vdiskd's request to the address" },
		{ PRIVOP_VDISKD, 4, RES_START, -ERANGE, "vdiskd index = count" },
		{ PRIVOP_VDISKD, 2, RES_STATUS + 1, -EINVAL, "vdiskd op past status" },
		{ PRIVOP_ARP_PROBE, 1, 0, -EINVAL, "probe for a script" },
		{ PRIVOP_ARP_GARP, 3, 0, -EINVAL, "gratuitous ARP for pxed" },
		{ PRIVOP_ARP_GARP, 4, 0, -ERANGE, "gratuitous ARP index out of range" },
		{ PRIVOP_PING, 1, 0, -ERANGE, "ping index = count" },
		{ PRIVOP_PING, 0, 1, -EBADMSG, "ping with an op" },
		{ PRIVOP_RES_CANCEL, 1, 0, -EBADMSG, "cancel with an index" },
		{ PRIVOP_SYNC, 0, 1, -EBADMSG, "sync with an op" },
		{ PRIVOP_RX_START, 0, 2, -EBADMSG, "receiver start with an op" },
		{ PRIVOP_ARP_PROBE, 0, 1, -EBADMSG, "probe with an op" },
	};
	struct privop_req r;
	uint8_t big[sizeof(r) + 8];
	unsigned i;

	for (i = 0; i < sizeof(v) / sizeof(v[0]); i++) {
		r = req(v[i].kind, v[i].idx, v[i].op);
		is_int(privop_req_check(&r, sizeof(r), c), v[i].want, "%s", v[i].what);
	}
	r = tickle(SVC_ADDR, 3260, 0x0a09000a, 50000);
	is_int(privop_req_check(&r, sizeof(r), c), 0, "tickle from the service address");
	r = tickle(0x0a090002, 3260, 0x0a09000a, 50000);
	is_int(privop_req_check(&r, sizeof(r), c), -EINVAL, "tickle from another address");
	r = tickle(SVC_ADDR, 0, 0x0a09000a, 50000);
	is_int(privop_req_check(&r, sizeof(r), c), -EINVAL, "tickle from port 0");
	r = tickle(SVC_ADDR, 3260, 0x0a09000a, 0);
	is_int(privop_req_check(&r, sizeof(r), c), -EINVAL, "tickle to port 0");
	r = tickle(SVC_ADDR, 3260, 0, 50000);
	is_int(privop_req_check(&r, sizeof(r), c), -EINVAL, "tickle to 0.0.0.0");
	r = req(PRIVOP_RES, 1, RES_START);
	r.laddr = SVC_ADDR;
	is_int(privop_req_check(&r, sizeof(r), c), -EBADMSG, "script start with an address");
	r = req(PRIVOP_RES, 1, RES_START);
	r.zero = 1;
	is_int(privop_req_check(&r, sizeof(r), c), -EBADMSG, "padding not 0");
	r.zero = 0;
	r.magic ^= 1;
	is_int(privop_req_check(&r, sizeof(r), c), -EBADMSG, "wrong magic");
	r.magic ^= 1;
	is_int(privop_req_check(&r, 0, c), -EMSGSIZE, "empty record");
	is_int(privop_req_check(&r, sizeof(r) - 1, c), -EMSGSIZE, "one byte short");
	memset(big, 0, sizeof(big));
	memcpy(big, &r, sizeof(r));
	is_int(privop_req_check(big, sizeof(r) + 1, c), -EMSGSIZE, "one byte long");
	is_int(privop_req_check(big, sizeof(big), c), -EMSGSIZE, "eight bytes long");
}

/* Sends len raw bytes on the request pair and returns the answer's rc (its kind to *kind). */
static int raw(struct privop *p, const void *buf, size_t len, unsigned *kind)
{
	struct privop_rep rep;
	struct pollfd pfd = { .fd = p->fd, .events = POLLIN };

	if (send(p->fd, buf, len, 0) != (ssize_t)len || poll(&pfd, 1, 2000) != 1 ||
	    recv(p->fd, &rep, sizeof(rep), 0) != (ssize_t)sizeof(rep))
		return 1;
	*kind = rep.kind;
	return rep.rc;
}

/* A stand-in vdiskd listening at path, as the test's uid (root), before the helper starts:
 * without a user vdisk the helper takes the socket's owner then as vdiskd's. */
static int vdiskd_standin(const char *path)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	int lfd;

	if (strlen(path) >= sizeof(sa.sun_path))
		return -1;
	memcpy(sa.sun_path, path, strlen(path) + 1);
	unlink(path);
	lfd = socket(AF_UNIX, SOCK_STREAM, 0);
	if (lfd < 0 || bind(lfd, (struct sockaddr *)&sa, sizeof(sa)) < 0 || listen(lfd, 4) < 0)
		return -1;
	return lfd;
}

/* A socket of another uid put in vdiskd's place (what the loop, which can write the
 * directory, could do): the helper must not send to it, nor hand it over. */
static void vdiskd_impostor(struct privop *p, const char *path)
{
	int go[2], lfd, fd;
	char c = 0;
	pid_t pid;

	if (!ok(pipe(go) == 0, "a pipe"))
		return;
	unlink(path);
	pid = fork();
	if (pid == 0) {
		/* bound as root (the directory is root's), listening as nobody: SO_PEERCRED is
		 * the listener's */
		lfd = vdiskd_standin(path);
		if (lfd < 0 || setresgid(65534, 65534, 65534) < 0 ||
		    setresuid(65534, 65534, 65534) < 0 || listen(lfd, 4) < 0)
			_exit(1);
		if (write(go[1], "", 1) != 1)
			_exit(1);
		pause();
		_exit(0);
	}
	close(go[1]);
	if (ok(pid > 0 && read(go[0], &c, 1) == 1, "a socket of uid 65534 in vdiskd's place")) {
		fd = privop_vdiskd(p, 1, RES_START);
		is_int(fd, -EACCES, "refused: not vdiskd's uid, nothing handed over");
		if (fd >= 0)
			close(fd);
	}
	close(go[0]);
	if (pid > 0) {
		kill(pid, SIGKILL);
		waitpid(pid, NULL, 0);
	}
	unlink(path);
}

/* A symlink in vdiskd's place, to a socket root listens on (another root daemon's): the
 * helper sends nothing through a symlink, whoever serves its target. */
static void vdiskd_symlink(struct privop *p, const char *path)
{
	char target[256];
	int lfd, fd;

	/* beside it, in the test's directory */
	snprintf(target, sizeof(target), "%.*s/rootd.sock", (int)(strrchr(path, '/') - path), path);
	unlink(path);
	lfd = vdiskd_standin(target);
	if (!ok(lfd >= 0 && listen(lfd, 4) == 0 && symlink(target, path) == 0,
		"a symlink in vdiskd's place to a socket root listens on"))
		goto out;
	fd = privop_vdiskd(p, 1, RES_START);
	is_int(fd, -EACCES, "refused: not a socket itself, nothing sent or handed over");
	if (fd >= 0)
		close(fd);
out:
	if (lfd >= 0)
		close(lfd);
	unlink(path);
	unlink(target);
}

/* A vdiskd resource's request through the helper, to the stand-in listening on lfd at path:
 * it must come from root (vdiskd gives a role to root only) and be op's request, the helper
 * must have shut the socket for writing, and the socket handed back must carry the
 * stand-in's answer and nothing more from the loop. */
static void vdiskd_request(struct privop *p, const char *path, int lfd)
{
	struct ucred cred;
	socklen_t clen = sizeof(cred);
	struct pollfd pfd;
	char buf[64];
	int cfd = -1, fd;
	ssize_t n;

	if (!ok(lfd >= 0, "a stand-in vdiskd at %s", path))
		return;
	fd = privop_vdiskd(p, 1, RES_START);
	ok(fd >= 0, "vdiskd's request sent by the helper, its socket handed back (%d)", fd);
	pfd = (struct pollfd){ .fd = lfd, .events = POLLIN };
	if (fd >= 0 && poll(&pfd, 1, 2000) == 1)
		cfd = accept(lfd, NULL, NULL);
	if (ok(cfd >= 0, "the stand-in has a connection")) {
		memset(&cred, 0xff, sizeof(cred));
		n = getsockopt(cfd, SOL_SOCKET, SO_PEERCRED, &cred, &clen);
		ok(n == 0 && cred.uid == 0 && cred.pid == p->pid,
		   "from root, the helper (uid %u, pid %d)", cred.uid, (int)cred.pid);
		n = recv(cfd, buf, sizeof(buf) - 1, 0);
		buf[n > 0 ? n : 0] = 0;
		is_str(buf, "role primary\n", "the start request");
		ok(send(fd, "more\n", 5, MSG_NOSIGNAL) < 0 && errno == EPIPE,
		   "the loop cannot write on the socket handed back (shut for writing)");
		n = recv(cfd, buf, sizeof(buf) - 1, 0);
		is_int((int)n, 0, "the stand-in reads EOF after the request");
		ok(send(cfd, "ok\n", 3, 0) == 3, "answered, to a client that half-closed");
		close(cfd);
		pfd = (struct pollfd){ .fd = fd, .events = POLLIN };
		n = poll(&pfd, 1, 2000) == 1 ? recv(fd, buf, sizeof(buf) - 1, 0) : -1;
		buf[n > 0 ? n : 0] = 0;
		is_str(buf, "ok\n", "the answer, read on the socket handed back");
	}
	if (fd >= 0)
		close(fd);
	close(lfd);
	unlink(path);
	is_int(privop_vdiskd(p, 1, RES_START), -ENOENT, "no vdiskd's socket: its error");
	vdiskd_impostor(p, path);
	vdiskd_symlink(p, path);
}

static int lost_calls;

static void on_lost(void *arg)
{
	(*(int *)arg)++;
}

/* Waits up to ms for a script's exit record: 1 with it, 0 without, -1 for EOF. */
static int wait_exit(struct privop *p, int ms, uint32_t *seq, int *rc)
{
	struct pollfd pfd = { .fd = p->exit_fd, .events = POLLIN };
	int got;

	if (poll(&pfd, 1, ms) != 1)
		return 0;
	got = privop_read_exit(p, seq, rc);
	return got < 0 ? -1 : got;
}

static long ms_since(const struct timespec *t0)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return (t.tv_sec - t0->tv_sec) * 1000 + (t.tv_nsec - t0->tv_nsec) / 1000000;
}

static void live(struct ha_config *c, const char *dir)
{
	static struct res_runtime rt[HA_MAX_RES];
	struct pinger ping = { .fd = -1 };
	struct privop_setup s = { .cfg = c, .rt = rt, .ping = &ping, .tickle_fd = -1 };
	struct privop p;
	struct privop_req r;
	struct cfg_err err;
	struct timespec t0;
	char path[600], comm[64];
	unsigned kind = 99;
	uint32_t seq = 0, rseq;
	int rc = 1, st, lfd;
	FILE *f;

	/* no address, no vdiskd, no pxed: nothing outside the test's directory is touched */
	c->res.res[0].kind = HA_RES_LSB;
	strcpy(c->res.res[0].name, "svc");
	c->res.res[1].kind = HA_RES_VDISKD;
	snprintf(c->res.res[1].arg, sizeof(c->res.res[1].arg), "%s/vdiskd.sock", dir);
	c->res.nres = 2;
	c->res.ipaddr_idx = -1;
	c->cf.nping = 0;
	snprintf(path, sizeof(path), "%s/resource.d", dir);
	mkdir(path, 0700);
	snprintf(path, sizeof(path), "%s/resource.d/svc", dir);
	f = fopen(path, "w");
	fprintf(f, "#!/bin/sh\ncase \"$1\" in\n"
		"start) touch %s/up; sh -c 'ls /proc/$$/fd' >%s/fds ;;\nstop) rm -f %s/up ;;\n"
		"status) [ -e %s/slow ] && exec sleep 30; [ -e %s/up ] && exit 0; exit 3 ;;\nesac\n",
		dir, dir, dir, dir, dir);
	fclose(f);
	chmod(path, 0755);
	if (!ok(res_prepare(c, &c->res.res[0], &rt[0], &err) == 0, "script found: %s", rt[0].script))
		return;
	lfd = vdiskd_standin(c->res.res[1].arg);
	/* a descriptor the helper keeps, not close-on-exec (as pcap's are): no script sees it */
	s.tickle_fd = socket(AF_INET, SOCK_DGRAM, 0);
	if (!ok(privop_start(&p, &s) == 0, "helper started"))
		return;
	snprintf(path, sizeof(path), "/proc/%d/comm", (int)p.pid);
	f = fopen(path, "r");
	comm[0] = 0;
	if (f) {
		if (!fgets(comm, sizeof(comm), f))
			comm[0] = 0;
		fclose(f);
	}
	comm[strcspn(comm, "\n")] = 0;
	is_str(comm, "standbyd-priv", "its name in ps");

	/* refused, each with an error record, and it serves on */
	is_int(raw(&p, "abc", 3, &kind), -EMSGSIZE, "3 bytes: refused");
	is_int(kind, 0, "as refused unread (kind 0)");
	r = req(0x77, 0, 0);
	is_int(raw(&p, &r, sizeof(r), &kind), -EOPNOTSUPP, "unknown kind: refused");
	r = req(PRIVOP_RES, 5, RES_START);
	is_int(raw(&p, &r, sizeof(r), &kind), -ERANGE, "resource index out of range: refused");
	r = req(PRIVOP_RES, 0, 9);
	is_int(raw(&p, &r, sizeof(r), &kind), -EINVAL, "op unknown: refused");
	is_int(privop_arp(&p, 0, 1), -EINVAL, "gratuitous ARP without an address: refused");
	is_int((int)p.refused, 1, "counted as refused");

	/* what a request costs a takeover's step (an address, an ARP): one round trip */
	clock_gettime(CLOCK_MONOTONIC, &t0);
	for (st = 0; st < 1000; st++)
		privop_res_cancel(&p);
	diag("a request and its answer: %ld us on average over 1000", ms_since(&t0));

	/* a script's steps: the exit comes as a record */
	is_int(privop_res(&p, 0, RES_STATUS, &seq), -EINPROGRESS, "status runs");
	is_int(wait_exit(&p, 5000, &rseq, &rc), 1, "its exit record");
	ok(rseq == seq && rc == -ESRCH, "stopped (exit 3): -ESRCH (%d), for its request", rc);
	is_int(privop_res(&p, 0, RES_START, &seq), -EINPROGRESS, "start runs");
	st = wait_exit(&p, 5000, &rseq, &rc);
	ok(st == 1 && rseq == seq && rc == 0, "started: 0 (%d)", rc);
	snprintf(path, sizeof(path), "%s/fds", dir);
	f = fopen(path, "r");
	comm[0] = 0;
	if (f) {
		size_t n = fread(comm, 1, sizeof(comm) - 1, f);

		comm[n] = 0;
		fclose(f);
	}
	for (st = 0; comm[st]; st++)
		if (comm[st] == '\n')
			comm[st] = ' ';
	is_str(comm, "0 1 2 ", "a script's child sees stdin, stdout, stderr and nothing more");
	privop_res(&p, 0, RES_STATUS, &seq);
	st = wait_exit(&p, 5000, &rseq, &rc);
	ok(st == 1 && rc == 0, "status now running: 0 (%d)", rc);

	/* the limit, enforced by the helper */
	snprintf(path, sizeof(path), "%s/slow", dir);
	close(creat(path, 0600));
	clock_gettime(CLOCK_MONOTONIC, &t0);
	privop_res(&p, 0, RES_STATUS, &seq);
	is_int(privop_res(&p, 0, RES_STATUS, &rseq), -EBUSY, "a second step meanwhile: busy");
	st = wait_exit(&p, RES_STATUS_TIMEOUT_MS + 2000, &rseq, &rc);
	ok(st == 1 && rseq == seq && rc == -ETIMEDOUT, "a status past its limit: -ETIMEDOUT (%d)",
	   rc);
	ok(ms_since(&t0) >= RES_STATUS_TIMEOUT_MS - 50 && ms_since(&t0) < RES_STATUS_TIMEOUT_MS + 1000,
	   "at the limit (%ld ms)", ms_since(&t0));
	privop_res(&p, 0, RES_STATUS, &seq);
	is_int(privop_res_cancel(&p), 0, "cancelled");
	is_int(wait_exit(&p, 500, &rseq, &rc), 0, "no record for a cancelled step");
	unlink(path);

	vdiskd_request(&p, c->res.res[1].arg, lfd);

	/* it exits when standbyd's end closes */
	rc = (int)p.pid;
	privop_stop(&p);
	ok(kill(rc, 0) < 0 && errno == ESRCH, "helper gone once our end closed");

	/* one that is killed: EOF on the exit pair, and requests fail */
	if (!ok(privop_start(&p, &s) == 0, "another helper"))
		return;
	kill(p.pid, SIGKILL);
	waitpid(p.pid, &st, 0);
	p.pid = 0;
	is_int(wait_exit(&p, 1000, &rseq, &rc), -1, "a killed helper: EOF on the exit pair");
	is_int(privop_arp(&p, 0, 1), -EPIPE, "and requests fail with -EPIPE");
	privop_stop(&p);

	/* one that is stuck: a quick request gives up after PRIVOP_FAST_MS, the loss is told
	 * at once (the hook, before -EPIPE returns), and privop_stop does not wait for it */
	if (!ok(privop_start(&p, &s) == 0, "a third helper"))
		return;
	lost_calls = 0;
	p.on_lost = on_lost;
	p.lost_arg = &lost_calls;
	rc = (int)p.pid;
	kill(rc, SIGSTOP);
	clock_gettime(CLOCK_MONOTONIC, &t0);
	is_int(privop_res_cancel(&p), -EPIPE, "a stuck helper: a quick request fails with -EPIPE");
	ok(ms_since(&t0) >= PRIVOP_FAST_MS - 50 && ms_since(&t0) < PRIVOP_FAST_MS + 500,
	   "after PRIVOP_FAST_MS (%ld ms)", ms_since(&t0));
	ok(p.lost && lost_calls == 1, "lost, and the hook ran once (%d)", lost_calls);
	is_int(privop_res_cancel(&p), -EPIPE, "the next request fails at once");
	is_int(lost_calls, 1, "without telling again");
	clock_gettime(CLOCK_MONOTONIC, &t0);
	privop_stop(&p);
	ok(ms_since(&t0) < 200, "privop_stop does not wait for a lost helper (%ld ms)",
	   ms_since(&t0));
	kill(rc, SIGKILL);
	waitpid(rc, &st, 0);
	snprintf(path, sizeof(path), "%s/up", dir);
	unlink(path);
}

/* The next frame record within ms: 1 with *f, 0 when none came, -1 when lost. */
static int wait_frame(struct privop *p, int ms, struct privop_frame *f)
{
	struct pollfd pfd = { .fd = p->frame_fd, .events = POLLIN };
	int got;

	if (poll(&pfd, 1, ms) != 1)
		return 0;
	got = privop_read_frame(p, f);
	return got < 0 ? -1 : got;
}

/* pxed's pid, as the stand-in wrote it once running; 0 if it does not within 2 s. */
static pid_t standin_pid(const char *path)
{
	struct timespec t0;
	long pid = 0;
	FILE *f;

	clock_gettime(CLOCK_MONOTONIC, &t0);
	while (ms_since(&t0) < 2000) {
		f = fopen(path, "r");
		if (f) {
			if (fscanf(f, "%ld", &pid) != 1)
				pid = 0;
			fclose(f);
		}
		if (pid > 0)
			return (pid_t)pid;
		poll(NULL, 0, 10);	/* a poll interval: the stand-in writes it at its start */
	}
	return 0;
}

/* pxed's stop is a child's step like a script's: SIGTERM at once, its exit a record; one that
 * ignores SIGTERM is killed at RES_PXED_STOP_MS and counts as stopped. The helper serves on
 * meanwhile. */
static void live_pxed(struct ha_config *c, const char *dir)
{
	static struct res_runtime rt[HA_MAX_RES];
	struct pinger ping = { .fd = -1 };
	struct privop_setup s = { .cfg = c, .rt = rt, .ping = &ping, .tickle_fd = -1 };
	char script[200], pidfile[220], flag[220];
	struct timespec t0;
	struct privop p;
	uint32_t seq, rseq;
	int rc, round;
	pid_t pid;
	FILE *f;

	snprintf(script, sizeof(script), "%s/fake-pxed", dir);
	snprintf(pidfile, sizeof(pidfile), "%s/fake-pxed.pid", dir);
	snprintf(flag, sizeof(flag), "%s/stubborn", dir);
	f = fopen(script, "w");
	fprintf(f, "[ -e %s ] && trap '' TERM\necho $$ >%s.new && mv %s.new %s\nexec sleep 60\n",
		flag, pidfile, pidfile, pidfile);
	fclose(f);
	memset(&c->res, 0, sizeof(c->res));
	c->res.res[0].kind = HA_RES_PXED;
	snprintf(c->res.res[0].arg, sizeof(c->res.res[0].arg), "/bin/sh %s", script);
	c->res.nres = 1;
	c->res.ipaddr_idx = -1;
	if (!ok(privop_start(&p, &s) == 0, "helper for pxed started"))
		return;
	for (round = 0; round < 2; round++) {
		const char *how = round ? "a pxed that ignores SIGTERM" : "a pxed";

		if (round)
			close(creat(flag, 0600));
		unlink(pidfile);
		is_int(privop_res(&p, 0, RES_START, &seq), 0, "%s: started", how);
		pid = standin_pid(pidfile);
		ok(pid > 0, "%s: running (pid %d)", how, (int)pid);
		clock_gettime(CLOCK_MONOTONIC, &t0);
		is_int(privop_res(&p, 0, RES_STOP, &seq), -EINPROGRESS, "%s: its stop runs", how);
		ok(ms_since(&t0) < PRIVOP_FAST_MS, "%s: answered at once (%ld ms)", how,
		   ms_since(&t0));
		if (round)	/* it runs for RES_PXED_STOP_MS; the other may be gone already */
			is_int(privop_res(&p, 0, RES_STATUS, &rseq), -EBUSY,
			       "%s: the helper serves on (a second step: busy)", how);
		rc = 1;
		is_int(wait_exit(&p, RES_PXED_STOP_MS + 2000, &rseq, &rc), 1, "%s: its exit record",
		       how);
		ok(rseq == seq && rc == 0, "%s: stopped (%d)", how, rc);
		if (round)
			ok(ms_since(&t0) >= RES_PXED_STOP_MS - 50,
			   "%s: killed at the limit (%ld ms)", how, ms_since(&t0));
		else
			ok(ms_since(&t0) < RES_PXED_STOP_MS / 2, "%s: by SIGTERM (%ld ms)", how,
			   ms_since(&t0));
		ok(pid > 0 && kill(pid, 0) < 0 && errno == ESRCH, "%s: gone and reaped", how);
		is_int(privop_res(&p, 0, RES_STATUS, &rseq), -ESRCH, "%s: status stopped", how);
	}
	privop_stop(&p);
	unlink(flag);
	unlink(pidfile);
	unlink(script);
}

/* Sends an echo request with id to 127.0.0.1 from a socket of the test's own: its reply is
 * to another id than the helper's. */
static int echo_other(uint16_t id)
{
	struct sockaddr_in to = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(0x7f000001u) };
	uint8_t h[8] = { 8, 0, 0, 0, (uint8_t)(id >> 8), (uint8_t)id, 0, 1 };
	uint32_t sum = 0;
	unsigned i;
	int fd = socket(AF_INET, SOCK_RAW | SOCK_CLOEXEC, IPPROTO_ICMP), rc;

	if (fd < 0)
		return -1;
	for (i = 0; i < sizeof(h); i += 2)
		sum += (uint32_t)(h[i] << 8 | h[i + 1]);
	sum = (sum & 0xffff) + (sum >> 16);
	h[2] = (uint8_t)(~sum >> 8);
	h[3] = (uint8_t)~sum;
	rc = sendto(fd, h, sizeof(h), 0, (struct sockaddr *)&to, sizeof(to)) == sizeof(h) ? 0 : -1;
	close(fd);
	return rc;
}

/* A loopback of the test's own, so that nothing else the host pings shows up. */
static int private_loopback(void)
{
	struct ifreq ifr = { .ifr_name = "lo" };
	int fd, rc = -1;

	if (unshare(CLONE_NEWNET) < 0)
		return -1;
	fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (fd >= 0 && ioctl(fd, SIOCGIFFLAGS, &ifr) == 0) {
		ifr.ifr_flags |= IFF_UP;
		rc = ioctl(fd, SIOCSIFFLAGS, &ifr);
	}
	if (fd >= 0)
		close(fd);
	return rc;
}

/* The helper reads the ICMP socket and hands up what came, unparsed, marked with the last
 * request it had served: only echo replies to its id (the socket filter: our own echo request,
 * delivered to raw sockets too on loopback, and a reply to another id stay out). A loop that
 * does not read: the pair fills and replies are dropped, not counted as lost claims (a lost
 * reply can only refuse a takeover). */
static void live_ping(struct ha_config *c)
{
	static struct res_runtime rt[HA_MAX_RES];
	struct pinger ping = { .fd = -1 };
	struct privop_setup s = { .cfg = c, .rt = rt, .ping = &ping, .tickle_fd = -1 };
	struct privop_frame f;
	struct privop p;
	unsigned long got = 0;
	unsigned i, sent = 0;
	uint32_t seq;

	c->res.nres = 0;
	c->res.ipaddr_idx = -1;
	c->cf.nping = 1;
	c->cf.ping[0] = 0x7f000001u;	/* 127.0.0.1 */
	if (!ok(pinger_open(&ping) == 0, "ICMP socket"))
		return;
	if (!ok(privop_start(&p, &s) == 0, "helper with the ICMP socket started")) {
		pinger_close(&ping);
		return;
	}
	pinger_close(&ping);	/* as standbyd's loop does: the helper's alone */
	is_int(privop_ping(&p, 0), 0, "ping 127.0.0.1 sent by the helper");
	seq = p.seq;
	is_int(wait_frame(&p, 2000, &f), 1, "a frame record came");
	is_int(f.kind, PRIVOP_FRAME_ICMP, "of the ICMP socket");
	ok(f.seq == seq, "marked with the ping's request (%u, %u)", f.seq, seq);
	is_int(icmp_is_echo_reply(f.data, f.len, ping.id), 1,
	       "an echo reply to our id, as the helper read it (%u bytes)", f.len);
	is_int(echo_other((uint16_t)(ping.id ^ 0x5a5a)), 0, "an echo to another id sent");
	is_int(wait_frame(&p, 300, &f), 0,
	       "nothing else: neither our echo request nor the other id's reply came up");
	privop_res_cancel(&p);
	is_int(privop_ping(&p, 0), 0, "a second ping after another request");
	is_int(wait_frame(&p, 2000, &f), 1, "a record");
	ok(f.kind == PRIVOP_FRAME_ICMP && icmp_is_echo_reply(f.data, f.len, ping.id),
	   "its reply");
	ok(f.seq == p.seq, "marked with the second ping (%u, %u)", f.seq, p.seq);

	/* the pair holds about 5,000; 8,000 replies while nothing reads: the rest dropped, and
	 * not counted as lost claims (a lost reply can only refuse a takeover) */
	for (i = 0; i < 8000; i++)
		sent += privop_ping(&p, 0) == 0;
	is_int((int)sent, 8000, "8000 pings sent, the frame pair unread");
	is_int(privop_sync(&p), 0, "a sync");
	while (wait_frame(&p, 200, &f) == 1)
		got += f.kind == PRIVOP_FRAME_ICMP && icmp_is_echo_reply(f.data, f.len, ping.id);
	ok(got > 1000 && got < sent, "the pair filled: %lu of %u handed up", got, sent);
	is_int((int)p.arp_dropped, 0, "no claim of the address counted as lost");
	privop_stop(&p);
	c->cf.nping = 0;
}

/* The loop's side of the frame pair: anything but a whole record of a known kind is the
 * helper lost; and the freshness rule a probe counts by. */
static void frame_records(void)
{
	struct privop_frame f;
	struct {
		const char *what;
		size_t len;
		uint16_t kind, flen;
	} v[] = {
		{ "a record one byte short", sizeof(f) - 1, PRIVOP_FRAME_ARP, 42 },
		{ "a record one byte long", sizeof(f) + 1, PRIVOP_FRAME_ARP, 42 },
		{ "kind 0", sizeof(f), 0, 42 },
		{ "an unknown kind", sizeof(f), PRIVOP_FRAME_ICMP + 1, 42 },
		{ "a length past the data", sizeof(f), PRIVOP_FRAME_ICMP, PRIVOP_FRAME_MAX + 1 },
	};
	struct {
		uint32_t rec, since;
		int want;
	} fresh[] = {
		{ 7, 7, 1 }, { 8, 7, 1 }, { 6, 7, 0 }, { 0, 1, 0 },
		{ 2, 0xfffffffeu, 1 },		/* past the wrap */
		{ 0xfffffffeu, 2, 0 },		/* before it */
	};
	uint8_t buf[sizeof(f) + 1];
	unsigned i;
	int sp[2];

	for (i = 0; i < sizeof(v) / sizeof(v[0]); i++) {
		struct privop p = { .fd = -1, .exit_fd = -1 };

		if (socketpair(AF_UNIX, SOCK_SEQPACKET, 0, sp) < 0)
			return;
		p.frame_fd = sp[0];
		memset(&f, 0, sizeof(f));
		f.kind = PRIVOP_FRAME_ARP;
		f.len = 42;
		send(sp[1], &f, sizeof(f), 0);
		is_int(privop_read_frame(&p, &f), 1, "%s: a good record before it is read",
		       v[i].what);
		memset(buf, 0, sizeof(buf));
		memcpy(buf + offsetof(struct privop_frame, kind), &v[i].kind, 2);
		memcpy(buf + offsetof(struct privop_frame, len), &v[i].flen, 2);
		send(sp[1], buf, v[i].len, 0);
		is_int(privop_read_frame(&p, &f), -EPIPE, "%s: the helper lost", v[i].what);
		ok(p.lost, "%s: marked lost", v[i].what);
		close(sp[0]);
		close(sp[1]);
	}
	for (i = 0; i < sizeof(fresh) / sizeof(fresh[0]); i++) {
		f.seq = fresh[i].rec;
		is_int(privop_frame_since(&f, fresh[i].since), fresh[i].want,
		       "a record of request %u read since request %u: %s", fresh[i].rec,
		       fresh[i].since, fresh[i].want ? "yes" : "no");
	}
}

/* Claims of the service address sent on lo (a raw packet socket of the test's), as a LAN PC
 * would send them; n of them. The number sent. */
static unsigned claims_send(uint32_t addr, unsigned n)
{
	static const uint8_t pc[6] = { 0x02, 0, 0, 0, 0, 0x01 };
	struct sockaddr_ll to = { .sll_family = AF_PACKET, .sll_protocol = htons(ETH_P_ARP),
				  .sll_ifindex = (int)if_nametoindex("lo"), .sll_halen = 6 };
	uint8_t frame[ARP_FRAME_LEN];
	unsigned i, sent = 0;
	int fd = socket(AF_PACKET, SOCK_RAW | SOCK_CLOEXEC, 0);

	if (fd < 0)
		return 0;
	arp_build_garp(frame, pc, addr, 1);
	for (i = 0; i < n; i++)
		sent += sendto(fd, frame, sizeof(frame), 0, (struct sockaddr *)&to,
			       sizeof(to)) == (ssize_t)sizeof(frame);
	close(fd);
	return sent;
}

/* The claims the helper hands up, syncing until a sync brings nothing new: by then each
 * claim sent is a record or counted in p->arp_dropped. */
static unsigned long claims_settle(struct privop *p)
{
	struct privop_frame f;
	unsigned long got = 0, before;
	unsigned rounds;

	for (rounds = 0; rounds < 100; rounds++) {
		before = got;
		if (privop_sync(p))
			break;
		while (wait_frame(p, 0, &f) == 1)
			got += f.kind == PRIVOP_FRAME_ARP;
		if (got == before)
			break;
	}
	return got;
}

/* The ARP capture in the helper (on lo, in the test's network namespace): a claim comes up
 * as a record the loop classifies; a flood into an unread pair: every claim a record or
 * counted in arp_dropped once a sync has been answered, so that a probe never takes the
 * silence of a full pair for no answer. */
static void live_arp(struct ha_config *c)
{
	static struct res_runtime rt[HA_MAX_RES];
	static const uint8_t own[6];
	struct pinger ping = { .fd = -1 };
	struct arp_port arp;
	struct privop_setup s = { .cfg = c, .rt = rt, .arp = &arp, .ping = &ping,
				  .tickle_fd = -1 };
	struct privop_frame f;
	struct privop p;
	char err[300] = "";
	uint8_t who[6];
	unsigned long got;
	uint32_t base;
	unsigned sent;

	memset(&c->res, 0, sizeof(c->res));
	c->res.res[0].kind = HA_RES_IPADDR;
	c->res.res[0].addr = SVC_ADDR;
	c->res.nres = 1;
	c->res.ipaddr_idx = 0;
	if (!ok(arp_open(&arp, "lo", SVC_ADDR, err, sizeof(err)) == 0, "a capture on lo%s%s",
		*err ? ": " : "", err))
		return;
	if (!ok(privop_start(&p, &s) == 0, "helper with the capture started")) {
		arp_close(&arp);
		return;
	}
	arp_close(&arp);	/* as standbyd's loop does: the helper's alone */
	is_int(privop_sync(&p), 0, "a sync");
	is_int((int)claims_send(SVC_ADDR + 1, 1), 1, "a claim of another address sent");
	is_int((int)claims_send(SVC_ADDR, 1), 1, "a claim of the service address sent");
	is_int(wait_frame(&p, 2000, &f), 1, "a record came");
	ok(f.kind == PRIVOP_FRAME_ARP &&
	   arp_classify(f.data, f.len, SVC_ADDR, own, NULL, who) == ARP_CLAIM_HOLDER,
	   "the service address's claim (the other one filtered out by the capture)");
	is_int(wait_frame(&p, 300, &f), 0, "nothing else");

	sent = claims_send(SVC_ADDR, 8000);
	is_int((int)sent, 8000, "8000 claims sent, the frame pair unread");
	got = claims_settle(&p);
	ok(p.arp_dropped > 0 && got > 1000, "the pair filled: %lu handed up, %u counted lost",
	   got, p.arp_dropped);
	ok(got + p.arp_dropped >= sent,
	   "every claim a record or counted lost (%lu + %u of %u)", got, p.arp_dropped, sent);

	/* the helper stalled while claims pour in: the capture's own buffer overflows. One
	 * sync, as a probe makes, already sees a loss; syncs until nothing is new, every claim
	 * accounted for (the capture's count too: lo's looped-back copies take room in it as
	 * well, so at least) */
	base = p.arp_dropped;
	kill(p.pid, SIGSTOP);
	sent = claims_send(SVC_ADDR, 30000);
	kill(p.pid, SIGCONT);
	is_int((int)sent, 30000, "30000 claims sent to a stalled helper");
	is_int(privop_sync(&p), 0, "one sync");
	ok(p.arp_dropped != base, "it counts a loss (%u since)", p.arp_dropped - base);
	got = claims_settle(&p);
	ok(got + (p.arp_dropped - base) >= sent,
	   "every claim a record or counted lost (%lu + %u of %u)", got, p.arp_dropped - base,
	   sent);
	privop_stop(&p);
}

int main(void)
{
	char dir[] = "/tmp/test-privop.XXXXXX", path[600];
	struct ha_config *c = calloc(1, sizeof(*c));

	log_init("test_standby_privop", 0, LOG_WARNING);
	if (!mkdtemp(dir))
		return 1;
	config(c, dir);
	check_vectors(c);
	frame_records();
	if (geteuid() == 0) {
		live(c, dir);
		live_pxed(c, dir);
		/* last: they move the test to a network namespace of its own */
		if (ok(private_loopback() == 0, "a network namespace of its own, lo up")) {
			live_ping(c);
			live_arp(c);
		}
	} else
		diag("not root: the live helper is not tested");
	snprintf(path, sizeof(path), "%s/resource.d/svc", dir);
	unlink(path);
	snprintf(path, sizeof(path), "%s/resource.d", dir);
	rmdir(path);
	rmdir(dir);
	free(c);
	return done_testing();
}
