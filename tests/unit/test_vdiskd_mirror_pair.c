/* The mirror against a real replica in one process: a mirror store (libiscsi) logs in to an
 * iSCSI server whose one target is a replica LU, both on this loop over loopback. The local
 * leg of each write is held by the test, so what the peer leg does while the local one runs
 * can be checked exactly. A stand-in for standbyd's control socket answers the fence's
 * questions as each test says.
 *
 * writev is interposed (libiscsi sends data with it): a write's data must leave from an iovec
 * array of the mirror's own, never from the caller's. libiscsi moves and shortens the entries
 * it sends from and restores them afterwards, while a disk worker may be reading the caller's
 * array for the local leg: the local write then failed with EINVAL, or wrote from a moved
 * buffer (issue 15: the demo's 1 MiB write failed with ILLEGAL REQUEST in 1 run in 5). */
#include <errno.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <unistd.h>

#include "common/ctlsock.h"
#include "common/evloop.h"
#include "vdisk-server/iscsi/iscsi_proto.h"
#include "vdisk-server/iscsi/iscsi_target.h"
#include "vdisk-server/mirror/mirror_fence.h"
#include "vdisk-server/mirror/mirror_meta.h"
#include "vdisk-server/scsi/replica_lu.h"
#include "vdisk-server/mirror/store_mirror.h"
#include "vdisk-server/store/store_io.h"
#include "tests/lib/tap.h"

#define DISK (64ull * MIRROR_CHUNK)
#define TARGET "iqn.2026-11.lan.vdisk:disk"
#define INITIATOR "iqn.2026-11.lan.vdisk:pc001"
#define NIOV 16

static struct evloop *loop;
static char dir[] = "/tmp/test_mirror_pair.XXXXXX";

/* ---- writev, watched ---- */

static const struct iovec *watched;	/* the caller's array of the write under test */
static int nwatched, shared_sends;

ssize_t writev(int fd, const struct iovec *iov, int iovcnt)
{
	if (watched && iov >= watched && iov < watched + nwatched)
		shared_sends++;
	return syscall(SYS_writev, fd, iov, iovcnt);
}

/* ---- the peer's disk: memory, completed on the loop's next round ---- */

struct mem_store {
	struct store st;
	uint8_t *data;
	struct store_req *queue;
	struct ev_timer later;
	unsigned writes;
	int hold;		/* the peer's disk answers nothing for now */
};

static void mem_later(struct ev_timer *t)
{
	struct mem_store *ms = t->arg;

	while (ms->queue) {
		struct store_req *req = ms->queue;

		ms->queue = req->next;
		req->done(req);
	}
}

static int mem_submit(struct store *st, struct store_req *req)
{
	struct mem_store *ms = (struct mem_store *)st;
	uint64_t off = req->offset;

	req->result = 0;
	if (req->op == STORE_OP_WRITE || req->op == STORE_OP_READ) {
		for (int i = 0; i < req->iovcnt && off < req->offset + req->length; i++) {
			size_t l = req->iov[i].iov_len;

			if (l > req->offset + req->length - off)
				l = (size_t)(req->offset + req->length - off);
			if (req->op == STORE_OP_WRITE)
				memcpy(ms->data + off, req->iov[i].iov_base, l);
			else
				memcpy(req->iov[i].iov_base, ms->data + off, l);
			off += l;
		}
		ms->writes += req->op == STORE_OP_WRITE;
	}
	req->next = ms->queue;
	ms->queue = req;
	if (!ms->hold && !ev_timer_armed(&ms->later))
		ev_timer_arm(loop, &ms->later, 0);
	return 0;
}

static int mem_lba_status(struct store *st, uint64_t offset, int *mapped, uint64_t *run)
{
	*mapped = 0;
	*run = st->size - offset;
	return 0;
}

static int mem_reset(struct store *st)
{
	memset(((struct mem_store *)st)->data, 0, st->size);
	return 0;
}

static void nop_close(struct store *st)
{
	(void)st;
}

static const struct store_ops mem_ops = { .submit = mem_submit, .lba_status = mem_lba_status,
					  .reset = mem_reset, .close = nop_close };

/* ---- the source's disk: holds every write until the test completes it ---- */

static struct store_req *held;
static struct mem_store local_disk;	/* reads (resync copies) and flushes */

static int hold_submit(struct store *st, struct store_req *req)
{
	(void)st;
	if (req->op != STORE_OP_WRITE)
		return mem_submit(&local_disk.st, req);
	req->next = held;
	held = req;
	return 0;
}

static void complete_held(void)
{
	while (held) {
		struct store_req *req = held;

		held = req->next;
		req->result = 0;
		req->done(req);
	}
}

static const struct store_ops hold_ops = { .submit = hold_submit, .lba_status = mem_lba_status,
					   .reset = mem_reset, .close = nop_close };

/* ---- the peer: an iSCSI server with the replica target ---- */

static struct mem_store peer_disk;
static struct mirror_meta peer_meta;
static struct replica rep;
static struct scsi_lu rlu;
static struct iscsi_target rtgt;
static const struct chap_cred pair = { "vdisk-pair", "mirror-test-pair-secret-0123456789" };
static int peer_away;	/* the replica listener refuses logins */

static int rep_attach(void *arg, const char *initiator, const char *target_name,
		      uint32_t addr, struct iscsi_target **out)
{
	(void)arg, (void)initiator, (void)addr;
	if (peer_away)
		return -ISCSI_LOGIN_UNAVAILABLE;
	if (strcmp(target_name, TARGET) != 0)
		return -ISCSI_LOGIN_NOT_FOUND;
	*out = &rtgt;
	return 0;
}

static void rep_detach(void *arg, struct iscsi_target *tgt)
{
	(void)arg, (void)tgt;
}

static void rep_discover(void *arg, const char *initiator, const char *name,
			 void (*emit)(void *ctx, const char *target), void *ctx)
{
	(void)arg, (void)initiator, (void)name, (void)emit, (void)ctx;
}

static int peer_open(struct iscsi_server *srv, uint16_t *port)
{
	static const struct iscsi_provider prov = { .attach = rep_attach, .detach = rep_detach,
						    .discover = rep_discover };
	struct sockaddr_in sa;
	socklen_t len = sizeof(sa);
	char path[300];

	peer_disk.st = (struct store){ .ops = &mem_ops, .size = DISK, .thin = 1 };
	peer_disk.data = calloc(1, DISK);
	ev_timer_init(&peer_disk.later, mem_later, &peer_disk);
	snprintf(path, sizeof(path), "%s/peer.mirror", dir);
	if (!peer_disk.data || mirror_meta_open(path, DISK, MIRROR_INCONSISTENT, &peer_meta) < 0)
		return -1;
	if (scsi_lu_init(&rlu, &peer_disk.st, "PC001/base") < 0)
		return -1;
	rep.meta = &peer_meta;
	rep.st = &peer_disk.st;
	rep.name = "PC001";
	memset(rep.fingerprint, 0x5a, sizeof(rep.fingerprint));
	replica_lu_attach(&rlu, &rep);
	snprintf(rtgt.name, sizeof(rtgt.name), "%s", TARGET);
	rtgt.scsi.lu[0] = &rlu;
	rtgt.scsi.nlu = 1;
	rtgt.chap = pair;
	if (iscsi_server_open(srv, loop, "127.0.0.1", 0, &prov) < 0 ||
	    getsockname(srv->listen_fd, (struct sockaddr *)&sa, &len) < 0)
		return -1;
	*port = ntohs(sa.sin_port);
	return 0;
}

/* ---- running the loop until something holds ---- */

struct until {
	struct ev_timer t;
	int (*cond)(void);
	uint64_t deadline;
	int met;
};

static void until_fn(struct ev_timer *t)
{
	struct until *u = t->arg;

	if (u->cond() || ev_now_ms() > u->deadline) {
		u->met = u->cond();
		ev_stop(loop);
		return;
	}
	ev_timer_arm(loop, t, 1);
}

static int run_until(int (*cond)(void), unsigned ms)
{
	struct until u = { .cond = cond, .deadline = ev_now_ms() + ms };

	ev_timer_init(&u.t, until_fn, &u);
	ev_timer_arm(loop, &u.t, 0);
	evloop_run(loop);
	ev_timer_cancel(loop, &u.t);
	return u.met;
}

static struct store *mirror;

static int in_sync(void)
{
	struct mirror_status s;

	store_mirror_status(mirror, &s);
	return s.state == MIRROR_IN_SYNC;
}

static int peer_has_write(void)
{
	return peer_disk.writes > 0;
}

static int done_count;

static void write_done(struct store_req *req)
{
	(void)req;
	done_count++;
}

static int write_done_once(void)
{
	return done_count == 1;
}

/* A 1 MiB write in NIOV pieces while the local leg is still running. */
static void test_write_iov_own(void)
{
	static uint8_t buf[NIOV][MIRROR_CHUNK];
	struct iovec iov[NIOV], before[NIOV];
	struct store_req req = { .op = STORE_OP_WRITE, .offset = MIRROR_CHUNK,
				 .length = sizeof(buf), .iov = iov, .iovcnt = NIOV,
				 .done = write_done };
	int same = 1;

	for (int i = 0; i < NIOV; i++) {
		memset(buf[i], 0x40 + i, sizeof(buf[i]));
		iov[i] = (struct iovec){ buf[i], sizeof(buf[i]) };
	}
	memcpy(before, iov, sizeof(iov));
	watched = iov;
	nwatched = NIOV;
	ok(store_submit(mirror, &req) == 0 && held && held->iov == iov,
	   "a 1 MiB write is taken; its local leg is held");
	ok(run_until(peer_has_write, 5000), "the peer leg reaches the replica while the local "
	   "leg runs");
	is_int(shared_sends, 0, "libiscsi sent the write's data from an iovec array of the "
	       "mirror's own, never from the caller's (which the local leg is reading)");
	for (int i = 0; i < NIOV; i++)
		same &= iov[i].iov_base == before[i].iov_base && iov[i].iov_len == before[i].iov_len;
	ok(same, "the caller's iovec array is as it was given");
	complete_held();
	ok(run_until(write_done_once, 5000) && req.result == 0, "the write completes GOOD once "
	   "both legs are done");
	ok(memcmp(peer_disk.data + MIRROR_CHUNK, buf, sizeof(buf)) == 0, "the replica holds the "
	   "write's data");
	watched = NULL;
}

/* ---- a FUA write's record: the state file's fdatasync runs in a worker ---- */

static struct mirror_meta *src_meta;
static pthread_mutex_t sync_mu = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t sync_cv = PTHREAD_COND_INITIALIZER;
static int sync_entered, sync_release, sync_result, sync_calls;
static pthread_t sync_thread, loop_thread;

/* The fault hook: the state file's fdatasync waits until the test releases it (a slow disk),
 * then returns sync_result. On the loop thread it cannot wait (nothing would release it):
 * it is noted, and the test fails instead of hanging. */
static int slow_sync(void *arg, enum store_io_kind kind, int fd, uint64_t off, uint64_t len)
{
	int rc;

	(void)arg, (void)off, (void)len;
	if (kind != STORE_IO_SYNC || fd != src_meta->fd)
		return 0;
	pthread_mutex_lock(&sync_mu);
	sync_calls++;
	sync_thread = pthread_self();
	sync_entered = 1;
	while (!sync_release && !pthread_equal(sync_thread, loop_thread))
		pthread_cond_wait(&sync_cv, &sync_mu);
	rc = sync_result;
	pthread_mutex_unlock(&sync_mu);
	return rc;
}

static int sync_is_waiting(void)
{
	int e;

	pthread_mutex_lock(&sync_mu);
	e = sync_entered;
	pthread_mutex_unlock(&sync_mu);
	return e;
}

static void sync_go(void)
{
	pthread_mutex_lock(&sync_mu);
	sync_release = 1;
	pthread_cond_broadcast(&sync_cv);
	pthread_mutex_unlock(&sync_mu);
}

static int local_leg_held(void)
{
	return held != NULL;
}

/* One FUA block at chunk, whose record the slow disk holds; result is the sync's. */
static void fua_write(struct store_req *req, struct iovec *iov, uint64_t chunk, int result)
{
	static uint8_t buf[STORE_BLOCK_SIZE];

	memset(buf, 0x7e, sizeof(buf));
	*iov = (struct iovec){ buf, sizeof(buf) };
	*req = (struct store_req){ .op = STORE_OP_WRITE, .flags = STORE_FUA,
				   .offset = chunk * MIRROR_CHUNK, .length = sizeof(buf),
				   .iov = iov, .iovcnt = 1, .done = write_done };
	sync_entered = sync_release = 0;
	sync_result = result;
	done_count = 0;
	store_io_set_fault(slow_sync, NULL);
	ok(store_submit(mirror, req) == 0 && run_until(sync_is_waiting, 5000),
	   "a FUA write to a new chunk: its record's fdatasync is under way");
}

static int writes_done_3(void)
{
	return done_count == 3;
}

/* Two FUA writes while the state file's fdatasync runs: they wait for one more, together. */
static void test_fua_group(void)
{
	struct store_req a, b, c;
	struct iovec ia, ib, ic;
	static uint8_t buf[STORE_BLOCK_SIZE];
	int calls;

	fua_write(&a, &ia, 42, 0);
	ib = ic = (struct iovec){ buf, sizeof(buf) };
	b = (struct store_req){ .op = STORE_OP_WRITE, .flags = STORE_FUA,
				.offset = 43 * MIRROR_CHUNK, .length = sizeof(buf), .iov = &ib,
				.iovcnt = 1, .done = write_done };
	c = b;
	c.offset = 44 * MIRROR_CHUNK;
	c.iov = &ic;
	pthread_mutex_lock(&sync_mu);
	sync_calls = 0;
	pthread_mutex_unlock(&sync_mu);
	ok(store_submit(mirror, &b) == 0 && store_submit(mirror, &c) == 0,
	   "two more FUA writes while it runs");
	run_until(local_leg_held, 200);
	pthread_mutex_lock(&sync_mu);
	calls = sync_calls;
	pthread_mutex_unlock(&sync_mu);
	ok(!held && calls == 0, "they start no fdatasync of their own while one runs");
	sync_go();
	while (done_count < 3 && run_until(local_leg_held, 5000)) {
		complete_held();
		run_until(writes_done_3, 100);
	}
	pthread_mutex_lock(&sync_mu);
	calls = sync_calls;
	pthread_mutex_unlock(&sync_mu);
	ok(done_count == 3 && a.result == 0 && b.result == 0 && c.result == 0 && calls == 1,
	   "all three complete GOOD after one more fdatasync, for both (%d)", calls);
	store_io_set_fault(NULL, NULL);
}

static void test_fua_record(void)
{
	unsigned peer_writes = peer_disk.writes;
	struct store_req req;
	struct iovec iov;

	loop_thread = pthread_self();
	fua_write(&req, &iov, 40, 0);
	ok(!pthread_equal(sync_thread, pthread_self()), "on a worker thread, not the loop's");
	run_until(local_leg_held, 200);
	ok(!held && peer_disk.writes == peer_writes && done_count == 0,
	   "while the loop runs on, neither leg has the write: the record comes first");
	sync_go();
	ok(run_until(local_leg_held, 5000), "the record durable: the local leg starts");
	complete_held();
	ok(run_until(write_done_once, 5000) && req.result == 0 &&
	   peer_disk.writes == peer_writes + 1, "the write completes GOOD on both legs");

	peer_writes = peer_disk.writes;
	fua_write(&req, &iov, 41, -EIO);
	sync_go();
	ok(run_until(write_done_once, 5000) && req.result == -EIO && !held &&
	   peer_disk.writes == peer_writes, "the record's fdatasync fails: the write fails, "
	   "sent to neither leg");
	store_io_set_fault(NULL, NULL);
	ok(in_sync(), "and the mirror stays in sync");
}

/* ---- fencing: writes the peer lacks wait for standbyd's answer ---- */

static struct mirror_fence fence;
static const char *fence_answer = "pending";	/* NULL: an error answer */
static unsigned fence_asked;

static void standbyd_standin(void *arg, int argc, char **argv, json_t *answer)
{
	(void)arg;
	if (argc == 1 && strcmp(argv[0], "fence-peer") == 0) {
		fence_asked++;
		if (fence_answer)
			ctl_set(answer, "fence", json_string(fence_answer));
		else
			ctl_fail(answer, "standin refuses");
	} else {
		ctl_fail(answer, "unknown");
	}
}

static struct iscsi_server *peer_srv;
static struct mirror_status ms;

static enum mirror_state mstate(void)
{
	store_mirror_status(mirror, &ms);
	return ms.state;
}

static int degraded(void)
{
	return mstate() == MIRROR_DEGRADED;
}

static int fence_is_asking(void)
{
	return fence.state == FENCE_ASKING && fence_asked >= 2;
}

static int fence_is_done(void)
{
	return fence.state == FENCE_DONE;
}

static int fence_has_error(void)
{
	return strstr(fence.last_error, "standin refuses") != NULL;
}

static int fence_unexpected(void)
{
	return strstr(fence.last_error, "unexpected answer") != NULL;
}

static int done_twice(void)
{
	return done_count == 2;
}

static void peer_goes(void)
{
	peer_away = 1;
	iscsi_server_drop_target(peer_srv, &rtgt);
}

/* One block written at off; its local leg completed at once (the peer's is the test). */
static void write_block(struct store_req *req, struct iovec *iov, uint64_t off)
{
	static uint8_t buf[STORE_BLOCK_SIZE];

	iov->iov_base = buf;
	iov->iov_len = sizeof(buf);
	*req = (struct store_req){ .op = STORE_OP_WRITE, .offset = off, .length = sizeof(buf),
				   .iov = iov, .iovcnt = 1, .done = write_done };
	store_submit(mirror, req);
	complete_held();
}

static void test_fence(void)
{
	struct store_req a, b;
	struct iovec ia, ib;

	/* a write the peer never answers, then the peer goes: its leg is given up */
	done_count = 0;
	peer_disk.hold = 1;
	write_block(&a, &ia, 0);
	ok(run_until(peer_has_write, 5000), "a write reaches the replica, which does not answer");
	peer_goes();
	ok(run_until(degraded, 5000), "the peer goes: degraded");
	ok(run_until(fence_is_asking, 5000) && done_count == 0 && (mstate(), ms.held == 1),
	   "the write it never acknowledged is held; standbyd is asked, and asked again while "
	   "it says pending");
	write_block(&b, &ib, 8 * MIRROR_CHUNK);
	run_until(fence_is_done, 300);
	ok(done_count == 0 && mstate() == MIRROR_DEGRADED && ms.held == 2,
	   "a new write while degraded: done here, recorded, held too");
	fence_answer = "outdated";
	ok(run_until(done_twice, 5000) && a.result == 0 && b.result == 0 &&
	   fence.state == FENCE_DONE && strcmp(fence.how, "outdated") == 0,
	   "standbyd says the peer's copy is outdated: both writes acknowledged");
	fence_asked = 0;
	done_count = 0;
	write_block(&a, &ia, 9 * MIRROR_CHUNK);
	ok(run_until(write_done_once, 5000) && fence_asked == 0,
	   "fenced: the next write apart goes on without asking again");

	/* the peer back and in sync: the next loss needs a new answer */
	peer_disk.hold = 0;
	mem_later(&peer_disk.later);
	peer_away = 0;
	ok(run_until(in_sync, 10000), "the peer back: resync, in sync");
	fence_reset(&fence);
	ok(fence.state == FENCE_NONE, "in sync: the fence is forgotten");
	fence_answer = "pending";
	peer_goes();
	run_until(degraded, 5000);
	done_count = 0;
	write_block(&a, &ia, 0);
	ok(run_until(fence_is_asking, 5000) && done_count == 0, "lost again: held, asking");
	fence_answer = "peer-dead";
	ok(run_until(write_done_once, 5000) && a.result == 0 && strcmp(fence.how, "peer-dead") == 0,
	   "standbyd holds the peer dead: acknowledged");

	/* a server that stops being active: held writes fail, nothing acknowledged */
	fence_reset(&fence);
	fence_answer = "pending";
	done_count = 0;
	write_block(&a, &ia, 0);
	ok(run_until(fence_is_asking, 5000) && done_count == 0, "held again");
	store_mirror_drop_held(mirror);
	ok(run_until(write_done_once, 5000) && a.result == -EIO && mstate() == MIRROR_DEGRADED,
	   "this server goes secondary: the held write fails with EIO");

	/* standbyd answers an error: still asking, and the status says why */
	fence_answer = NULL;
	ok(run_until(fence_has_error, 5000) && fence.state == FENCE_ASKING,
	   "an error answer is no fence: still asking, its message kept");
	{
		json_t *st = fence_status(&fence);
		const char *why = json_string_value(json_object_get(st, "error"));

		ok(st && strcmp(json_string_value(json_object_get(st, "state")), "asking") == 0 &&
		   json_is_integer(json_object_get(st, "since_ms")) &&
		   json_is_integer(json_object_get(st, "fences")) && why &&
		   strstr(why, "standin refuses"), "status: fence asking, since_ms and fences "
		   "numbers, the error standbyd gave");
		json_decref(st);
	}
	/* a word this vdiskd does not know is no fence either: the held write stays held */
	fence.last_error[0] = '\0';
	fence_answer = "unknown";
	ok(run_until(fence_unexpected, 5000) && fence.state == FENCE_ASKING,
	   "standbyd says a word that is not pending, outdated or peer-dead: no fence, still "
	   "asking (%s)", fence.last_error);
	fence_answer = "outdated";
	ok(run_until(fence_is_done, 5000), "then an answer: done");
	{
		json_t *st = fence_status(&fence);

		ok(st && strcmp(json_string_value(json_object_get(st, "state")), "done") == 0 &&
		   strcmp(json_string_value(json_object_get(st, "peer")), "outdated") == 0 &&
		   !json_object_get(st, "error") && !json_object_get(st, "since_ms"),
		   "status: fence done, peer outdated, no error");
		json_decref(st);
	}
}

int main(void)
{
	static struct iscsi_server srv;
	static struct store local = { .ops = &hold_ops, .size = DISK, .thin = 1 };
	struct ctl_server *standin;
	struct mirror_meta *meta = calloc(1, sizeof(*meta));
	struct mirror_config cfg = { .timeout_ms = 3000, .target = TARGET };
	struct store_pool *pool;
	uint8_t fp[MP_FINGERPRINT_LEN];
	char path[300];
	uint16_t port;
	int peer_up = 0;

	if (!mkdtemp(dir) || !meta || !(loop = evloop_new()))
		return 1;
	local_disk.st = (struct store){ .ops = &mem_ops, .size = DISK, .thin = 1 };
	local_disk.data = calloc(1, DISK);
	ev_timer_init(&local_disk.later, mem_later, &local_disk);
	if (peer_open(&srv, &port) < 0) {
		printf("1..0 # SKIP cannot listen on loopback\n");
		return 0;
	}
	snprintf(cfg.peer, sizeof(cfg.peer), "127.0.0.1:%u", port);
	snprintf(cfg.chap_user, sizeof(cfg.chap_user), "%s", pair.user);
	snprintf(cfg.chap_secret, sizeof(cfg.chap_secret), "%s", pair.secret);
	cfg.peer_up = &peer_up;
	snprintf(path, sizeof(path), "%s/standbyd.sock", dir);
	if (ctl_server_open(loop, path, standbyd_standin, NULL, &standin) < 0)
		return 1;
	fence_init(&fence, loop, path);
	cfg.fence = &fence;
	peer_srv = &srv;
	snprintf(path, sizeof(path), "%s/source.mirror", dir);
	memset(fp, 0x5a, sizeof(fp));
	if (store_pool_new(loop, 1, &pool) < 0)
		return 1;
	cfg.pool = pool;
	src_meta = meta;
	ok(mirror_meta_open(path, DISK, MIRROR_NEVER_SYNCED, meta) == 0 &&
	   store_mirror_open(loop, &local, meta, &cfg, INITIATOR, "PC001", fp, NULL, NULL,
			     &mirror) == 0, "a mirror store over a held local disk");
	ok(run_until(in_sync, 10000), "it logs in to the replica and is in sync");
	test_write_iov_own();
	test_fua_record();
	test_fua_group();
	test_fence();

	store_close(mirror);
	fence_fini(&fence);
	ctl_server_close(standin);
	iscsi_server_close(&srv);
	scsi_lu_fini(&rlu);
	mirror_meta_close(&peer_meta);
	free(peer_disk.data);
	free(local_disk.data);
	store_pool_free(pool);
	evloop_free(loop);
	snprintf(path, sizeof(path), "rm -rf %s", dir);
	if (system(path) != 0)
		return 1;
	printf("1..%d\n", tap_count);
	return tap_failed != 0;
}
