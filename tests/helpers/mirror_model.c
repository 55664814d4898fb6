/* A randomized, seeded, model-based test of the overlay and the mirror (issue 15, item 2):
 * tests/mirror/model.t runs it against a vdiskd pair in network namespaces.
 *
 *   mirror_model mkbase FILE MIB           a base image whose every block says "base, lba N"
 *   mirror_model run [options]             the test (options in usage())
 *
 * The model. For each client disk, per 512-byte block, the set of values the block may hold:
 * one after an acknowledged write; the old and the new ones while a command's outcome is
 * unknown because a fault was injected while it was in flight; narrowed to one again by the
 * next read. A value is the base image (what the overlay returns for a chunk it does not
 * hold), zeros, or a write id: each write's data says, in every block, which client, write
 * id and LBA it belongs to, so a read names exactly the write a wrong block came from.
 *
 * The load. Several clients log in to the primary's portal with libiscsi's async API, each
 * with several commands in flight, never two on overlapping ranges (SIMPLE tasks have no
 * order): WRITE(10/16) with and without FUA, READ(10/16), UNMAP (1 to 4 descriptors: the
 * overlay drops the 16 KiB chunks a descriptor covers whole and keeps the rest, and an
 * unmapped chunk reads the base again), WRITE SAME(16) with a pattern, zeros, or the UNMAP
 * bit (which the target turns into an UNMAP), COMPARE AND WRITE (a tenth with wrong compare
 * data: MISCOMPARE and nothing written), SYNCHRONIZE CACHE(10/16); 1 block to 1 MiB (UNMAP
 * and WRITE SAME more), at random alignments, a third of them across a 16 or 64 KiB chunk
 * boundary. Hot-standby clients are mirrored; one without hot standby is served only by the
 * server the DB marks primary.
 *
 * The steps. Each step issues a random number of commands and, part way through, while
 * commands are in flight, does one thing: nothing; logins and logouts of several clients at
 * once (the mirror store opens and closes with them); an overlay reset of a client after its
 * session has ended, as at a PXE boot (control socket; the model then expects the base
 * image; restore mode's discard after a logout is off: restore_discard_s 0); the HA link down (peer
 * lost) or up (peer back: resync under writes); kill -9 of the secondary (restarted in the
 * same step or a later one); the secondary stopped (SIGSTOP) past the mirror's timeout and
 * continued; the peer back and lost again 0-500 ms later, while its resync may run; kill -9
 * and restart of the primary; a switchover (the primary `role secondary`, then the other
 * `role primary`, as standbyd does on failback); a takeover after a power cut of the
 * primary (links down, kill -9; the other promoted; the cut server returns as secondary in a
 * later step). Then it settles (commands drained, clients back, the mirror in sync when both
 * servers are up) and checks every block of every disk:
 *   - on the server that serves it: through iSCSI when the client is logged in, else by
 *     reading the disk's overlay files;
 *   - on the other server, for hot-standby clients, while their mirror is in sync and
 *     nothing is written: by reading its replica's overlay files (docs/image-store.md:
 *     NAME.map, a 4 KiB header and one bit per chunk, and NAME.data at the base's offsets),
 *     and checking that its status shows no inconsistent replica.
 * Why the files and not store_overlay_open() or a role swap: the replica's vdiskd holds
 * the overlay open with an exclusive flock, and store_overlay_open marks a map open and may
 * recover it, i.e. writes the very files under test; a role swap after every step would turn
 * every step into a takeover and hide what a plain secondary holds. The reader opens both
 * files read-only, takes no lock, and refuses a map whose magic, version or chunk size it
 * does not know, so a format change fails loudly instead of checking nothing.
 *
 * What counts as a failure: a block that holds none of the values the model allows; a
 * command that fails, or a session lost, while no fault that could explain it was injected
 * (the HA link going down, the secondary dying and a resync are not such faults for the
 * clients: the primary must go on); a login that does not succeed within 30 s; a mirror not
 * in sync 60 s after both servers are up; a replica marked inconsistent once in sync; a
 * takeover the product would not promise to survive (the old primary's state file says a
 * write was made apart from the peer although no fault was injected).
 *
 * Not tested here, on purpose: a takeover while the mirror is degraded. Whether that
 * takeover may happen is standbyd's fencing (the standby outdated before the primary goes
 * on), which this driver leaves out by setting roles itself: tests/ha/fence.t plays those
 * faults with standbyd. Such a takeover is never scheduled here.
 * A power cut here is kill -9 with the links down, so the page cache survives: acknowledged
 * writes must all survive it (docs/image-store.md); power loss of the page cache is not
 * modelled.
 *
 * The test script does what needs the namespaces: the driver writes one request line on
 * stdout ("kill a", "start a primary", "stop a", "cont a", "powercut a", "poweron a",
 * "halink down", "halink up") and goes on serving its sessions until the script answers
 * "ok" on stdin. Role changes,
 * overlay resets and status go straight to the vdiskds' control sockets.
 *
 * Seeds. "seed N" is printed at the start; the same seed gives the same steps, faults and,
 * per client, the same sequence of commands. Timing is not reproduced: which commands are in
 * flight at a fault, how the clients' commands interleave, and so which outcomes the model
 * must allow, can differ between two runs of one seed. */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <inttypes.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <iscsi/iscsi.h>
#include <iscsi/scsi-lowlevel.h>

#include "common/ctlsock.h"
#include "vdisk-server/mirror/mirror_meta.h"
#include "vdisk-server/store/store_overlay.h"

#define BLK 512u
#define MAXV 6			/* values one block may hold at once */
#define MAX_CLIENTS 8
#define QD_MAX 8
#define XFER_MAX 2048u		/* blocks: 1 MiB, the largest read or write */
#define WS_MAX 4096u		/* WRITE SAME: two of the target's 1 MiB store steps */
#define UNMAP_MAX 8192u
#define CAW_MAX 255u		/* the target's limit (VPD B0) */
#define UNMAP_DESC 4
#define OV_BLOCKS (STORE_OVERLAY_CHUNK / BLK)
#define MR_BLOCKS (MIRROR_CHUNK / BLK)
#define IO_TIMEOUT_MS 20000	/* a command unanswered this long: the session is dead */
#define LOGIN_TRY_MS 5000	/* one login attempt */
#define LOGIN_DEADLINE_MS 30000
#define SETTLE_MS 60000
#define CHECK_QD 4

enum { V_BASE = 0, V_ZERO = 1, V_FIRST = 2 };

/* ---- random numbers: splitmix64, one stream for the steps and one per client ---- */

struct rng {
	uint64_t s;
};

static uint64_t mix64(uint64_t x)
{
	x ^= x >> 30;
	x *= 0xbf58476d1ce4e5b9ull;
	x ^= x >> 27;
	x *= 0x94d049bb133111ebull;
	return x ^ (x >> 31);
}

static uint64_t rnd(struct rng *r)
{
	r->s += 0x9e3779b97f4a7c15ull;
	return mix64(r->s);
}

static uint64_t below(struct rng *r, uint64_t n)
{
	return n ? rnd(r) % n : 0;
}

static int chance(struct rng *r, unsigned pct)
{
	return below(r, 100) < pct;
}

static uint64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

/* ---- block contents ---- */

#define MAGIC_WRITE 0x3157444f4d4d4d4dull	/* "MMMODW1" */
#define MAGIC_BASE 0x3142444f4d4d4d4dull	/* "MMMODB1" */

struct bhdr {
	uint64_t magic;
	uint32_t client, wid;
	uint64_t lba;		/* the block's; a WRITE SAME's first block for all of its blocks */
	uint64_t check;		/* ties the fields together: foreign data is never taken for ours */
};

static uint64_t hdr_check(const struct bhdr *h)
{
	return mix64(h->magic ^ ((uint64_t)h->client << 32 | h->wid) ^ mix64(h->lba));
}

static void make_block(uint8_t *b, uint64_t magic, uint32_t client, uint32_t wid, uint64_t lba)
{
	struct bhdr h = { magic, client, wid, lba, 0 };
	uint64_t x;

	h.check = hdr_check(&h);
	memcpy(b, &h, sizeof(h));
	x = h.check;
	for (size_t off = sizeof(h); off < BLK; off += sizeof(x)) {
		x = mix64(x + 1);
		memcpy(b + off, &x, sizeof(x));
	}
}

/* ---- the model ---- */

struct cell {
	uint8_t n;
	uint32_t v[MAXV];
};

enum opk {
	K_WRITE10, K_WRITE16, K_READ10, K_READ16, K_UNMAP, K_WSAME, K_CAW, K_SYNC10, K_SYNC16,
	K_CHECK, K_NKINDS
};

static const char *const kname[K_NKINDS] = {
	"WRITE(10)", "WRITE(16)", "READ(10)", "READ(16)", "UNMAP", "WRITE SAME(16)",
	"COMPARE AND WRITE", "SYNCHRONIZE CACHE(10)", "SYNCHRONIZE CACHE(16)", "READ(16) check",
};

/* What a write id wrote: enough to rebuild its blocks and to name it in a report. */
struct wrec {
	uint64_t lba;
	uint32_t n, step;
	uint8_t kind, fua, same, zero;
};

struct plan {
	enum opk kind;
	uint64_t lba;		/* the span the command may touch: [lba, lba + n) */
	uint32_t n;
	int fua, unmap, zero, miscompare;
	uint32_t bad_block;	/* COMPARE AND WRITE with wrong compare data: which block */
	unsigned nd;
	struct unmap_list d[UNMAP_DESC];
};

struct client;

struct op {
	struct client *c;
	int busy;
	struct plan p;
	uint32_t wid;
	uint64_t no, t0;
	struct scsi_task *task;
	uint8_t *buf;
};

enum sst { S_OUT, S_CONNECTING, S_PROBING, S_UP, S_LOGOUT };

struct client {
	unsigned idx;
	char name[32], iqn[224];
	int hs;
	struct cell *m;
	struct wrec *w;
	uint32_t nw, wcap;
	struct rng rng;
	unsigned qd;
	struct plan next;
	int have_next;
	uint64_t opno;

	struct iscsi_context *ctx;
	enum sst st;
	int srv;		/* the server of the session */
	int want_in;		/* the step wants it logged in */
	int reset_fault;	/* an overlay reset may drop its session */
	int failed, logged_out;	/* set by callbacks, acted on by the loop */
	char why[256];
	uint64_t since, retry_at, out_since;
	struct scsi_task *probe;
	int probe_step;
	char serial[128];
	unsigned inflight;
	struct op slot[QD_MAX];
	uint64_t logins, refused;
};

struct server {
	char name[16], portal[80], ctl[256], ovdir[256];
	int running, lan_up;
};

/* A vdiskd status, the lines this test reads. */
struct mline {
	char name[32], state[24];
	uint64_t gen, peer_gen, failures;
};

struct rline {
	char name[32];
	uint64_t gen;
	int inconsistent;
};

struct vstatus {
	char role[16], mirror[24];
	unsigned clients, nm, nr;
	struct mline m[MAX_CLIENTS];
	struct rline r[MAX_CLIENTS];
};

enum stepk {
	T_IO, T_LOGINS, T_RESET, T_LINK_DOWN, T_KILL_SEC, T_KILL_SEC_RESTART, T_KILL_PRIM,
	T_SWITCH, T_CUT_TAKEOVER, T_STALL_SEC, T_PEER_RETURN, T_PEER_FLAP, T_NKINDS
};

static const char *const tname[T_NKINDS] = {
	"io", "logins", "overlay-reset", "halink-down", "kill-secondary",
	"kill-restart-secondary", "kill-restart-primary", "switchover", "powercut-takeover",
	"stall-secondary", "peer-return", "peer-flap",
};

static struct {
	uint64_t seed, seconds;
	uint64_t blocks;	/* per disk */
	const char *base_path, *target, *trace_path;
	unsigned db_primary;
	struct server srv[2];
	struct client cl[MAX_CLIENTS];
	unsigned ncl;
	uint8_t *base;		/* the base image, read once: it never changes */

	struct rng sched;
	unsigned step;
	enum stepk kind;
	unsigned prim;		/* the server in role primary */
	int link_up;
	int issuing;		/* new commands may start */
	uint64_t step_ops, budget;
	int disrupting;		/* a fault under way may fail the primary's sessions */
	FILE *trace;
	uint64_t t_start;

	/* the hook: one request at a time */
	int hook_waiting, hook_have;
	char hook_in[512], hook_answer[512];
	size_t hook_len;

	/* counters for the summary */
	uint64_t ops[K_NKINDS], fua, miscompares, unknown, narrowed, steps[T_NKINDS];
	uint64_t checked_iscsi, checked_files, checked_replica, replica_skipped;
	uint64_t refusals, longest_sync_ms;
	enum stepk longest_sync_kind;
} G;

static void trace(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static void fail(const char *fmt, ...) __attribute__((format(printf, 1, 2), noreturn));

static void trace(const char *fmt, ...)
{
	va_list ap;

	if (!G.trace)
		return;
	fprintf(G.trace, "%8.3f step %u ", (double)(now_ms() - G.t_start) / 1000, G.step);
	va_start(ap, fmt);
	vfprintf(G.trace, fmt, ap);
	va_end(ap);
	fputc('\n', G.trace);
}

static void fail(const char *fmt, ...)
{
	char msg[2048];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	trace("FAILED: %s", msg);
	if (G.trace)
		fflush(G.trace);
	fprintf(stderr, "mirror_model: FAILED seed %" PRIu64 " step %u (%s): %s\n", G.seed,
		G.step, tname[G.kind], msg);
	fprintf(stderr, "mirror_model: MODEL_SEED=%" PRIu64 " repeats the run; trace: %s\n",
		G.seed, G.trace_path ? G.trace_path : "(none)");
	exit(1);
}

static struct server *primary(void)
{
	return &G.srv[G.prim];
}

static struct server *secondary(void)
{
	return &G.srv[!G.prim];
}

/* Both servers up, reachable and linked: the mirror must reach in sync. */
static int pair_whole(void)
{
	return G.srv[0].running && G.srv[1].running && G.srv[0].lan_up && G.srv[1].lan_up &&
	       G.link_up;
}

/* A client without hot standby is served by the DB's primary only. */
static int servable(const struct client *c)
{
	return (c->hs || G.prim == G.db_primary) && primary()->running;
}

static int fault_ok(const struct client *c)
{
	return G.disrupting || c->reset_fault;
}

/* ---- values and blocks ---- */

static uint32_t new_wid(struct client *c, const struct plan *p)
{
	struct wrec *w;

	if (c->nw == c->wcap) {
		uint32_t cap = c->wcap ? c->wcap * 2 : 4096;

		w = realloc(c->w, cap * sizeof(*w));
		if (!w)
			fail("out of memory for write records");
		c->w = w;
		c->wcap = cap;
	}
	w = &c->w[c->nw];
	*w = (struct wrec){ .lba = p->lba, .n = p->n, .step = G.step, .kind = (uint8_t)p->kind,
			    .fua = (uint8_t)p->fua, .same = p->kind == K_WSAME,
			    .zero = (uint8_t)p->zero };
	return c->nw++;
}

/* The 512 bytes value v holds at lba of c's disk. */
static void expected(const struct client *c, uint32_t v, uint64_t lba, uint8_t *b)
{
	const struct wrec *w;

	if (v == V_BASE) {
		memcpy(b, G.base + lba * BLK, BLK);
		return;
	}
	w = &c->w[v];
	if (v == V_ZERO || w->zero) {
		memset(b, 0, BLK);
		return;
	}
	make_block(b, MAGIC_WRITE, c->idx, v, w->same ? w->lba : lba);
}

static const char *client_name(uint32_t idx)
{
	return idx < G.ncl ? G.cl[idx].name : "?";
}

/* What a block read from a disk holds, in words. */
static void describe(const uint8_t *b, uint64_t lba, char *out, size_t size)
{
	struct bhdr h;
	uint8_t ref[BLK];
	size_t i;

	for (i = 0; i < BLK && !b[i]; i++)
		;
	if (i == BLK) {
		snprintf(out, size, "zeros");
		return;
	}
	memcpy(&h, b, sizeof(h));
	if ((h.magic == MAGIC_WRITE || h.magic == MAGIC_BASE) && h.check == hdr_check(&h)) {
		make_block(ref, h.magic, h.client, h.wid, h.lba);
		if (h.magic == MAGIC_BASE)
			snprintf(out, size, "the base image's block %" PRIu64 "%s", h.lba,
				 memcmp(ref, b, BLK) ? " (damaged)" : "");
		else
			snprintf(out, size, "write %u of %s, made for lba %" PRIu64 "%s", h.wid,
				 client_name(h.client), h.lba,
				 memcmp(ref, b, BLK) ? " (damaged)" : "");
		return;
	}
	snprintf(out, size, "unknown data (%016" PRIx64 " %016" PRIx64 ")", h.magic,
		 (uint64_t)h.client << 32 | h.wid);
	(void)lba;
}

static void describe_value(const struct client *c, uint32_t v, char *out, size_t size)
{
	const struct wrec *w;

	if (v == V_BASE) {
		snprintf(out, size, "base");
		return;
	}
	if (v == V_ZERO) {
		snprintf(out, size, "zeros");
		return;
	}
	w = &c->w[v];
	snprintf(out, size, "write %u (%s lba %" PRIu64 " n %u%s%s, step %u)", v, kname[w->kind],
		 w->lba, w->n, w->fua ? " FUA" : "", w->zero ? " zeros" : "", w->step);
}

static void describe_cell(const struct client *c, const struct cell *x, char *out, size_t size)
{
	size_t len = 0;

	out[0] = 0;
	for (unsigned i = 0; i < x->n && len < size; i++) {
		char one[160];

		describe_value(c, x->v[i], one, sizeof(one));
		len += (size_t)snprintf(out + len, size - len, "%s%s", i ? " or " : "", one);
	}
}

static void cell_set(struct cell *x, uint32_t v)
{
	x->n = 1;
	x->v[0] = v;
}

/* The outcome of a command that wrote v is unknown: the block may hold v too. */
static void cell_add(struct cell *x, uint32_t v)
{
	for (unsigned i = 0; i < x->n; i++)
		if (x->v[i] == v)
			return;
	if (x->n == MAXV)
		fail("model: a block would need more than %u possible values", MAXV);
	x->v[x->n++] = v;
}

/* Checks a block read from c's disk at lba (where: which server, how). With narrow, an
 * unknown outcome is settled by what was read; without, the block must hold one of the
 * values as they are. Returns only when the block is allowed. */
static void check_block(struct client *c, uint64_t lba, const uint8_t *got, int narrow,
			const char *where)
{
	struct cell *x = &c->m[lba];
	uint8_t want[BLK];
	char found[200], allowed[1200];

	for (unsigned i = 0; i < x->n; i++) {
		expected(c, x->v[i], lba, want);
		if (memcmp(want, got, BLK))
			continue;
		if (narrow && x->n > 1) {
			G.narrowed++;
			trace("narrowed %s lba %" PRIu64 " to %u", c->name, lba, x->v[i]);
			cell_set(x, x->v[i]);
		}
		return;
	}
	describe(got, lba, found, sizeof(found));
	describe_cell(c, x, allowed, sizeof(allowed));
	fail("%s lba %" PRIu64 " (chunk %" PRIu64 " of 64 KiB, %" PRIu64 " of 16 KiB) on %s: "
	     "expected %s; found %s", c->name, lba, lba / MR_BLOCKS, lba / OV_BLOCKS, where,
	     allowed, found);
}

/* ---- the model's effect of a command ---- */

enum outcome { O_GOOD, O_MISCOMPARE, O_LOST };

static void model_write(struct client *c, uint64_t lba, uint32_t n, uint32_t v, int known)
{
	for (uint64_t b = lba; b < lba + n; b++) {
		if (known)
			cell_set(&c->m[b], v);
		else
			cell_add(&c->m[b], v);
	}
}

/* The overlay drops the chunks one descriptor covers whole; partly covered chunks keep
 * their data (LBPRZ 0 allows either; docs/image-store.md says which). */
static void model_unmap(struct client *c, uint64_t lba, uint64_t n, int known)
{
	uint64_t first = (lba + OV_BLOCKS - 1) / OV_BLOCKS * OV_BLOCKS;
	uint64_t end = (lba + n) / OV_BLOCKS * OV_BLOCKS;

	if (first < end)
		model_write(c, first, (uint32_t)(end - first), V_BASE, known);
}

/* Whether every block of [lba, lba + n) has one known value (COMPARE AND WRITE needs the
 * compare data) or room for one more (a command whose outcome may become unknown). */
static int span_ok(const struct client *c, uint64_t lba, uint32_t n, int need_known,
		   uint64_t *bad)
{
	for (uint64_t b = lba; b < lba + n; b++) {
		if (need_known ? c->m[b].n != 1 : c->m[b].n >= MAXV) {
			*bad = b;
			return 0;
		}
	}
	return 1;
}

/* ---- command plans: the client's own random stream, so a seed gives each client the
 * same sequence of commands whatever the timing ---- */

static uint32_t pick_len(struct rng *r, uint32_t max)
{
	uint32_t n = 1u << below(r, 12);	/* 1 block .. 1 MiB, as often small as large */

	n += (uint32_t)below(r, n);
	return n > max ? max : n;
}

/* Random alignment, a third of the time straddling a 16 or 64 KiB chunk boundary. */
static uint64_t pick_lba(struct rng *r, uint32_t n)
{
	uint64_t span = G.blocks - n + 1, lba;
	uint32_t unit;

	if (!chance(r, 33))
		return below(r, span);
	unit = chance(r, 50) ? MR_BLOCKS : OV_BLOCKS;
	lba = below(r, G.blocks / unit) * unit;
	lba = lba > n / 2 ? lba - below(r, n < unit ? n : unit) : lba;
	return lba < span ? lba : span - 1;
}

static void plan_unmap(struct rng *r, struct plan *p)
{
	uint64_t at = p->lba, end = p->lba + p->n;
	unsigned max = 1 + (unsigned)below(r, UNMAP_DESC);

	p->nd = 0;
	while (at < end && p->nd < max) {
		uint64_t len = 1 + below(r, end - at);

		p->d[p->nd].lba = at;
		p->d[p->nd].num = (uint32_t)len;
		p->nd++;
		at += len + below(r, 64);	/* gaps between descriptors, sometimes none */
	}
}

static void gen_plan(struct client *c, struct plan *p)
{
	struct rng *r = &c->rng;
	uint64_t x = below(r, 100);

	memset(p, 0, sizeof(*p));
	if (x < 40) {
		p->kind = chance(r, 50) ? K_WRITE10 : K_WRITE16;
		p->n = pick_len(r, XFER_MAX);
		p->fua = chance(r, 20);
	} else if (x < 62) {
		p->kind = chance(r, 50) ? K_READ10 : K_READ16;
		p->n = pick_len(r, XFER_MAX);
	} else if (x < 70) {
		p->kind = K_UNMAP;
		p->n = pick_len(r, chance(r, 20) ? UNMAP_MAX : XFER_MAX);
	} else if (x < 80) {
		p->kind = K_WSAME;
		p->n = pick_len(r, chance(r, 20) ? WS_MAX : XFER_MAX);
		p->unmap = chance(r, 35);
		p->zero = p->unmap || chance(r, 30);
	} else if (x < 92) {
		p->kind = K_CAW;
		p->n = pick_len(r, CAW_MAX);
		p->fua = chance(r, 20);
		p->miscompare = chance(r, 10);
	} else {
		p->kind = chance(r, 50) ? K_SYNC10 : K_SYNC16;
		p->n = 0;
	}
	p->lba = p->n ? pick_lba(r, p->n) : 0;
	if (p->kind == K_UNMAP)
		plan_unmap(r, p);
	if (p->miscompare)
		p->bad_block = (uint32_t)below(r, p->n);
}

static int writes(enum opk k)
{
	return k == K_WRITE10 || k == K_WRITE16 || k == K_UNMAP || k == K_WSAME || k == K_CAW;
}

static int overlaps(uint64_t a, uint64_t an, uint64_t b, uint64_t bn)
{
	return a < b + bn && b < a + an;
}

static int overlaps_inflight(const struct client *c, uint64_t lba, uint64_t n)
{
	if (!n)
		return 0;
	for (unsigned i = 0; i < QD_MAX; i++) {
		const struct op *o = &c->slot[i];

		if (o->busy && o->p.n && overlaps(lba, n, o->p.lba, o->p.n))
			return 1;
	}
	return 0;
}

/* ---- commands ---- */

static struct op *free_slot(struct client *c)
{
	for (unsigned i = 0; i < QD_MAX; i++)
		if (!c->slot[i].busy)
			return &c->slot[i];
	return NULL;
}

static void io_cb(struct iscsi_context *ctx, int status, void *data, void *priv);

/* The data a command sends; COMPARE AND WRITE: the blocks as the model has them, then the
 * new ones. */
static void fill_out(struct client *c, struct op *o)
{
	const struct plan *p = &o->p;
	uint8_t *wbuf = o->buf;

	if (p->kind == K_CAW) {
		for (uint32_t i = 0; i < p->n; i++)
			expected(c, c->m[p->lba + i].v[0], p->lba + i, o->buf + (size_t)i * BLK);
		if (p->miscompare)	/* one byte of one block off: nothing may be written */
			o->buf[(size_t)p->bad_block * BLK + 100] ^= 0x5a;
		wbuf = o->buf + (size_t)p->n * BLK;
	}
	if (p->kind == K_WSAME) {
		expected(c, o->wid, p->lba, wbuf);
		return;
	}
	for (uint32_t i = 0; i < p->n; i++)
		expected(c, o->wid, p->lba + i, wbuf + (size_t)i * BLK);
}

static struct scsi_task *send_cmd(struct client *c, struct op *o)
{
	const struct plan *p = &o->p;
	struct iscsi_context *x = c->ctx;
	uint32_t len = p->n * BLK;

	switch (p->kind) {
	case K_WRITE10:
		return iscsi_write10_task(x, 0, (uint32_t)p->lba, o->buf, len, BLK, 0, 0, p->fua,
					  0, 0, io_cb, o);
	case K_WRITE16:
		return iscsi_write16_task(x, 0, p->lba, o->buf, len, BLK, 0, 0, p->fua, 0, 0, io_cb,
					  o);
	case K_READ10:
		return iscsi_read10_task(x, 0, (uint32_t)p->lba, len, BLK, 0, 0, 0, 0, 0, io_cb, o);
	case K_READ16:
	case K_CHECK:
		return iscsi_read16_task(x, 0, p->lba, len, BLK, 0, 0, 0, 0, 0, io_cb, o);
	case K_UNMAP:
		return iscsi_unmap_task(x, 0, 0, 0, o->p.d, (int)p->nd, io_cb, o);
	case K_WSAME:
		return iscsi_writesame16_task(x, 0, p->lba, o->buf, BLK, p->n, 0, p->unmap, 0, 0,
					      io_cb, o);
	case K_CAW:
		return iscsi_compareandwrite_task(x, 0, p->lba, o->buf, 2 * len, BLK, 0, 0, p->fua,
						  0, 0, io_cb, o);
	case K_SYNC10:
		return iscsi_synchronizecache10_task(x, 0, 0, 0, 0, 0, io_cb, o);
	case K_SYNC16:
		return iscsi_synchronizecache16_task(x, 0, 0, 0, 0, 0, io_cb, o);
	default:
		return NULL;
	}
}

static void issue(struct client *c, const struct plan *p)
{
	struct op *o = free_slot(c);

	o->p = *p;
	o->no = c->opno++;
	o->wid = writes(p->kind) && p->kind != K_UNMAP && !(p->kind == K_WSAME && p->unmap) ?
		 new_wid(c, p) : 0;
	if (o->wid || p->kind == K_CAW)
		fill_out(c, o);
	else if (p->kind == K_WSAME)
		memset(o->buf, 0, BLK);	/* with UNMAP the target ignores it */
	o->t0 = now_ms();
	o->task = send_cmd(c, o);
	if (!o->task) {
		snprintf(c->why, sizeof(c->why), "cannot queue %s: %s", kname[p->kind],
			 iscsi_get_error(c->ctx));
		c->failed = 1;
		return;
	}
	o->busy = 1;
	c->inflight++;
	G.ops[p->kind]++;
	G.fua += (uint64_t)p->fua;
}

/* Applies a finished command to the model, or checks what it read. */
static void op_apply(struct client *c, struct op *o, enum outcome out, struct scsi_task *t)
{
	const struct plan *p = &o->p;
	int known = out == O_GOOD;
	char where[96];

	if (out == O_LOST && writes(p->kind))
		G.unknown++;
	switch (p->kind) {
	case K_READ10: case K_READ16: case K_CHECK:
		if (out != O_GOOD)
			return;
		if (!t->datain.data || t->datain.size != (int)(p->n * BLK))
			fail("%s: %s lba %" PRIu64 " n %u returned %d bytes", c->name,
			     kname[p->kind], p->lba, p->n, t->datain.size);
		snprintf(where, sizeof(where), "%s via iSCSI (%s #%" PRIu64 ")", G.srv[c->srv].name,
			 kname[p->kind], o->no);
		for (uint32_t i = 0; i < p->n; i++)
			check_block(c, p->lba + i, t->datain.data + (size_t)i * BLK, 1, where);
		return;
	case K_UNMAP:
		for (unsigned i = 0; i < p->nd; i++)
			model_unmap(c, p->d[i].lba, p->d[i].num, known);
		return;
	case K_WSAME:
		if (p->unmap)
			model_unmap(c, p->lba, p->n, known);
		else
			model_write(c, p->lba, p->n, o->wid, known);
		return;
	case K_CAW:
		if (out == O_MISCOMPARE && !p->miscompare)
			fail("%s: COMPARE AND WRITE #%" PRIu64 " lba %" PRIu64 " n %u: MISCOMPARE, but "
			     "the model says the disk holds the compare data", c->name, o->no, p->lba,
			     p->n);
		if (out == O_GOOD && p->miscompare)
			fail("%s: COMPARE AND WRITE #%" PRIu64 " lba %" PRIu64 " n %u with wrong "
			     "compare data succeeded", c->name, o->no, p->lba, p->n);
		if (out == O_MISCOMPARE) {
			G.miscompares++;
			return;
		}
		if (!p->miscompare)
			model_write(c, p->lba, p->n, o->wid, known);
		return;
	case K_WRITE10: case K_WRITE16:
		model_write(c, p->lba, p->n, o->wid, known);
		return;
	default:
		return;
	}
}

static const char *outcome_name(enum outcome out)
{
	return out == O_GOOD ? "GOOD" : out == O_MISCOMPARE ? "MISCOMPARE" : "LOST";
}

static void op_done(struct client *c, struct op *o, enum outcome out, struct scsi_task *t)
{
	trace("%s #%" PRIu64 " %s lba %" PRIu64 " n %u%s%s%s wid %u -> %s %" PRIu64 " ms",
	      c->name, o->no, kname[o->p.kind], o->p.lba, o->p.n, o->p.fua ? " fua" : "",
	      o->p.unmap ? " unmap" : "", o->p.miscompare ? " bad-compare" : "", o->wid,
	      outcome_name(out), now_ms() - o->t0);
	op_apply(c, o, out, t);
	o->busy = 0;
	o->task = NULL;
	c->inflight--;
}

static void io_cb(struct iscsi_context *ctx, int status, void *data, void *priv)
{
	struct op *o = priv;
	struct client *c = o->c;
	struct scsi_task *t = o->task;
	enum outcome out = O_GOOD;

	(void)data;
	if (ctx != c->ctx || !o->busy)
		return;		/* a dropped session: sess_drop() settles its commands */
	if (status == SCSI_STATUS_CHECK_CONDITION && o->p.kind == K_CAW &&
	    t->sense.key == SCSI_SENSE_MISCOMPARE) {
		out = O_MISCOMPARE;
	} else if (status == SCSI_STATUS_CANCELLED || status == SCSI_STATUS_ERROR ||
		   status == SCSI_STATUS_TIMEOUT) {
		out = O_LOST;
		/* the connection's own error, when there is one, replaces this (pump) */
		if (!c->failed)
			snprintf(c->why, sizeof(c->why), "%s #%" PRIu64 " %s", kname[o->p.kind], o->no,
				 status == SCSI_STATUS_CANCELLED ? "cancelled" :
				 status == SCSI_STATUS_TIMEOUT ? "timed out" : "failed in transport");
		c->failed = 1;
	} else if (status != SCSI_STATUS_GOOD) {
		if (!fault_ok(c))
			fail("%s: %s #%" PRIu64 " lba %" PRIu64 " n %u%s failed with no fault "
			     "injected: status 0x%x sense %s (key 0x%x asc/ascq 0x%04x)", c->name,
			     kname[o->p.kind], o->no, o->p.lba, o->p.n, o->p.fua ? " FUA" : "",
			     status, scsi_sense_key_str(t->sense.key), t->sense.key,
			     t->sense.ascq);
		out = O_LOST;
	}
	op_done(c, o, out, t);
	scsi_free_scsi_task(t);
}

/* ---- sessions ---- */

/* Ends c's session: its commands in flight have unknown outcomes. lost: it died under us
 * (a failure unless a fault explains it); else we ended it (logout, a slow login). */
static void sess_drop(struct client *c, const char *why, int lost)
{
	struct iscsi_context *old = c->ctx;

	if (lost && c->st == S_UP && !fault_ok(c))
		fail("%s lost its session to %s with no fault injected: %s", c->name,
		     G.srv[c->srv].name, why);
	trace("%s session to %s ends: %s", c->name, G.srv[c->srv].name, why);
	c->ctx = NULL;
	if (old)
		iscsi_destroy_context(old);	/* callbacks now see a stale context */
	if (c->probe) {
		scsi_free_scsi_task(c->probe);
		c->probe = NULL;
	}
	for (unsigned i = 0; i < QD_MAX; i++) {
		struct op *o = &c->slot[i];

		struct scsi_task *t = o->task;

		if (!o->busy)
			continue;
		op_done(c, o, O_LOST, NULL);
		if (t)
			scsi_free_scsi_task(t);
	}
	c->inflight = 0;
	c->st = S_OUT;
	c->failed = c->logged_out = 0;
	c->retry_at = now_ms() + 50;
}

static void probe_next(struct client *c);

static void probe_cb(struct iscsi_context *ctx, int status, void *data, void *priv)
{
	struct client *c = priv;
	struct scsi_task *t = c->probe;

	(void)data;
	if (ctx != c->ctx || !t)
		return;
	c->probe = NULL;
	if (status != SCSI_STATUS_GOOD) {
		snprintf(c->why, sizeof(c->why), "probe step %d: status 0x%x", c->probe_step,
			 status);
		c->failed = 1;
	} else if (c->probe_step == 0) {
		struct scsi_readcapacity16 *rc = scsi_datain_unmarshall(t);

		if (!rc || rc->block_length != BLK || rc->returned_lba + 1 != G.blocks)
			fail("%s: READ CAPACITY on %s: %" PRIu64 " blocks of %u, want %" PRIu64
			     " of %u", c->name, G.srv[c->srv].name,
			     rc ? rc->returned_lba + 1 : 0, rc ? rc->block_length : 0, G.blocks, BLK);
	} else {
		struct scsi_inquiry_unit_serial_number *usn = scsi_datain_unmarshall(t);

		if (!usn || !usn->usn)
			fail("%s: no unit serial number from %s", c->name, G.srv[c->srv].name);
		if (c->serial[0] && strcmp(c->serial, usn->usn))
			fail("%s: the disk's serial number is %s on %s, was %s", c->name, usn->usn,
			     G.srv[c->srv].name, c->serial);
		snprintf(c->serial, sizeof(c->serial), "%s", usn->usn);
	}
	scsi_free_scsi_task(t);
	if (c->failed)
		return;
	c->probe_step++;
	probe_next(c);
}

/* What a new session checks before any I/O: the disk's size, and that it is the same disk
 * (VPD 80 serial) on both servers. */
static void probe_next(struct client *c)
{
	if (c->probe_step == 2) {
		c->st = S_UP;
		c->logins++;
		trace("%s logged in to %s", c->name, G.srv[c->srv].name);
		return;
	}
	if (c->probe_step == 0)
		c->probe = iscsi_readcapacity16_task(c->ctx, 0, probe_cb, c);
	else
		c->probe = iscsi_inquiry_task(c->ctx, 0, 1, SCSI_INQUIRY_PAGECODE_UNIT_SERIAL_NUMBER,
					      255, probe_cb, c);
	if (!c->probe) {
		snprintf(c->why, sizeof(c->why), "cannot queue the probe");
		c->failed = 1;
	}
}

static void connect_cb(struct iscsi_context *ctx, int status, void *data, void *priv)
{
	struct client *c = priv;

	(void)data;
	if (ctx != c->ctx)
		return;
	if (status == SCSI_STATUS_GOOD && c->st == S_CONNECTING) {
		c->st = S_PROBING;
		c->probe_step = 0;
		probe_next(c);
		return;
	}
	/* a refused login, or (called again) the session died */
	snprintf(c->why, sizeof(c->why), "%s", iscsi_get_error(ctx));
	c->failed = 1;
}

static void sess_connect(struct client *c)
{
	struct server *s = primary();

	c->ctx = iscsi_create_context(c->iqn);
	if (!c->ctx)
		fail("cannot create an iSCSI context");
	iscsi_set_targetname(c->ctx, G.target);
	iscsi_set_session_type(c->ctx, ISCSI_SESSION_NORMAL);
	/* both digest settings over the run: the target receives large data segments straight
	 * into place without a digest */
	iscsi_set_header_digest(c->ctx, c->logins % 2 ? ISCSI_HEADER_DIGEST_CRC32C :
						       ISCSI_HEADER_DIGEST_NONE);
	iscsi_set_noautoreconnect(c->ctx, 1);
	iscsi_set_isid_random(c->ctx, (uint32_t)mix64(G.seed + c->idx) & 0xffffff, 0);
	c->srv = (int)(s - G.srv);
	c->st = S_CONNECTING;
	c->since = now_ms();
	if (iscsi_full_connect_async(c->ctx, s->portal, 0, connect_cb, c) < 0) {
		snprintf(c->why, sizeof(c->why), "connect: %s", iscsi_get_error(c->ctx));
		c->failed = 1;
	}
}

static void logout_cb(struct iscsi_context *ctx, int status, void *data, void *priv)
{
	struct client *c = priv;

	(void)status, (void)data;
	if (ctx == c->ctx)
		c->logged_out = 1;
}

/* Moves c's session towards what the step wants. */
static void drive(struct client *c)
{
	uint64_t now = now_ms();

	if (c->failed) {
		if (c->st == S_CONNECTING || c->st == S_PROBING)
			G.refusals++;
		sess_drop(c, c->why, c->st == S_UP || c->st == S_LOGOUT);
	}
	if (c->logged_out)
		sess_drop(c, "logged out", 0);
	switch (c->st) {
	case S_OUT:
		if (c->want_in && servable(c) && now >= c->retry_at)
			sess_connect(c);
		break;
	case S_CONNECTING:
	case S_PROBING:
		if (now - c->since > LOGIN_TRY_MS)
			sess_drop(c, "login took too long", 0);
		break;
	case S_UP:
		if (!c->want_in && !c->inflight) {
			c->st = S_LOGOUT;
			c->since = now;
			if (iscsi_logout_async(c->ctx, logout_cb, c) < 0)
				c->logged_out = 1;
		}
		break;
	case S_LOGOUT:
		if (now - c->since > LOGIN_TRY_MS)
			sess_drop(c, "no answer to the logout", 0);
		break;
	}
	/* the deadline runs while the client wants in and may be served */
	if (c->st == S_UP || !c->want_in || !servable(c))
		c->out_since = now;
	if (now - c->out_since > LOGIN_DEADLINE_MS)
		fail("%s could not log in to %s for %u s (last: %s)", c->name, primary()->name,
		     LOGIN_DEADLINE_MS / 1000, c->why);
}

/* The first block of [lba, lba + n) the next command needs narrowed first: a read of up to
 * 1 MiB from there settles it. */
static int needs_read(const struct client *c, const struct plan *p, uint64_t *from)
{
	if (!writes(p->kind))
		return 0;
	return !span_ok(c, p->lba, p->n, p->kind == K_CAW, from);
}

/* Starts the client's next commands while the step allows. */
static void feed(struct client *c)
{
	while (G.issuing && c->st == S_UP && c->want_in && c->inflight < c->qd &&
	       G.step_ops < G.budget) {
		uint64_t from;

		if (!c->have_next) {
			gen_plan(c, &c->next);
			c->have_next = 1;
		}
		if (overlaps_inflight(c, c->next.lba, c->next.n))
			return;		/* it waits for its range */
		if (needs_read(c, &c->next, &from)) {
			struct plan rd = { .kind = K_CHECK, .lba = from,
					   .n = (uint32_t)(G.blocks - from < XFER_MAX ?
							   G.blocks - from : XFER_MAX) };

			if (overlaps_inflight(c, rd.lba, rd.n))
				return;
			issue(c, &rd);
			continue;
		}
		issue(c, &c->next);
		c->have_next = 0;
		G.step_ops++;
		if (c->failed)
			return;
	}
}

/* ---- the hook: requests to the test script ---- */

static void hook_read(void)
{
	ssize_t n = read(0, G.hook_in + G.hook_len, sizeof(G.hook_in) - 1 - G.hook_len);
	char *nl;

	if (n == 0)
		fail("the test script went away");
	if (n < 0)
		return;
	G.hook_len += (size_t)n;
	G.hook_in[G.hook_len] = 0;
	nl = strchr(G.hook_in, '\n');
	if (!nl) {
		if (G.hook_len == sizeof(G.hook_in) - 1)
			fail("the test script's answer is too long");
		return;
	}
	*nl = 0;
	snprintf(G.hook_answer, sizeof(G.hook_answer), "%s", G.hook_in);
	G.hook_len = 0;
	G.hook_have = 1;
}

/* ---- the loop ---- */

static void pump(int wait_ms)
{
	struct pollfd pfd[MAX_CLIENTS + 1];
	struct client *who[MAX_CLIENTS];
	unsigned n = 0;
	uint64_t now;

	for (unsigned i = 0; i < G.ncl; i++) {
		drive(&G.cl[i]);
		feed(&G.cl[i]);
	}
	for (unsigned i = 0; i < G.ncl; i++) {
		struct client *c = &G.cl[i];

		if (!c->ctx)
			continue;
		pfd[n] = (struct pollfd){ .fd = iscsi_get_fd(c->ctx),
					  .events = (short)iscsi_which_events(c->ctx) };
		who[n++] = c;
	}
	if (G.hook_waiting)
		pfd[n++] = (struct pollfd){ .fd = 0, .events = POLLIN };
	if (poll(pfd, n, wait_ms) < 0 && errno != EINTR)
		fail("poll: %s", strerror(errno));
	for (unsigned i = 0; i < n; i++) {
		if (!pfd[i].revents)
			continue;
		if (pfd[i].fd == 0 && G.hook_waiting) {
			hook_read();
			continue;
		}
		if (who[i]->ctx && iscsi_service(who[i]->ctx, pfd[i].revents) < 0) {
			snprintf(who[i]->why, sizeof(who[i]->why), "%s",
				 iscsi_get_error(who[i]->ctx));
			who[i]->failed = 1;
		}
	}
	now = now_ms();
	for (unsigned i = 0; i < G.ncl; i++) {
		struct client *c = &G.cl[i];

		for (unsigned k = 0; k < QD_MAX && c->st == S_UP && !c->failed; k++) {
			struct op *o = &c->slot[k];

			if (o->busy && now - o->t0 > IO_TIMEOUT_MS) {
				snprintf(c->why, sizeof(c->why), "%s #%" PRIu64 " unanswered for %u s",
					 kname[o->p.kind], o->no, IO_TIMEOUT_MS / 1000);
				c->failed = 1;
			}
		}
	}
}

static void pump_for(uint64_t ms)
{
	uint64_t end = now_ms() + ms;

	while (now_ms() < end)
		pump(10);
}

/* Sends one request to the test script and serves the sessions until it answers. */
static void hook(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static void hook(const char *fmt, ...)
{
	char line[256];
	uint64_t t0 = now_ms();
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	trace("hook: %s", line);
	printf("%s\n", line);
	fflush(stdout);
	G.hook_waiting = 1;
	G.hook_have = 0;
	while (!G.hook_have) {
		pump(10);
		if (now_ms() - t0 > 60000)
			fail("the test script did not answer '%s' within 60 s", line);
	}
	G.hook_waiting = 0;
	if (strcmp(G.hook_answer, "ok"))
		fail("the test script could not do '%s': %s", line, G.hook_answer);
	trace("hook: %s done in %" PRIu64 " ms", line, now_ms() - t0);
}

/* ---- the servers: control sockets and files ---- */

/* One control request: 0 with *answer (the caller's) when vdiskd answered ok, -EINVAL when it
 * answered an error (traced), or ctl_call's negative errno. */
static int ctl(struct server *s, const char *req, json_t **answer)
{
	int rc = ctl_call(s->ctl, req, 5000, answer);

	if (rc == 0 && ctl_error(*answer)) {
		trace("ctl %s %s: error: %s", s->name, req, ctl_error(*answer));
		json_decref(*answer);
		*answer = NULL;
		return -EINVAL;
	}
	return rc;
}

/* One control request that must succeed. */
static void ctl_must(struct server *s, const char *req)
{
	json_t *answer = NULL;
	int rc = ctl(s, req, &answer);
	char *text;

	if (rc < 0)
		fail("%s: '%s' failed: %s", s->name, req, strerror(-rc));
	text = json_dumps(answer, JSON_COMPACT);
	trace("ctl %s %s: %s", s->name, req, text ? text : "?");
	free(text);
	json_decref(answer);
}

/* The string member key of obj into out (cut to len); "" when missing or not a string. */
static void member_str(const json_t *obj, const char *key, char *out, size_t len)
{
	const char *v = json_string_value(json_object_get(obj, key));

	snprintf(out, len, "%s", v ? v : "");
}

/* A generation, a hex string; 0 when missing or not a string. */
static uint64_t member_hex(const json_t *obj, const char *key)
{
	const char *v = json_string_value(json_object_get(obj, key));

	return v ? strtoull(v, NULL, 16) : 0;
}

/* A counter, a JSON integer; 0 when missing or not an integer. */
static uint64_t member_u64(const json_t *obj, const char *key)
{
	const json_t *v = json_object_get(obj, key);

	return json_is_integer(v) ? (uint64_t)json_integer_value(v) : 0;
}

static int status(struct server *s, struct vstatus *st)
{
	json_t *answer = NULL, *e;
	size_t i;
	int rc = ctl(s, "status", &answer);

	memset(st, 0, sizeof(*st));
	if (rc < 0)
		return rc;
	member_str(answer, "role", st->role, sizeof(st->role));
	member_str(answer, "mirror", st->mirror, sizeof(st->mirror));
	st->clients = (unsigned)member_u64(answer, "clients");
	json_array_foreach(json_object_get(answer, "mirror_client"), i, e) {
		struct mline *m;

		if (st->nm == MAX_CLIENTS)
			break;
		m = &st->m[st->nm++];
		member_str(e, "name", m->name, sizeof(m->name));
		member_str(e, "state", m->state, sizeof(m->state));
		m->gen = member_hex(e, "gen");
		m->peer_gen = member_hex(e, "peer_gen");
		m->failures = member_u64(e, "failures");
	}
	json_array_foreach(json_object_get(answer, "replica_client"), i, e) {
		struct rline *r;

		if (st->nr == MAX_CLIENTS)
			break;
		r = &st->r[st->nr++];
		member_str(e, "name", r->name, sizeof(r->name));
		r->gen = member_hex(e, "gen");
		r->inconsistent = json_is_true(json_object_get(e, "inconsistent"));
	}
	json_decref(answer);
	return 0;
}

static const struct rline *replica_of(const struct vstatus *st, const char *name)
{
	for (unsigned i = 0; i < st->nr; i++)
		if (!strcmp(st->r[i].name, name))
			return &st->r[i];
	return NULL;
}

/* The primary's mirrors all in sync, and no replica on the secondary marked inconsistent. */
static int in_sync(void)
{
	struct vstatus p, s;

	if (status(primary(), &p) < 0 || strcmp(p.mirror, "in-sync"))
		return 0;
	for (unsigned i = 0; i < p.nm; i++)
		if (strcmp(p.m[i].state, "in-sync"))
			return 0;
	if (status(secondary(), &s) < 0)
		return 0;
	for (unsigned i = 0; i < p.nm; i++) {
		const struct rline *r = replica_of(&s, p.m[i].name);

		if (r && (r->inconsistent || r->gen != p.m[i].gen))
			return 0;
	}
	return 1;
}

static void wait_in_sync(const char *why)
{
	uint64_t t0 = now_ms();

	while (!in_sync()) {
		if (now_ms() - t0 > SETTLE_MS) {
			struct vstatus p;

			status(primary(), &p);
			fail("%s: %s's mirror is not in sync after %u s (mirror %s%s%s)", why,
			     primary()->name, SETTLE_MS / 1000, p.mirror, p.nm ? ", first client " : "",
			     p.nm ? p.m[0].state : "");
		}
		pump_for(100);
	}
	trace("%s: in sync after %" PRIu64 " ms", why, now_ms() - t0);
	if (now_ms() - t0 > G.longest_sync_ms) {
		G.longest_sync_ms = now_ms() - t0;
		G.longest_sync_kind = G.kind;
	}
}

/* Reads whole file ranges; 0 or -errno. */
static int pread_all(int fd, void *buf, size_t len, off_t off)
{
	uint8_t *p = buf;

	while (len) {
		ssize_t n = pread(fd, p, len, off);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return n < 0 ? -errno : -EIO;
		p += n;
		len -= (size_t)n;
		off += n;
	}
	return 0;
}

#define OVMAP_MAGIC "VDOVMAP1"
#define OVMAP_HDR 4096u

struct ovmap_hdr {
	char magic[8];
	uint32_t version, chunk_shift;
	uint64_t size, nchunks;
	uint32_t state, reserved;
};

/* Reads the whole disk of client c from the overlay files in dir (read-only, no lock):
 * NAME.map's mapped chunks from NAME.data, the others from the base. No map at all is a disk
 * never written there: the base. Fails on a map this reader does not know. */
static void read_overlay_files(const char *dir, const struct client *c, uint8_t *disk)
{
	char path[600];
	struct ovmap_hdr h;
	uint64_t size = G.blocks * BLK, nchunks, chunk;
	uint8_t *bits = NULL;
	int mfd, dfd;

	snprintf(path, sizeof(path), "%s/%s.map", dir, c->name);
	mfd = open(path, O_RDONLY | O_CLOEXEC);
	if (mfd < 0 && errno == ENOENT) {
		memcpy(disk, G.base, size);
		return;
	}
	if (mfd < 0 || pread_all(mfd, &h, sizeof(h), 0))
		fail("%s: cannot read: %s", path, strerror(errno));
	if (memcmp(h.magic, OVMAP_MAGIC, 8) || h.version != 1 ||
	    (1ull << h.chunk_shift) != STORE_OVERLAY_CHUNK || h.size != size)
		fail("%s: a map this test does not read (version %u, chunk 2^%u, size %" PRIu64 ")",
		     path, h.version, h.chunk_shift, h.size);
	chunk = STORE_OVERLAY_CHUNK;
	nchunks = size / chunk;
	bits = malloc((size_t)(nchunks + 7) / 8);
	if (!bits || pread_all(mfd, bits, (size_t)(nchunks + 7) / 8, OVMAP_HDR))
		fail("%s: cannot read the bitmap", path);
	close(mfd);
	snprintf(path, sizeof(path), "%s/%s.data", dir, c->name);
	dfd = open(path, O_RDONLY | O_CLOEXEC);
	if (dfd < 0)
		fail("%s: %s", path, strerror(errno));
	for (uint64_t k = 0; k < nchunks; k++) {
		uint8_t *dst = disk + k * chunk;

		if (!(bits[k / 8] >> (k % 8) & 1))	/* little-endian words: bit k of byte k/8 */
			memcpy(dst, G.base + k * chunk, chunk);
		else if (pread_all(dfd, dst, chunk, (off_t)(k * chunk)))
			fail("%s: cannot read chunk %" PRIu64, path, k);
	}
	close(dfd);
	free(bits);
}

/* gen and peer_gen from a mirror state file (vdisk-server/mirror/mirror_meta.c's header). */
static int read_gens(const char *dir, const char *name, uint64_t *gen, uint64_t *peer_gen)
{
	char path[600];
	uint64_t v[2];
	int fd, rc;

	snprintf(path, sizeof(path), "%s/%s.mirror", dir, name);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	rc = pread_all(fd, v, sizeof(v), 32);	/* after magic, version, shift, size, nchunks */
	close(fd);
	*gen = v[0];
	*peer_gen = v[1];
	return rc;
}

/* A takeover is a fair test only if the product promises the new primary has every
 * acknowledged write: no hot-standby disk's state file on the old primary may say that it
 * made writes apart from its peer (a new generation), since no fault was injected. */
static void check_takeover_fair(struct server *old)
{
	for (unsigned i = 0; i < G.ncl; i++) {
		uint64_t gen, peer_gen;

		if (!G.cl[i].hs || read_gens(old->ovdir, G.cl[i].name, &gen, &peer_gen) < 0)
			continue;
		if (gen != peer_gen)
			fail("takeover from %s: %s's state file says writes were made apart from the "
			     "peer (gen %016" PRIx64 ", peer_gen %016" PRIx64 ") though the mirror "
			     "was in sync and no fault was injected", old->name, G.cl[i].name, gen,
			     peer_gen);
	}
}

/* ---- checks after a step ---- */

/* Reads c's whole disk through its session, checking and narrowing every block. */
static void check_iscsi(struct client *c)
{
	uint64_t next = 0;

	while ((next < G.blocks || c->inflight) && c->st == S_UP) {
		while (next < G.blocks && c->inflight < CHECK_QD && !c->failed) {
			struct plan rd = { .kind = K_CHECK, .lba = next, .n = XFER_MAX };

			if (rd.n > G.blocks - next)
				rd.n = (uint32_t)(G.blocks - next);
			issue(c, &rd);
			next += rd.n;
		}
		pump(10);
	}
	if (next < G.blocks || c->st != S_UP)
		fail("%s: the check's reads did not complete (%s)", c->name, c->why);
	G.checked_iscsi += G.blocks;
}

static void check_files(struct client *c, struct server *s, int narrow, const char *what)
{
	uint8_t *disk = malloc(G.blocks * BLK);
	char where[320];

	if (!disk)
		fail("out of memory");
	snprintf(where, sizeof(where), "%s (%s's files in %s)", s->name, what, s->ovdir);
	read_overlay_files(s->ovdir, c, disk);
	for (uint64_t b = 0; b < G.blocks; b++)
		check_block(c, b, disk + b * BLK, narrow, where);
	free(disk);
}

/* The server whose files hold c's disk while c is logged out. */
static struct server *home(const struct client *c)
{
	return c->hs ? primary() : &G.srv[G.db_primary];
}

static void check_all(void)
{
	for (unsigned i = 0; i < G.ncl; i++) {
		struct client *c = &G.cl[i];

		if (c->st == S_UP) {
			check_iscsi(c);
		} else {
			check_files(c, home(c), 1, "disk");
			G.checked_files += G.blocks;
		}
	}
	for (unsigned i = 0; i < G.ncl; i++) {
		struct client *c = &G.cl[i];

		if (!c->hs)
			continue;
		if (!pair_whole()) {
			G.replica_skipped++;
			continue;
		}
		check_files(c, secondary(), 0, "replica");
		G.checked_replica += G.blocks;
	}
	trace("check done");
}

/* Back to a state that can be checked: commands drained, every client the step wants is
 * logged in, and with both servers up the mirror in sync. */
static void settle(void)
{
	uint64_t t0 = now_ms();
	int busy = 1;

	G.issuing = 0;
	while (busy) {
		busy = 0;
		for (unsigned i = 0; i < G.ncl; i++) {
			struct client *c = &G.cl[i];

			busy |= c->inflight || (c->want_in && servable(c) && c->st != S_UP) ||
				(!c->want_in && c->st != S_OUT);
		}
		if (!busy)
			break;
		if (now_ms() - t0 > SETTLE_MS)
			fail("the clients did not settle within %u s", SETTLE_MS / 1000);
		pump(10);
	}
	if (pair_whole())
		wait_in_sync("after the step");
	G.disrupting = 0;
	for (unsigned i = 0; i < G.ncl; i++)
		G.cl[i].reset_fault = 0;
}

/* ---- faults ---- */

/* Sessions to s are dead: reset at once, as standbyd's tickle ACKs do after a takeover. */
static void drop_sessions_to(struct server *s)
{
	for (unsigned i = 0; i < G.ncl; i++) {
		struct client *c = &G.cl[i];

		if (c->ctx && &G.srv[c->srv] == s)
			sess_drop(c, "its server went away", 1);
	}
}

static void fault_logins(void)
{
	unsigned toggled = 0;

	for (unsigned i = 0; i < G.ncl || !toggled; i++) {
		struct client *c = &G.cl[i % G.ncl];

		if (!chance(&G.sched, 50))
			continue;
		c->want_in = !c->want_in;
		toggled++;
		trace("%s %s", c->name, c->want_in ? "logs in" : "logs out");
	}
}

static void fault_reset(void)
{
	struct client *c = &G.cl[below(&G.sched, G.ncl)];
	uint64_t t0 = now_ms();
	char req[96];
	int was_in;

	if (!servable(c)) {
		trace("reset skipped: %s is not served now", c->name);
		return;
	}
	/* A reset is a PC's PXE boot: its session has ended first. A running PC's session
	 * answers the reset's probe and the reset is refused (tests/vdiskd/clientauth.t), so
	 * the client logs out here, its commands drained, before the reset is asked. */
	was_in = c->want_in;
	c->want_in = 0;
	while (c->st != S_OUT) {
		if (now_ms() - t0 > SETTLE_MS)
			fail("%s did not log out for its reset within %u s", c->name,
			     SETTLE_MS / 1000);
		pump(10);
	}
	c->reset_fault = 1;
	snprintf(req, sizeof(req), "overlay-reset %s", c->name);
	ctl_must(primary(), req);
	c->want_in = was_in;
	for (uint64_t b = 0; b < G.blocks; b++)
		cell_set(&c->m[b], V_BASE);
}

static void fault_kill_secondary(int restart)
{
	struct server *s = secondary();

	hook("kill %s", s->name);
	s->running = 0;
	if (!restart)
		return;
	pump_for(below(&G.sched, 2000));
	hook("start %s secondary", s->name);
	s->running = 1;
}

static void fault_kill_primary(void)
{
	struct server *p = primary();

	G.disrupting = 1;
	hook("kill %s", p->name);
	p->running = 0;
	drop_sessions_to(p);
	pump_for(below(&G.sched, 1500));
	hook("start %s primary", p->name);
	p->running = 1;
}

/* The old primary may close its disks only once every write of theirs is on the peer. */
static void wait_released(struct server *s)
{
	uint64_t t0 = now_ms();
	struct vstatus st;

	while (status(s, &st) == 0 && st.clients) {
		if (now_ms() - t0 > SETTLE_MS)
			fail("%s still has %u disks open %u s after stepping down", s->name,
			     st.clients, SETTLE_MS / 1000);
		pump_for(20);
	}
}

static void become_primary(unsigned n)
{
	G.prim = n;
	ctl_must(primary(), "role primary");
	for (unsigned i = 0; i < G.ncl; i++)
		if (!servable(&G.cl[i]) && G.cl[i].ctx)
			sess_drop(&G.cl[i], "not served by the new primary", 0);
}

static void fault_switchover(void)
{
	struct server *old = primary();

	wait_in_sync("before the switchover");
	G.disrupting = 1;
	ctl_must(old, "role secondary");
	wait_released(old);
	check_takeover_fair(old);
	become_primary(!G.prim);
}

static void fault_cut_takeover(void)
{
	struct server *old = primary();

	wait_in_sync("before the power cut");
	G.disrupting = 1;
	hook("powercut %s", old->name);
	old->running = old->lan_up = 0;
	drop_sessions_to(old);
	check_takeover_fair(old);
	become_primary(!G.prim);
}

static void fault_peer_return(void)
{
	struct server *s = secondary();

	if (!G.link_up) {
		hook("halink up");
		G.link_up = 1;
	}
	if (!s->lan_up) {
		hook("poweron %s", s->name);
		s->lan_up = 1;
	}
	if (!s->running) {
		hook("start %s secondary", s->name);
		s->running = 1;
	}
}

/* The secondary stops (SIGSTOP) for longer than the mirror's timeout and goes on: the
 * primary gives it up while its replication sessions still hold commands it never
 * answered, which it then finds in its sockets. */
static void fault_stall_secondary(void)
{
	struct server *s = secondary();

	hook("stop %s", s->name);
	pump_for(3500 + below(&G.sched, 1500));
	hook("cont %s", s->name);
}

static int any_syncing(void)
{
	struct vstatus st;

	if (status(primary(), &st) < 0)
		return 0;
	for (unsigned i = 0; i < st.nm; i++)
		if (!strcmp(st.m[i].state, "syncing"))
			return 1;
	return 0;
}

/* The peer comes back and is lost again while a resync runs (seen in the primary's status,
 * within 5 s; or anyway): the HA link goes down, or its vdiskd is killed. */
static void fault_peer_flap(void)
{
	int by_link = chance(&G.sched, 50);
	uint64_t after = below(&G.sched, 300), t0;

	fault_peer_return();
	for (t0 = now_ms(); !any_syncing() && now_ms() - t0 < 5000;)
		pump_for(20);
	trace("peer-flap: %s after %" PRIu64 " ms, lost again %" PRIu64 " ms later",
	      any_syncing() ? "resync seen" : "no resync seen", now_ms() - t0, after);
	pump_for(after);
	if (by_link) {
		hook("halink down");
		G.link_up = 0;
	} else {
		fault_kill_secondary(0);
	}
}

static void do_fault(enum stepk k)
{
	switch (k) {
	case T_IO: break;
	case T_LOGINS: fault_logins(); break;
	case T_RESET: fault_reset(); break;
	case T_LINK_DOWN: hook("halink down"); G.link_up = 0; break;
	case T_KILL_SEC: fault_kill_secondary(0); break;
	case T_KILL_SEC_RESTART: fault_kill_secondary(1); break;
	case T_KILL_PRIM: fault_kill_primary(); break;
	case T_SWITCH: fault_switchover(); break;
	case T_CUT_TAKEOVER: fault_cut_takeover(); break;
	case T_STALL_SEC: fault_stall_secondary(); break;
	case T_PEER_RETURN: fault_peer_return(); break;
	case T_PEER_FLAP: fault_peer_flap(); break;
	default: break;
	}
}

/* The next step's kind: the faults the pair's state allows, by weight. */
static enum stepk pick_step(void)
{
	static const unsigned whole[T_NKINDS] = {
		[T_IO] = 12, [T_LOGINS] = 14, [T_RESET] = 8, [T_LINK_DOWN] = 7, [T_KILL_SEC] = 5,
		[T_KILL_SEC_RESTART] = 7, [T_KILL_PRIM] = 9, [T_SWITCH] = 9, [T_CUT_TAKEOVER] = 7,
		[T_STALL_SEC] = 5,
	};
	static const unsigned broken[T_NKINDS] = {
		[T_IO] = 10, [T_LOGINS] = 8, [T_RESET] = 5, [T_KILL_PRIM] = 6, [T_PEER_RETURN] = 20,
		[T_PEER_FLAP] = 8,
	};
	const unsigned *w = pair_whole() ? whole : broken;
	unsigned total = 0, x;
	int k;

	for (k = 0; k < T_NKINDS; k++)
		total += w[k];
	x = (unsigned)below(&G.sched, total);
	for (k = 0; x >= w[k]; k++)
		x -= w[k];
	return (enum stepk)k;
}

static int anyone_wants_in(void)
{
	for (unsigned i = 0; i < G.ncl; i++)
		if (G.cl[i].want_in && servable(&G.cl[i]))
			return 1;
	return 0;
}

/* I/O until n more commands have started, or ms have passed (a restart may keep every
 * client out for a while), or at once when no client is to be logged in. */
static void io_phase(uint64_t n, uint64_t ms)
{
	uint64_t end = now_ms() + ms, want = G.step_ops + n;

	G.issuing = 1;
	if (want > G.budget)
		want = G.budget;
	while (G.step_ops < want && now_ms() < end && anyone_wants_in())
		pump(10);
}

static void run_step(void)
{
	uint64_t before;

	G.step++;
	G.kind = pick_step();
	G.steps[G.kind]++;
	G.budget = 20 + below(&G.sched, 300);
	before = below(&G.sched, G.budget);
	G.step_ops = 0;
	trace("begins: %s, %" PRIu64 " commands, the fault after %" PRIu64 "; primary %s%s",
	      tname[G.kind], G.budget, before, primary()->name, pair_whole() ? "" : " (degraded)");
	io_phase(before, 5000);
	do_fault(G.kind);
	io_phase(G.budget, 5000);
	settle();
	check_all();
}

/* The end: both servers back and in sync, every disk checked on both. */
static void run_final(void)
{
	G.step++;
	G.kind = T_PEER_RETURN;
	trace("begins: final check");
	G.budget = 0;
	fault_peer_return();
	settle();
	check_all();
}

/* ---- setup ---- */

static void load_base(void)
{
	int fd = open(G.base_path, O_RDONLY | O_CLOEXEC);
	struct stat st;

	if (fd < 0 || fstat(fd, &st) < 0)
		fail("%s: %s", G.base_path, strerror(errno));
	if ((uint64_t)st.st_size != G.blocks * BLK)
		fail("%s: %lld bytes, --blocks says %" PRIu64, G.base_path, (long long)st.st_size,
		     G.blocks * BLK);
	G.base = malloc(G.blocks * BLK);
	if (!G.base || pread_all(fd, G.base, G.blocks * BLK, 0))
		fail("%s: cannot read it", G.base_path);
	close(fd);
}

static void client_init(struct client *c, unsigned idx)
{
	c->idx = idx;
	c->rng.s = mix64(G.seed ^ (0x1000 + idx));
	c->qd = 1 + (unsigned)below(&c->rng, QD_MAX);
	c->m = calloc(G.blocks, sizeof(*c->m));
	if (!c->m)
		fail("out of memory for the model");
	for (uint64_t b = 0; b < G.blocks; b++)
		cell_set(&c->m[b], V_BASE);
	/* write ids 0 and 1 are the base and zeros */
	c->nw = V_FIRST;
	c->wcap = 4096;
	c->w = calloc(c->wcap, sizeof(*c->w));
	if (!c->w)
		fail("out of memory for the model");
	c->w[V_ZERO].zero = 1;
	c->want_in = 1;
	c->out_since = now_ms();
	for (unsigned i = 0; i < QD_MAX; i++) {
		c->slot[i].c = c;
		c->slot[i].buf = malloc((size_t)XFER_MAX * BLK);
		if (!c->slot[i].buf)
			fail("out of memory for buffers");
	}
}

static void summary(void)
{
	fprintf(stderr, "mirror_model: seed %" PRIu64 " passed: %u steps in %.0f s\n"
		"mirror_model:   commands:", G.seed, G.step, (double)(now_ms() - G.t_start) / 1000);
	for (int k = 0; k < K_NKINDS; k++)
		fprintf(stderr, " %s %" PRIu64 "%s", kname[k], G.ops[k], k + 1 < K_NKINDS ? "," : "");
	fprintf(stderr, "; FUA %" PRIu64 ", miscompares %" PRIu64 "\n"
		"mirror_model:   outcomes unknown after a fault %" PRIu64 ", blocks narrowed by a "
		"read %" PRIu64 ", login refusals %" PRIu64 "\nmirror_model:   steps:", G.fua,
		G.miscompares, G.unknown, G.narrowed, G.refusals);
	for (int k = 0; k < T_NKINDS; k++)
		fprintf(stderr, " %s %" PRIu64 "%s", tname[k], G.steps[k], k + 1 < T_NKINDS ? "," : "");
	fprintf(stderr, "; longest wait for the mirror in sync %.1f s (after %s)\n"
		"mirror_model:   blocks checked: %" PRIu64 " through iSCSI, %" PRIu64 " in the "
		"serving server's files, %" PRIu64 " in replicas (%" PRIu64 " replica checks "
		"skipped while degraded)\n", (double)G.longest_sync_ms / 1000,
		tname[G.longest_sync_kind], G.checked_iscsi, G.checked_files, G.checked_replica,
		G.replica_skipped);
}

/* ---- command line ---- */

static int usage(void)
{
	fprintf(stderr,
		"usage: mirror_model mkbase FILE MIB\n"
		"       mirror_model run --seed N --seconds S --blocks N --base FILE --target IQN\n"
		"                    --server NAME,PORTAL,CTL,OVERLAY_DIR (twice: the first starts\n"
		"                    primary and is the DB's primary)\n"
		"                    --client NAME,IQN,hs|nohs (up to %u) [--trace FILE]\n"
		"  requests to the test script on stdout, its answers on stdin (see the header)\n",
		MAX_CLIENTS);
	return 2;
}

static int mkbase(const char *path, const char *mib)
{
	uint64_t blocks = strtoull(mib, NULL, 10) * 2048;
	uint8_t b[BLK];
	FILE *f = fopen(path, "w");

	if (!f || !blocks || blocks > (1ull << 24)) {
		fprintf(stderr, "mirror_model: mkbase %s %s: bad file or size\n", path, mib);
		return 2;
	}
	for (uint64_t lba = 0; lba < blocks; lba++) {
		make_block(b, MAGIC_BASE, 0, 0, lba);
		if (fwrite(b, BLK, 1, f) != 1)
			break;
	}
	if (fclose(f)) {
		perror(path);
		return 1;
	}
	return 0;
}

static int split(char *arg, char **out, int max)
{
	int n = 0;
	char *save = NULL;

	for (char *t = strtok_r(arg, ",", &save); t && n < max; t = strtok_r(NULL, ",", &save))
		out[n++] = t;
	return n;
}

static int parse_server(char *arg, unsigned *nsrv)
{
	char *f[4];
	struct server *s;

	if (*nsrv == 2 || split(arg, f, 4) != 4)
		return -1;
	s = &G.srv[(*nsrv)++];
	snprintf(s->name, sizeof(s->name), "%s", f[0]);
	snprintf(s->portal, sizeof(s->portal), "%s", f[1]);
	snprintf(s->ctl, sizeof(s->ctl), "%s", f[2]);
	snprintf(s->ovdir, sizeof(s->ovdir), "%s", f[3]);
	s->running = s->lan_up = 1;
	return 0;
}

static int parse_client(char *arg)
{
	char *f[3];
	struct client *c;

	if (G.ncl == MAX_CLIENTS || split(arg, f, 3) != 3 ||
	    (strcmp(f[2], "hs") && strcmp(f[2], "nohs")))
		return -1;
	c = &G.cl[G.ncl++];
	snprintf(c->name, sizeof(c->name), "%s", f[0]);
	snprintf(c->iqn, sizeof(c->iqn), "%s", f[1]);
	c->hs = !strcmp(f[2], "hs");
	return 0;
}

static int parse_args(int argc, char **argv)
{
	static const struct option lo[] = {
		{ "seed", required_argument, NULL, 's' }, { "seconds", required_argument, NULL, 'S' },
		{ "blocks", required_argument, NULL, 'b' }, { "base", required_argument, NULL, 'B' },
		{ "target", required_argument, NULL, 't' },
		{ "server", required_argument, NULL, 'v' },
		{ "client", required_argument, NULL, 'c' }, { "trace", required_argument, NULL, 'T' },
		{ NULL, 0, NULL, 0 },
	};
	unsigned nsrv = 0;
	int o;

	optind = 2;
	while ((o = getopt_long(argc, argv, "", lo, NULL)) != -1) {
		switch (o) {
		case 's': G.seed = strtoull(optarg, NULL, 10); break;
		case 'S': G.seconds = strtoull(optarg, NULL, 10); break;
		case 'b': G.blocks = strtoull(optarg, NULL, 10); break;
		case 'B': G.base_path = optarg; break;
		case 't': G.target = optarg; break;
		case 'v': if (parse_server(optarg, &nsrv)) return usage(); break;
		case 'c': if (parse_client(optarg)) return usage(); break;
		case 'T': G.trace_path = optarg; break;
		default: return usage();
		}
	}
	if (optind != argc || nsrv != 2 || !G.ncl || !G.base_path || !G.target ||
	    G.blocks < 2 * UNMAP_MAX || G.blocks % MR_BLOCKS)
		return usage();
	return 0;
}

int main(int argc, char **argv)
{
	int rc;

	if (argc >= 2 && !strcmp(argv[1], "mkbase"))
		return argc == 4 ? mkbase(argv[2], argv[3]) : usage();
	if (argc < 2 || strcmp(argv[1], "run"))
		return usage();
	rc = parse_args(argc, argv);
	if (rc)
		return rc;
	G.t_start = now_ms();
	G.sched.s = mix64(G.seed);
	G.link_up = 1;
	G.db_primary = 0;
	G.prim = 0;
	if (G.trace_path && !(G.trace = fopen(G.trace_path, "w")))
		fail("%s: %s", G.trace_path, strerror(errno));
	if (G.trace)
		setvbuf(G.trace, NULL, _IOLBF, 0);	/* whole up to a crash */
	fprintf(stderr, "mirror_model: seed %" PRIu64 "\n", G.seed);
	/* a session the target closed is a failed write() to us, not a death */
	signal(SIGPIPE, SIG_IGN);
	fcntl(0, F_SETFL, fcntl(0, F_GETFL) | O_NONBLOCK);
	load_base();
	for (unsigned i = 0; i < G.ncl; i++)
		client_init(&G.cl[i], i);
	while (now_ms() - G.t_start < G.seconds * 1000)
		run_step();
	run_final();
	summary();
	if (G.trace)
		fclose(G.trace);
	return 0;
}
