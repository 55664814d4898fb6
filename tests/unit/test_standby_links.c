/* The heartbeat links and their unprivileged receiver (links.c, hbrx.c), on a real link
 * socket (bcast on lo) and the real event loop:
 * - the receiver runs without root, capabilities or files: its ids, capability sets, open
 *   descriptors and root directory as /proc shows them;
 * - a flood of malformed packets reaches the daemon as a few counts, not a record each, and
 *   an authentic heartbeat sent in the middle of it is heard;
 * - an unauthentic one is counted as such;
 * - a receiver that dies is started again and heartbeats go on;
 * - a record that is not one (a receiver taken over) is refused: every check of
 *   hbrx_rec_check has a must-fail vector;
 * - under its seccomp filter, a process can send on its end of the pair only: not on a link,
 *   nor open a socket or a file, nor signal.
 * The process part needs root (SO_BINDTODEVICE, dropping to another user). */
#include <arpa/inet.h>
#include <dirent.h>
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include "common/log.h"
#include "standby/links.h"
#include "tests/lib/tap.h"

/* Both floods and the heartbeat between them stay below what the link socket's buffer holds
 * (256 such packets by default), so the kernel drops none even if the receiver does not run
 * until all are sent. */
#define FLOOD 100
#define WAIT_MS 10000

static unsigned long heard;
static unsigned dropped_calls;
static unsigned long drops[HB_DROP_NKINDS];
static char heard_from[HA_NAME_MAX];

static void count_heard(void *arg, struct sb_link *l, const struct hb_msg *msg)
{
	(void)arg, (void)l;
	heard++;
	snprintf(heard_from, sizeof(heard_from), "%s", msg->node);
}

static void count_dropped(void *arg, struct sb_link *l, enum hb_drop why, unsigned long count)
{
	(void)arg, (void)l;
	dropped_calls++;
	drops[why] += count;
}

static const struct sb_links_hooks counting = { .heard = count_heard,
						 .dropped = count_dropped };

static void on_stop(struct ev_timer *t)
{
	ev_stop(t->arg);
}

/* Runs the loop for up to 20 ms: what is ready, then a timer stops it. */
static void spin(struct evloop *loop)
{
	struct ev_timer stop;

	ev_timer_init(&stop, on_stop, loop);
	ev_timer_arm(loop, &stop, 20);
	evloop_run(loop);
}

/* Runs the loop until *counter reaches want or WAIT_MS pass; 1 when it did. */
static int spin_until(struct evloop *loop, const unsigned long *counter, unsigned long want)
{
	int i;

	for (i = 0; i < WAIT_MS / 20 && *counter < want; i++)
		spin(loop);
	return *counter >= want;
}

static int send_raw(unsigned port, const void *buf, size_t len, int n)
{
	struct sockaddr_in to = { .sin_family = AF_INET, .sin_port = htons(port),
				  .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	int fd = socket(AF_INET, SOCK_DGRAM, 0), i, sent = 0;

	for (i = 0; fd >= 0 && i < n; i++)
		if (sendto(fd, buf, len, 0, (struct sockaddr *)&to, sizeof(to)) == (ssize_t)len)
			sent++;
	if (fd >= 0)
		close(fd);
	return sent;
}

static int flood(unsigned port, int n)
{
	return send_raw(port, "SBHBgarbage", 11, n);
}

/* An authentic heartbeat from the peer (alpha) of one boot generation, sequence seq, signed
 * with keys' key key, sent copies times. Returns how many went. */
static int heartbeat_send(unsigned port, const struct ha_authkeys *keys, unsigned key,
			  uint64_t seq, int copies)
{
	static uint64_t gen;
	struct hb_msg m = { .version = HB_VERSION, .key_index = (uint8_t)key, .seq = seq };
	uint8_t pkt[HB_LEN];
	int len;

	strcpy(m.cluster, "lab");
	strcpy(m.node, "alpha");
	m.time_ms = hb_wall_ms();
	if (!gen)
		gen = m.time_ms * 1000 - 5000000;	/* started 5 s ago */
	m.boot_gen = gen;
	len = hb_encode(&m, keys, pkt);
	return len > 0 ? send_raw(port, pkt, (size_t)len, copies) : 0;
}

static int heartbeat_key(unsigned port, const struct ha_authkeys *keys, unsigned key,
			 uint64_t seq)
{
	return heartbeat_send(port, keys, key, seq, 1) == 1;
}

static int heartbeat(unsigned port, const struct ha_authkeys *keys, uint64_t seq)
{
	return heartbeat_key(port, keys, 1, seq);
}

static void config(struct ha_config *c)
{
	memset(c, 0, sizeof(*c));
	c->cf.udpport = 40000 + (unsigned)getpid() % 20000;
	c->cf.links[0].kind = HA_LINK_BCAST;
	strcpy(c->cf.links[0].ifname, "lo");
	c->cf.nlinks = 1;
	strcpy(c->cf.cluster, "lab");
	strcpy(c->node, "beta");
	strcpy(c->peer, "alpha");
	c->keys.active = 1;
	c->keys.keys[1].alg = HA_AUTH_SHA256;
	c->keys.keys[1].keylen = 32;
	memset(c->keys.keys[1].key, 'k', 32);
	/* listed, not active: a peer in the middle of a key change signs with it */
	c->keys.keys[2].alg = HA_AUTH_SHA1;
	c->keys.keys[2].keylen = 32;
	memset(c->keys.keys[2].key, 'j', 32);
}

/* The value of a "Name:\t..." line of /proc/PID/status, or "". */
static void proc_status(pid_t pid, const char *name, char *out, size_t outlen)
{
	char path[64], line[256];
	size_t nlen = strlen(name);
	FILE *f;

	*out = 0;
	snprintf(path, sizeof(path), "/proc/%d/status", (int)pid);
	f = fopen(path, "r");
	while (f && fgets(line, sizeof(line), f))
		if (strncmp(line, name, nlen) == 0 && line[nlen] == ':') {
			snprintf(out, outlen, "%s", line + nlen + 1 + strspn(line + nlen + 1, "\t "));
			out[strcspn(out, "\n")] = 0;
		}
	if (f)
		fclose(f);
}

/* Its descriptors above stderr, or -1 when /proc does not show them (reading another
 * user's non-dumpable process's needs CAP_SYS_PTRACE, which some containers' root lacks). */
static int count_fds(pid_t pid)
{
	char path[64];
	struct dirent *e;
	DIR *dir;
	int n = 0;

	snprintf(path, sizeof(path), "/proc/%d/fd", (int)pid);
	dir = opendir(path);
	while (dir && (e = readdir(dir)))
		n += e->d_name[0] != '.' && atoi(e->d_name) > 2;
	if (dir)
		closedir(dir);
	return dir ? n : -1;
}

/* 1 when the four ids of a Uid: or Gid: line are there and none is 0. */
static int no_zero_id(const char *v)
{
	unsigned id[4];

	return sscanf(v, "%u %u %u %u", &id[0], &id[1], &id[2], &id[3]) == 4 && id[0] && id[1] &&
	       id[2] && id[3];
}

static void receiver_confined(pid_t pid)
{
	char v[256], root[256];
	ssize_t n;
	int fds;

	proc_status(pid, "Uid", v, sizeof(v));
	ok(no_zero_id(v), "the receiver's real, effective, saved and fs uids are not root's (%s)",
	   v);
	proc_status(pid, "Gid", v, sizeof(v));
	ok(no_zero_id(v), "nor its gids (%s)", v);
	proc_status(pid, "Groups", v, sizeof(v));
	is_str(v, "", "and no supplementary groups");
	proc_status(pid, "CapEff", v, sizeof(v));
	is_str(v, "0000000000000000", "no effective capability");
	proc_status(pid, "CapPrm", v, sizeof(v));
	is_str(v, "0000000000000000", "no permitted capability");
	proc_status(pid, "NoNewPrivs", v, sizeof(v));
	is_str(v, "1", "no new privileges through exec");
	proc_status(pid, "Seccomp", v, sizeof(v));
	is_str(v, "2", "a seccomp filter");
	fds = count_fds(pid);
	if (fds < 0) {
		printf("# SKIP its descriptors and root: /proc hides them (%s)\n", strerror(errno));
		return;
	}
	is_int(fds, 2, "two descriptors above stderr: the pair's end, the link");
	snprintf(v, sizeof(v), "/proc/%d/root", (int)pid);
	n = readlink(v, root, sizeof(root) - 1);
	root[n > 0 ? n : 0] = 0;
	ok(strstr(root, "standbyd-rx.") && strstr(root, "(deleted)"),
	   "its root is a removed empty directory (%s)", root);
}

/* The filter in a child of the test: the end of a pair as fd 3, a UDP socket standing for a
 * link. Its exit status has a bit per thing that went against the rule. */
static void seccomp_filter(void)
{
	int sv[2], status = 0, st;
	pid_t pid;

	if (!ok(socketpair(AF_UNIX, SOCK_SEQPACKET, 0, sv) == 0, "a pair for the filter test"))
		return;
	pid = fork();
	if (pid == 0) {
		struct sockaddr_in to = { .sin_family = AF_INET, .sin_port = htons(9),
					  .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
		int link = socket(AF_INET, SOCK_DGRAM, 0), bad = 0;

		if (dup2(sv[1], 3) < 0 || link < 0 || hbrx_seccomp())
			_exit(64);
		if (send(3, "r", 1, 0) != 1)
			bad |= 1;
		if (sendto(link, "x", 1, 0, (struct sockaddr *)&to, sizeof(to)) >= 0 ||
		    errno != EPERM)
			bad |= 2;
		if (socket(AF_INET, SOCK_DGRAM, 0) >= 0 || errno != EPERM)
			bad |= 4;
		if (fopen("/etc/hostname", "r") || errno != EPERM)
			bad |= 8;
		if (kill(getppid(), 0) == 0 || errno != EPERM)
			bad |= 16;
		_exit(bad);
	}
	close(sv[1]);
	while (pid > 0 && waitpid(pid, &st, 0) < 0 && errno == EINTR)
		;
	if (pid > 0 && WIFEXITED(st))
		status = WEXITSTATUS(st);
	else
		status = -1;
	is_int(status, 0, "under the filter: the pair's end sends; a link's sendto, a new socket, "
	       "opening a file and a signal fail with EPERM");
	close(sv[0]);
}

static void records(void)
{
	struct hbrx_rec r;
	struct hbrx rx;
	int sv[2];

	memset(&r, 0, sizeof(r));
	r.why = HB_OK;
	r.len = HB_LEN;
	r.count = 1;
	is_int(hbrx_rec_check(&r, sizeof(r), 1), 0, "a packet record passes");
	r.len = HB_V1_LEN;
	is_int(hbrx_rec_check(&r, sizeof(r), 1), 0, "a version 1 packet record passes");
	is_int(hbrx_rec_check(&r, sizeof(r) - 1, 1), -EPROTO, "short: refused");
	is_int(hbrx_rec_check(&r, sizeof(r) + 1, 1), -EPROTO, "long: refused");
	r.link = 1;
	is_int(hbrx_rec_check(&r, sizeof(r), 1), -EPROTO, "a link we do not have: refused");
	r.link = 0;
	r.len = HB_LEN - 1;
	is_int(hbrx_rec_check(&r, sizeof(r), 1), -EPROTO, "a packet of another length: refused");
	r.len = HB_LEN;
	r.count = 2;
	is_int(hbrx_rec_check(&r, sizeof(r), 1), -EPROTO, "a packet counted twice: refused");
	r.why = HB_DROP_AUTH;
	r.len = 0;
	is_int(hbrx_rec_check(&r, sizeof(r), 1), 0, "a drop count passes");
	r.count = 0;
	is_int(hbrx_rec_check(&r, sizeof(r), 1), -EPROTO, "a count of none: refused");
	r.count = 3;
	r.len = 10;
	is_int(hbrx_rec_check(&r, sizeof(r), 1), -EPROTO, "a count with bytes: refused");
	r.len = 0;
	r.why = HB_DROP_REPLAY;
	is_int(hbrx_rec_check(&r, sizeof(r), 1), 0, "a count of replays passes");
	r.why = HB_DROP_SELF;
	is_int(hbrx_rec_check(&r, sizeof(r), 1), -EPROTO, "a count of our own packets: refused");
	r.why = HB_DROP_DUP;
	is_int(hbrx_rec_check(&r, sizeof(r), 1), -EPROTO, "a count of copies: refused");
	r.why = HB_DROP_NKINDS;
	is_int(hbrx_rec_check(&r, sizeof(r), 1), -EPROTO, "no reason at all: refused");
	r.why = HB_OK;
	r.count = 0;
	is_int(hbrx_rec_check(&r, sizeof(r), 1), 0, "alive (no packet, no count) passes");
	r.count = 2;
	is_int(hbrx_rec_check(&r, sizeof(r), 1), -EPROTO, "no packet counted twice: refused");

	/* hbrx_read on a pair whose other end plays the receiver */
	if (!ok(socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_NONBLOCK, 0, sv) == 0, "a pair"))
		return;
	rx.pid = 0;
	rx.fd = sv[0];
	is_int(hbrx_read(&rx, 1, &r), 0, "nothing queued: 0");
	memset(&r, 0, sizeof(r));
	r.why = HB_DROP_MALFORMED;
	r.count = 7;
	send(sv[1], &r, sizeof(r), 0);
	memset(&r, 0, sizeof(r));
	is_int(hbrx_read(&rx, 1, &r), 1, "a record read");
	is_int(r.count, 7, "as sent");
	send(sv[1], "x", 1, 0);
	is_int(hbrx_read(&rx, 1, &r), -EPROTO, "a byte is no record");
	close(sv[1]);
	is_int(hbrx_read(&rx, 1, &r), -EPIPE, "the receiver gone: -EPIPE");
	hbrx_stop(&rx);
}

int main(void)
{
	static struct sb_links ls;
	struct ha_config cfg;
	struct ha_authkeys wrong;
	struct evloop *loop;
	unsigned long first;
	pid_t pid;

	log_init("test", 0, LOG_CRIT);
	records();
	seccomp_filter();
	if (getuid() != 0) {
		printf("# SKIP the receiver process: needs root (SO_BINDTODEVICE, setuid)\n");
		return done_testing();
	}
	config(&cfg);
	loop = evloop_new();
	if (!ok(loop && sb_links_open(&ls, loop, &cfg, &counting, NULL) == 0 &&
		sb_links_start(&ls, NULL) == 0,
		"a link on lo, UDP %u, and its receiver", cfg.cf.udpport))
		return done_testing();
	pid = ls.rx.pid;
	receiver_confined(pid);

	is_int(flood(cfg.cf.udpport, FLOOD), FLOOD, "%d malformed packets sent", FLOOD);
	ok(heartbeat(cfg.cf.udpport, &cfg.keys, 1), "an authentic heartbeat after them");
	is_int(flood(cfg.cf.udpport, FLOOD), FLOOD, "%d more after it", FLOOD);
	ok(spin_until(loop, &drops[HB_DROP_MALFORMED], 2 * FLOOD), "all %d are counted",
	   2 * FLOOD);
	is_int(drops[HB_DROP_MALFORMED], 2 * FLOOD, "exactly (%lu)", drops[HB_DROP_MALFORMED]);
	/* a record per 100 ms at most: 20 would take the flood 2 s to arrive */
	ok(dropped_calls < 20, "in a few records (%u), not one each", dropped_calls);
	ok(spin_until(loop, &heard, 1) && heard == 1, "the heartbeat amid them is heard");
	is_str(heard_from, "alpha", "from the peer");

	memcpy(&wrong, &cfg.keys, sizeof(wrong));
	wrong.keys[1].key[0] ^= 1;
	ok(heartbeat(cfg.cf.udpport, &wrong, 2), "a heartbeat signed with another key");
	ok(spin_until(loop, &drops[HB_DROP_AUTH], 1), "counted as unauthentic");
	first = heard;
	ok(heartbeat_key(cfg.cf.udpport, &cfg.keys, 2, 3), "one signed with the listed SHA1 key");
	ok(spin_until(loop, &heard, first + 1), "heard: the confined receiver checks every key");

	/* one authentic packet replayed: the receiver's own window stops the copies */
	first = heard;
	dropped_calls = 0;
	is_int(heartbeat_send(cfg.cf.udpport, &cfg.keys, 1, 4, 50), 50,
	       "one heartbeat sent 50 times");
	ok(spin_until(loop, &drops[HB_DROP_REPLAY], 49), "49 counted as replays");
	is_int(heard - first, 1, "heard once");
	ok(dropped_calls < 10, "the replays in a few records (%u), not one each", dropped_calls);

	kill(pid, SIGKILL);
	ok(spin_until(loop, &ls.rx_restarts, 1), "a killed receiver is started again");
	ok(ls.rx.pid > 0 && ls.rx.pid != pid, "as another process (%d, was %d)", (int)ls.rx.pid,
	   (int)pid);
	first = heard;
	ok(heartbeat(cfg.cf.udpport, &cfg.keys, 5), "a heartbeat to the new one");
	ok(spin_until(loop, &heard, first + 1), "heard");
	receiver_confined(ls.rx.pid);

	pid = ls.rx.pid;
	kill(pid, SIGSTOP);
	ok(spin_until(loop, &ls.rx_restarts, 2), "a stopped receiver (silent for %d ms) is "
	   "replaced", HBRX_STALL_MS);
	ok(ls.rx.pid > 0 && ls.rx.pid != pid, "by another process (%d, was %d)", (int)ls.rx.pid,
	   (int)pid);
	first = heard;
	ok(heartbeat(cfg.cf.udpport, &cfg.keys, 6), "a heartbeat to the new one");
	ok(spin_until(loop, &heard, first + 1), "heard");

	sb_links_close(&ls);
	evloop_free(loop);
	return done_testing();
}
