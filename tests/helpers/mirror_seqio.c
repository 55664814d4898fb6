/* Sequence-numbered block writer and checker for the mirror tests (tests/mirror/) and the
 * mirror benchmark (vdisk-server/bench-mirror.sh): an iSCSI initiator that, like a diskless
 * PC with its root on iSCSI, keeps its writes going across a failover of the server pair.
 *
 *   mirror_seqio write  [options] PORTAL TARGET INITIATOR LOG
 *   mirror_seqio fill   [options] PORTAL TARGET INITIATOR LOG
 *   mirror_seqio verify [options] PORTAL TARGET INITIATOR LOG
 *   mirror_seqio digest [options] PORTAL TARGET INITIATOR LOG
 *   mirror_seqio hold   [options] PORTAL TARGET INITIATOR LOG
 *
 * write: 4 KiB writes to random blocks below --blocks, --qd of them at once, until --seconds
 *   pass or SIGINT/SIGTERM arrives. fill: blocks --first, --first + --stride, ... (--count of
 *   them) written once each. Both append every write acknowledged with GOOD to LOG as a fixed
 *   record (block, seq), one write() per completion, and go on from the highest seq LOG holds.
 * verify: reads every block LOG names and checks that it holds the last acknowledged seq or
 *   a later one, with valid checksums; prints "lost N checked N", exit 1 when lost > 0.
 * digest: reads blocks 0 to --blocks - 1 and prints "digest HEX blocks N": two servers that
 *   serve one replicated disk must give the same digest (LOG is not used).
 * hold: a logged-in session and no I/O until SIGINT/SIGTERM: vdiskd keeps a client's disk
 *   (and its status lines) open while a session is (LOG is not used).
 *
 * LIBISCSI_CHAP_USERNAME and LIBISCSI_CHAP_PASSWORD in the environment: CHAP at every login,
 * as libiscsi's own tools take them.
 *
 * Connection loss (a dead server, a refused login, no answer for --io-timeout-ms) drops the
 * session and logs in again to the same PORTAL, every --connect-timeout-ms, until a session
 * is back or --replacement-ms have passed without one (open-iscsi's replacement_timeout);
 * writes that were not acknowledged are issued again, with the same seq and data.
 *
 * Each 512-byte sector of a block carries its own header (magic, block, seq, sector index,
 * checksum): a 4 KiB write that was never acknowledged may land in part, sector by sector,
 * and that is no loss as long as every sector holds the acknowledged seq or a later one.
 * Two writes to one block are never in flight together, so a block's seq only grows.
 *
 * write and fill end with one line: acked, reissued, reconnects (sessions lost after they
 * were up), logins (attempts, the first included), errors, lun_changed (READ
 * CAPACITY or the unit serial number differ from the first session's), stall_ms (the longest
 * gap between two acknowledged writes: what a client feels during a failover), iops and
 * latency (avg, p50, p99 in microseconds). */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <inttypes.h>
#include <poll.h>
#include <signal.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <iscsi/iscsi.h>
#include <iscsi/scsi-lowlevel.h>

#define BLOCK 4096u
#define SECT 512u
#define SECTS (BLOCK / SECT)
#define MAX_QD 64u
#define MAX_NAME 223		/* RFC 7143 3.2.6.1: iSCSI names are at most 223 bytes */
#define MAX_LOG_RECORDS (64u << 20)	/* 1 GiB of log: far beyond any test run */
#define MAX_BLOCKS (1ull << 28)	/* 1 TiB of 4 KiB blocks */
#define MAX_SAMPLES (4u << 20)
#define MAX_ERRORS 1000u	/* non-GOOD statuses before the run gives up */
#define SEQ_MAGIC 0x3130514553524d4dull	/* "MMRSEQ01" */

/* Sector header; the rest of the sector is a pattern derived from (block, seq, sector). */
struct sect_hdr {
	uint64_t magic, block, seq;
	uint32_t sector, pad;
	uint64_t csum;		/* FNV-1a over the sector with this field zero */
};

struct log_rec {
	uint64_t block, seq;
};

enum mode { M_WRITE, M_FILL, M_VERIFY, M_DIGEST, M_HOLD };
enum link { L_DOWN, L_CONNECTING, L_PROBING, L_UP };
enum slot_state { S_FREE, S_QUEUED, S_INFLIGHT };

struct slot {
	enum slot_state state;
	uint64_t block, seq, t0;
	struct scsi_task *task;
	unsigned char buf[BLOCK];
};

struct conn {
	struct iscsi_context *ctx;
	enum link state;
	int failed;		/* set by callbacks: drop the session from the main loop */
	uint64_t since;		/* ns: connect attempt began */
	uint64_t down_since;	/* ns: last time a usable session went away */
	uint64_t retry_at;
	uint64_t last_progress;	/* ns: last completion, or first submit when idle */
	unsigned logins, lost, probes_left;	/* lost: sessions dropped after they were up */
	struct scsi_task *probe;
	char why[160];
};

struct opts {
	enum mode mode;
	const char *portal, *target, *initiator, *log;
	uint64_t blocks, first, count, stride, seed;
	unsigned qd, lun;
	uint64_t seconds_ms, replacement_ms, connect_ms, io_timeout_ms;
	int quiet;
	int fua;
};

static struct opts o = {
	.blocks = 4096, .count = 1, .stride = 1, .qd = 16,
	.replacement_ms = 15000, .connect_ms = 250, .io_timeout_ms = 400,
};
static struct conn cn;
static struct slot slots[MAX_QD];
static volatile sig_atomic_t stop_requested;

/* Run state: the work cursor, counters, and what the first session showed of the LUN. */
static uint64_t next_seq = 1, cursor, rng, isid_rnd;
static uint64_t acked, reissued, errors, lun_changed, lost, checked;
static uint64_t last_ack, max_gap, lat_sum;
static uint64_t lun_blocks, lun_bsize;	/* from READ CAPACITY: count and size of the LUN's blocks */
static char lun_serial[256];
static int have_identity, exhausted;
static uint32_t *lat_us;
static uint64_t *maxseq;	/* verify: last acknowledged seq per block, 0 = never written */
static uint64_t maxseq_len;
static uint64_t *blockhash;	/* digest: a hash of each block read */
static int log_fd = -1;

/* LeakSanitizer (make check-asan) reads this: libiscsi 1.19's iscsi_destroy_context forgets,
 * without freeing, the state of a full connect still under way (24 bytes), and giving up on
 * a login that takes too long is this program's job. The leak is libiscsi's. */
const char *__lsan_default_suppressions(void);
const char *__lsan_default_suppressions(void)
{
	return "leak:libiscsi.so\n";
}

static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static uint64_t mix(uint64_t x)
{
	x ^= x >> 33;
	x *= 0xff51afd7ed558ccdull;
	x ^= x >> 33;
	x *= 0xc4ceb9fe1a85ec53ull;
	return x ^ (x >> 33);
}

static uint64_t fnv1a(uint64_t h, const unsigned char *p, size_t n)
{
	while (n--) {
		h ^= *p++;
		h *= 0x100000001b3ull;
	}
	return h;
}

static uint64_t sector_sum(const unsigned char *s)
{
	uint64_t h = 0xcbf29ce484222325ull;

	h = fnv1a(h, s, offsetof(struct sect_hdr, csum));
	return fnv1a(h, s + sizeof(struct sect_hdr), SECT - sizeof(struct sect_hdr));
}

static void fill_block(unsigned char *buf, uint64_t block, uint64_t seq)
{
	for (unsigned i = 0; i < SECTS; i++) {
		unsigned char *s = buf + i * SECT;
		struct sect_hdr h = { SEQ_MAGIC, block, seq, i, 0, 0 };
		uint64_t x = mix(seq ^ block << 24 ^ i);

		for (size_t off = sizeof(h); off < SECT; off += sizeof(x)) {
			x = mix(x + 1);
			memcpy(s + off, &x, sizeof(x));
		}
		memcpy(s, &h, sizeof(h));
		h.csum = sector_sum(s);
		memcpy(s, &h, sizeof(h));
	}
}

/* 0 when every sector of buf is a valid sector of block with seq >= want; else -1 and a
 * line in why saying what was found. */
static int check_block(const unsigned char *buf, uint64_t block, uint64_t want, char *why,
		       size_t size)
{
	for (unsigned i = 0; i < SECTS; i++) {
		const unsigned char *s = buf + i * SECT;
		struct sect_hdr h;

		memcpy(&h, s, sizeof(h));
		if (h.magic != SEQ_MAGIC) {
			snprintf(why, size, "sector %u: no header (never written here?)", i);
			return -1;
		}
		if (h.block != block || h.sector != i) {
			snprintf(why, size, "sector %u: holds block %" PRIu64 " sector %u", i,
				 h.block, h.sector);
			return -1;
		}
		if (h.csum != sector_sum(s)) {
			snprintf(why, size, "sector %u: checksum mismatch (seq %" PRIu64 ")", i,
				 h.seq);
			return -1;
		}
		if (h.seq < want) {
			snprintf(why, size, "sector %u: seq %" PRIu64 ", acknowledged %" PRIu64,
				 i, h.seq, want);
			return -1;
		}
	}
	return 0;
}

static void on_signal(int sig)
{
	(void)sig;
	stop_requested = 1;
}

/* ---- the log ---- */

/* Reads LOG (absent is empty): next_seq goes past its highest seq; with want_max, maxseq[]
 * gets each block's highest acknowledged seq. Returns 0, or -1 after saying why. */
static int log_load(int want_max)
{
	struct log_rec recs[4096];
	struct stat st;
	uint64_t n, i, maxblock = 0;
	ssize_t got;
	int fd, pass;

	fd = open(o.log, O_RDONLY);
	if (fd < 0)
		return errno == ENOENT ? 0 : (perror(o.log), -1);
	if (fstat(fd, &st) < 0 || st.st_size % (off_t)sizeof(struct log_rec) ||
	    (uint64_t)st.st_size / sizeof(struct log_rec) > MAX_LOG_RECORDS) {
		fprintf(stderr, "mirror_seqio: %s: not a whole number of records, or too large\n",
			o.log);
		close(fd);
		return -1;
	}
	n = (uint64_t)st.st_size / sizeof(struct log_rec);
	/* Two passes for verify: the highest block sizes maxseq[], then the seqs fill it. */
	for (pass = 0; pass < (want_max ? 2 : 1); pass++) {
		if (pass == 1) {
			maxseq_len = n ? maxblock + 1 : 0;
			maxseq = calloc(maxseq_len ? maxseq_len : 1, sizeof(*maxseq));
			if (!maxseq) {
				close(fd);
				return -1;
			}
		}
		if (lseek(fd, 0, SEEK_SET) < 0)
			goto out_read;
		for (i = 0; i < n;) {
			got = read(fd, recs, sizeof(recs));
			if (got <= 0 || got % (ssize_t)sizeof(struct log_rec))
				goto out_read;
			for (size_t k = 0; k < (size_t)got / sizeof(struct log_rec); k++, i++) {
				struct log_rec *r = &recs[k];

				if (!r->seq || r->block >= MAX_BLOCKS) {
					fprintf(stderr, "mirror_seqio: %s: record %" PRIu64
						" is invalid (block %" PRIu64 " seq %" PRIu64 ")\n",
						o.log, i, r->block, r->seq);
					close(fd);
					return -1;
				}
				if (r->seq >= next_seq)
					next_seq = r->seq + 1;
				if (r->block > maxblock)
					maxblock = r->block;
				if (pass == 1 && r->seq > maxseq[r->block])
					maxseq[r->block] = r->seq;
			}
		}
	}
	close(fd);
	return 0;
out_read:
	fprintf(stderr, "mirror_seqio: %s: read failed\n", o.log);
	close(fd);
	return -1;
}

static void log_append(uint64_t block, uint64_t seq)
{
	struct log_rec r = { block, seq };

	if (write(log_fd, &r, sizeof(r)) != (ssize_t)sizeof(r)) {
		perror("mirror_seqio: log write");
		exit(1);
	}
}

/* ---- the session ---- */

static void drop(const char *why)
{
	static char last_why[sizeof(cn.why)];
	struct iscsi_context *old = cn.ctx;
	uint64_t now = now_ns();

	if (!old)
		return;
	/* Once per reason in a row: a refused login repeats every 20 ms until the takeover. */
	if (!o.quiet && strcmp(why, last_why)) {
		fprintf(stderr, "mirror_seqio: session dropped: %s\n", why);
		snprintf(last_why, sizeof(last_why), "%s", why);
	}
	if (cn.state == L_UP) {
		cn.down_since = now;
		cn.lost++;
	}
	/* Callbacks that run while the context goes see a stale ctx and only free their task. */
	cn.ctx = NULL;
	iscsi_destroy_context(old);
	if (cn.probe) {
		scsi_free_scsi_task(cn.probe);
		cn.probe = NULL;
	}
	for (unsigned i = 0; i < o.qd; i++) {
		struct slot *s = &slots[i];

		if (s->state != S_INFLIGHT)
			continue;
		if (s->task) {
			scsi_free_scsi_task(s->task);
			s->task = NULL;
		}
		s->state = S_QUEUED;
		reissued++;
	}
	cn.state = L_DOWN;
	cn.failed = 0;
	cn.retry_at = now + 20 * 1000000ull;	/* a refused login is not retried in a tight loop */
}

static void probe_next(void);

static void probe_done(struct iscsi_context *ctx, int status, void *data, void *priv)
{
	struct scsi_task *t = cn.probe;
	struct scsi_readcapacity16 *rc;
	struct scsi_inquiry_unit_serial_number *usn;

	(void)data;
	(void)priv;
	if (ctx != cn.ctx) {
		/* A stale context: drop() frees the task. */
		return;
	}
	cn.probe = NULL;
	if (status != SCSI_STATUS_GOOD) {
		snprintf(cn.why, sizeof(cn.why), "%s failed during the probe",
			 cn.probes_left == 2 ? "READ CAPACITY" : "INQUIRY");
		cn.failed = 1;
		scsi_free_scsi_task(t);
		return;
	}
	if (cn.probes_left == 2) {
		rc = scsi_datain_unmarshall(t);
		if (!rc || !rc->block_length || BLOCK % rc->block_length) {
			snprintf(cn.why, sizeof(cn.why), "READ CAPACITY: unusable answer");
			cn.failed = 1;
		} else if (have_identity && (lun_bsize != rc->block_length ||
					     lun_blocks != rc->returned_lba + 1)) {
			lun_changed++;
		} else {
			lun_bsize = rc->block_length;
			lun_blocks = rc->returned_lba + 1;
		}
	} else {
		usn = scsi_datain_unmarshall(t);
		if (!usn || !usn->usn) {
			snprintf(cn.why, sizeof(cn.why), "INQUIRY: no unit serial number");
			cn.failed = 1;
		} else if (have_identity && strncmp(lun_serial, usn->usn, sizeof(lun_serial))) {
			lun_changed++;
		} else if (!have_identity) {
			snprintf(lun_serial, sizeof(lun_serial), "%s", usn->usn);
			have_identity = 1;
		}
	}
	scsi_free_scsi_task(t);
	if (cn.failed)
		return;
	cn.probes_left--;
	probe_next();
}

/* The probe a new session runs before any I/O: READ CAPACITY, then VPD 0x80. */
static void probe_next(void)
{
	if (!cn.probes_left) {
		cn.state = L_UP;
		cn.last_progress = now_ns();
		return;
	}
	if (cn.probes_left == 2)
		cn.probe = iscsi_readcapacity16_task(cn.ctx, (int)o.lun, probe_done, NULL);
	else
		cn.probe = iscsi_inquiry_task(cn.ctx, (int)o.lun, 1,
					      SCSI_INQUIRY_PAGECODE_UNIT_SERIAL_NUMBER, 255,
					      probe_done, NULL);
	if (!cn.probe) {
		snprintf(cn.why, sizeof(cn.why), "cannot queue the probe");
		cn.failed = 1;
	}
}

static void connect_done(struct iscsi_context *ctx, int status, void *data, void *priv)
{
	(void)data;
	(void)priv;
	if (ctx != cn.ctx)
		return;
	if (status == SCSI_STATUS_GOOD && cn.state == L_CONNECTING) {
		cn.state = L_PROBING;
		cn.probes_left = 2;
		probe_next();
		return;
	}
	/* A refused login, or (second call) the session died. */
	snprintf(cn.why, sizeof(cn.why), "%s", iscsi_get_error(ctx));
	cn.failed = 1;
}

static int start_connect(void)
{
	struct iscsi_context *ctx = iscsi_create_context(o.initiator);
	const char *chap_user = getenv("LIBISCSI_CHAP_USERNAME");
	const char *chap_pass = getenv("LIBISCSI_CHAP_PASSWORD");

	if (!ctx) {
		fprintf(stderr, "mirror_seqio: cannot create an iSCSI context\n");
		return -1;
	}
	iscsi_set_targetname(ctx, o.target);
	/* libiscsi reads these only from a URL's parser; a PC with its CHAP secret logs in so */
	if (chap_user && chap_pass)
		iscsi_set_initiator_username_pwd(ctx, chap_user, chap_pass);
	iscsi_set_session_type(ctx, ISCSI_SESSION_NORMAL);
	iscsi_set_header_digest(ctx, ISCSI_HEADER_DIGEST_NONE);
	/* Reconnecting is this program's job: libiscsi's own would hide the stall. */
	iscsi_set_noautoreconnect(ctx, 1);
	/* One ISID per process, kept across reconnects as an initiator keeps it: two processes
	 * with one initiator name are two sessions, not a reinstatement of one. */
	iscsi_set_isid_random(ctx, (uint32_t)(isid_rnd & 0xffffff), 0);
	cn.ctx = ctx;
	cn.state = L_CONNECTING;
	cn.since = now_ns();
	cn.logins++;
	if (iscsi_full_connect_async(ctx, o.portal, (int)o.lun, connect_done, NULL) < 0) {
		snprintf(cn.why, sizeof(cn.why), "connect: %s", iscsi_get_error(ctx));
		cn.failed = 1;
	}
	return 0;
}

/* ---- I/O ---- */

static void io_done(struct iscsi_context *ctx, int status, void *data, void *priv)
{
	struct slot *s = priv;
	struct scsi_task *t = s->task;
	uint64_t now, want, us;
	char why[160];

	(void)data;
	if (ctx != cn.ctx)
		return;		/* drop() frees the task and queues the slot again */
	now = now_ns();
	s->task = NULL;
	if (status == SCSI_STATUS_CANCELLED || status == SCSI_STATUS_ERROR ||
	    status == SCSI_STATUS_TIMEOUT) {
		/* The transport failed: the command goes again on the next session. */
		scsi_free_scsi_task(t);
		s->state = S_QUEUED;
		reissued++;
		snprintf(cn.why, sizeof(cn.why), "command failed: %s", iscsi_get_error(ctx));
		cn.failed = 1;
		return;
	}
	cn.last_progress = now;
	if (status != SCSI_STATUS_GOOD) {
		/* Unit attention after a failover, busy, ...: try again, but not forever. */
		if (errors++ < 5)
			fprintf(stderr, "mirror_seqio: block %" PRIu64 ": status 0x%x %s\n",
				s->block, status, iscsi_get_error(ctx));
		scsi_free_scsi_task(t);
		s->state = S_QUEUED;
		if (errors > MAX_ERRORS) {
			fprintf(stderr, "mirror_seqio: more than %u failed commands\n", MAX_ERRORS);
			exit(1);
		}
		return;
	}
	if (o.mode == M_DIGEST) {
		if (!t->datain.data || t->datain.size < (int)BLOCK) {
			snprintf(cn.why, sizeof(cn.why), "short read");
			cn.failed = 1;
			scsi_free_scsi_task(t);
			s->state = S_QUEUED;
			return;
		}
		blockhash[s->block] = fnv1a(0xcbf29ce484222325ull, t->datain.data, BLOCK);
		goto out;
	}
	if (o.mode == M_VERIFY) {
		want = maxseq[s->block];
		if (!t->datain.data || t->datain.size < (int)BLOCK) {
			snprintf(why, sizeof(why), "short read");
			goto lost_block;
		}
		if (check_block(t->datain.data, s->block, want, why, sizeof(why)) == 0)
			goto out;
lost_block:
		if (lost++ < 10)
			fprintf(stderr, "mirror_seqio: lost: block %" PRIu64 " (acknowledged seq %"
				PRIu64 "): %s\n", s->block, want, why);
		goto out;
	}
	log_append(s->block, s->seq);
	if (last_ack && now - last_ack > max_gap)
		max_gap = now - last_ack;
	last_ack = now;
	us = (now - s->t0) / 1000;
	lat_sum += us;
	if (acked < MAX_SAMPLES)
		lat_us[acked] = us > UINT32_MAX ? UINT32_MAX : (uint32_t)us;
	acked++;
out:
	scsi_free_scsi_task(t);
	s->state = S_FREE;
}

static int block_busy(uint64_t block)
{
	for (unsigned i = 0; i < o.qd; i++)
		if (slots[i].state != S_FREE && slots[i].block == block)
			return 1;
	return 0;
}

/* Gives a free slot its next piece of work; 0 when there is none left. */
static int assign(struct slot *s)
{
	uint64_t block;

	switch (o.mode) {
	case M_HOLD:
		return 0;
	case M_WRITE:
		do {
			rng = mix(rng + 1);
			block = rng % o.blocks;
		} while (block_busy(block));
		break;
	case M_FILL:
		if (cursor >= o.count) {
			exhausted = 1;
			return 0;
		}
		block = o.first + cursor++ * o.stride;
		break;
	case M_DIGEST:
		if (cursor >= o.blocks) {
			exhausted = 1;
			return 0;
		}
		block = cursor++;
		checked++;
		break;
	default:	/* verify: the blocks the log names */
		while (cursor < maxseq_len && !maxseq[cursor])
			cursor++;
		if (cursor >= maxseq_len) {
			exhausted = 1;
			return 0;
		}
		block = cursor++;
		checked++;
		break;
	}
	s->block = block;
	if (o.mode == M_WRITE || o.mode == M_FILL) {
		s->seq = next_seq++;
		fill_block(s->buf, s->block, s->seq);
	}
	s->state = S_QUEUED;
	return 1;
}

static int submit(struct slot *s, unsigned *inflight)
{
	uint64_t lba = s->block * (BLOCK / lun_bsize);
	uint32_t bs = (uint32_t)lun_bsize;

	if (lba + BLOCK / lun_bsize > lun_blocks) {
		fprintf(stderr, "mirror_seqio: block %" PRIu64 " is past the end of the LUN "
			"(%" PRIu64 " blocks of %" PRIu64 ")\n", s->block, lun_blocks, lun_bsize);
		exit(2);
	}
	if (!*inflight)
		cn.last_progress = now_ns();
	s->t0 = now_ns();
	if (o.mode == M_VERIFY || o.mode == M_DIGEST)
		s->task = iscsi_read16_task(cn.ctx, (int)o.lun, lba, BLOCK, (int)bs, 0, 0, 0, 0, 0,
					    io_done, s);
	else
		s->task = iscsi_write16_task(cn.ctx, (int)o.lun, lba, s->buf, BLOCK, (int)bs, 0,
					     0, o.fua, 0, 0, io_done, s);
	if (!s->task) {
		snprintf(cn.why, sizeof(cn.why), "cannot queue: %s", iscsi_get_error(cn.ctx));
		cn.failed = 1;
		return -1;
	}
	s->state = S_INFLIGHT;
	(*inflight)++;
	return 0;
}

/* Fills the queue: slots waiting for a session first, then new work unless stopping. */
static void pump(int stopping, unsigned *inflight)
{
	for (unsigned i = 0; i < o.qd && !cn.failed; i++) {
		struct slot *s = &slots[i];

		if (s->state == S_FREE && (stopping || !assign(s)))
			continue;
		if (s->state == S_QUEUED)
			submit(s, inflight);
	}
}

static unsigned count_state(enum slot_state st)
{
	unsigned n = 0;

	for (unsigned i = 0; i < o.qd; i++)
		n += slots[i].state == st;
	return n;
}

static int cmp_u32(const void *a, const void *b)
{
	uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;

	return x < y ? -1 : x > y;
}

/* complete: 0 when the run gave up or was interrupted; verify then prints no result line,
 * so that a script reading "lost 0" can trust it. */
static void report(uint64_t t_start, int complete)
{
	double el = (double)(now_ns() - t_start) / 1e9;
	uint64_t n = acked < MAX_SAMPLES ? acked : MAX_SAMPLES;

	if (o.mode == M_VERIFY) {
		if (complete)
			printf("lost %" PRIu64 " checked %" PRIu64 "\n", lost, checked);
		else
			fprintf(stderr, "mirror_seqio: verify incomplete: lost %" PRIu64
				" in the %" PRIu64 " blocks read\n", lost, checked);
		return;
	}
	if (o.mode == M_HOLD) {
		printf("held reconnects %u\n", cn.lost);
		return;
	}
	if (o.mode == M_DIGEST) {
		uint64_t h = 0xcbf29ce484222325ull;

		if (!complete) {
			fprintf(stderr, "mirror_seqio: digest incomplete\n");
			return;
		}
		for (uint64_t b = 0; b < o.blocks; b++)
			h = fnv1a(h, (const unsigned char *)&blockhash[b], sizeof(blockhash[b]));
		printf("digest %016" PRIx64 " blocks %" PRIu64 "\n", h, checked);
		return;
	}
	qsort(lat_us, n, sizeof(*lat_us), cmp_u32);
	printf("acked %" PRIu64 " reissued %" PRIu64 " reconnects %u logins %u errors %" PRIu64
	       " lun_changed %" PRIu64 " stall_ms %.1f iops %.0f lat_avg_us %" PRIu64
	       " p50_us %u p99_us %u\n", acked, reissued, cn.lost, cn.logins,
	       errors, lun_changed, (double)max_gap / 1e6, el > 0 ? (double)acked / el : 0,
	       acked ? lat_sum / acked : 0, n ? lat_us[n / 2] : 0, n ? lat_us[n * 99 / 100] : 0);
}

/* The event loop: connect, keep the queue full, drop and reconnect on any trouble. */
static int run(void)
{
	uint64_t t_start = now_ns(), now, stop_at;
	unsigned inflight;
	int stopping = 0, rc = 0;

	stop_at = o.seconds_ms ? t_start + o.seconds_ms * 1000000ull : 0;
	cn.down_since = t_start;
	for (;;) {
		struct pollfd pfd;
		int timeout;

		now = now_ns();
		if (stop_requested || (stop_at && now >= stop_at))
			stopping = 1;
		if (cn.failed)
			drop(cn.why);
		if (cn.state == L_CONNECTING || cn.state == L_PROBING) {
			if (now - cn.since > o.connect_ms * 1000000ull)
				drop("no session within --connect-timeout-ms");
		}
		inflight = count_state(S_INFLIGHT);
		if (cn.state == L_UP && inflight &&
		    now - cn.last_progress > o.io_timeout_ms * 1000000ull)
			drop("no answer within --io-timeout-ms");
		inflight = count_state(S_INFLIGHT);
		now = now_ns();	/* drop() stamps down_since: keep now after it */
		if (cn.state == L_DOWN) {
			if (stopping && (o.mode == M_WRITE || o.mode == M_HOLD))
				break;	/* what was not acknowledged is simply not in the log */
			if (now - cn.down_since > o.replacement_ms * 1000000ull) {
				fprintf(stderr, "mirror_seqio: no session for %" PRIu64 " ms: giving "
					"up (last: %s)\n", o.replacement_ms, cn.why);
				rc = 1;
				break;
			}
			if (now >= cn.retry_at && start_connect() < 0) {
				rc = 1;
				break;
			}
		}
		if (stopping && o.mode != M_WRITE && o.mode != M_HOLD) {
			fprintf(stderr, "mirror_seqio: interrupted\n");
			rc = 1;
			break;
		}
		if (cn.state == L_UP)
			pump(stopping, &inflight);
		/* Write ends when told to stop, fill and verify when their work is done. */
		if (!inflight && !count_state(S_QUEUED) &&
		    (o.mode == M_WRITE || o.mode == M_HOLD ? stopping : exhausted))
			break;
		if (!cn.ctx) {
			poll(NULL, 0, 5);
			continue;
		}
		pfd.fd = iscsi_get_fd(cn.ctx);
		pfd.events = (short)iscsi_which_events(cn.ctx);
		pfd.revents = 0;
		timeout = 20;
		if (poll(&pfd, 1, timeout) < 0 && errno != EINTR) {
			perror("poll");
			return 1;
		}
		if (pfd.revents && iscsi_service(cn.ctx, pfd.revents) < 0 && !cn.failed) {
			snprintf(cn.why, sizeof(cn.why), "%s", iscsi_get_error(cn.ctx));
			cn.failed = 1;
		}
	}
	/* Stopped while the session was away: that gap counts too, or a run stopped too
	 * early would hide its stall. */
	now = now_ns();
	if (cn.state != L_UP && last_ack && now - last_ack > max_gap)
		max_gap = now - last_ack;
	report(t_start, rc == 0);
	/* Now: a sanitizer's report at exit ends the process without flushing stdio. */
	fflush(stdout);
	/* No logout: a server that died at the very end would leave it waiting forever. */
	o.quiet = 1;
	drop("done");
	if (o.mode == M_VERIFY && lost)
		rc = 1;
	return rc;
}

/* ---- command line ---- */

static int usage(void)
{
	fprintf(stderr,
		"usage: mirror_seqio write|fill|verify|digest|hold [options] PORTAL TARGET INITIATOR LOG\n"
		"  --blocks N            write: random blocks below N; digest: blocks 0..N-1\n"
		"                        (default 4096 = 16 MiB)\n"
		"  --first N --count N --stride N   fill: these blocks, once each\n"
		"  --qd N                commands in flight (default 16, at most %u)\n"
		"  --seconds S           write: stop after S seconds (default: at SIGINT/SIGTERM)\n"
		"  --replacement-ms N    give up after N ms without a session (default 15000)\n"
		"  --connect-timeout-ms N  a login attempt that takes longer is retried (250)\n"
		"  --io-timeout-ms N     no completion for N ms drops the session (default 400)\n"
		"  --lun N               LUN (default 0)\n"
		"  --seed N              random block sequence (default: time and pid)\n"
		"  --fua                 write and fill: every write is FUA (durable at GOOD)\n"
		"  --quiet               do not log dropped sessions\n", MAX_QD);
	return 2;
}

/* Parses a whole decimal number within [min, max]; -1 after naming the bad option. */
static int parse_num(const char *name, const char *arg, uint64_t min, uint64_t max,
		     uint64_t *out)
{
	char *end;
	unsigned long long v;

	errno = 0;
	v = strtoull(arg, &end, 10);
	if (!*arg || *arg == '-' || *end || errno || v < min || v > max) {
		fprintf(stderr, "mirror_seqio: --%s: '%s' is not a number in %" PRIu64 "..%" PRIu64
			"\n", name, arg, min, max);
		return -1;
	}
	*out = v;
	return 0;
}

/* Seconds as a decimal with at most three fraction digits, into milliseconds. */
static int parse_seconds(const char *arg, uint64_t *ms)
{
	char whole[16], frac[4] = "000";
	const char *dot = strchr(arg, '.');
	size_t wl = dot ? (size_t)(dot - arg) : strlen(arg), fl = dot ? strlen(dot + 1) : 0;
	uint64_t w, f;

	if (!wl || wl >= sizeof(whole) || fl > 3 || (dot && !fl)) {
		fprintf(stderr, "mirror_seqio: --seconds: '%s' is not a duration like 5 or 0.5\n",
			arg);
		return -1;
	}
	memcpy(whole, arg, wl);
	whole[wl] = 0;
	memcpy(frac, dot ? dot + 1 : "", fl);
	if (parse_num("seconds", whole, 0, 86400, &w) || parse_num("seconds", frac, 0, 999, &f))
		return -1;
	*ms = w * 1000 + f;
	return 0;
}

static int parse_args(int argc, char **argv)
{
	static const struct option lo[] = {
		{ "blocks", required_argument, NULL, 'b' }, { "first", required_argument, NULL, 'f' },
		{ "count", required_argument, NULL, 'c' }, { "stride", required_argument, NULL, 's' },
		{ "qd", required_argument, NULL, 'q' }, { "seconds", required_argument, NULL, 'S' },
		{ "replacement-ms", required_argument, NULL, 'r' },
		{ "connect-timeout-ms", required_argument, NULL, 'C' },
		{ "io-timeout-ms", required_argument, NULL, 'i' },
		{ "lun", required_argument, NULL, 'l' }, { "seed", required_argument, NULL, 'e' },
		{ "quiet", no_argument, NULL, 'Q' }, { "fua", no_argument, NULL, 'F' },
		{ NULL, 0, NULL, 0 },
	};
	uint64_t v;
	int c;

	if (argc < 2)
		return usage();
	if (!strcmp(argv[1], "write"))
		o.mode = M_WRITE;
	else if (!strcmp(argv[1], "fill"))
		o.mode = M_FILL;
	else if (!strcmp(argv[1], "verify"))
		o.mode = M_VERIFY;
	else if (!strcmp(argv[1], "digest"))
		o.mode = M_DIGEST;
	else if (!strcmp(argv[1], "hold"))
		o.mode = M_HOLD;
	else
		return usage();
	optind = 2;
	while ((c = getopt_long(argc, argv, "", lo, NULL)) != -1) {
		switch (c) {
		case 'b': if (parse_num("blocks", optarg, 1, MAX_BLOCKS, &o.blocks)) return 2; break;
		case 'f': if (parse_num("first", optarg, 0, MAX_BLOCKS - 1, &o.first)) return 2; break;
		case 'c': if (parse_num("count", optarg, 1, MAX_BLOCKS, &o.count)) return 2; break;
		case 's': if (parse_num("stride", optarg, 1, MAX_BLOCKS, &o.stride)) return 2; break;
		case 'q':
			if (parse_num("qd", optarg, 1, MAX_QD, &v))
				return 2;
			o.qd = (unsigned)v;
			break;
		case 'S': if (parse_seconds(optarg, &o.seconds_ms)) return 2; break;
		case 'r':
			if (parse_num("replacement-ms", optarg, 1, 3600000, &o.replacement_ms))
				return 2;
			break;
		case 'C':
			if (parse_num("connect-timeout-ms", optarg, 10, 60000, &o.connect_ms))
				return 2;
			break;
		case 'i':
			if (parse_num("io-timeout-ms", optarg, 10, 600000, &o.io_timeout_ms))
				return 2;
			break;
		case 'l':
			if (parse_num("lun", optarg, 0, 255, &v))
				return 2;
			o.lun = (unsigned)v;
			break;
		case 'e': if (parse_num("seed", optarg, 0, UINT64_MAX, &o.seed)) return 2; break;
		case 'Q': o.quiet = 1; break;
		case 'F': o.fua = 1; break;
		default: return usage();
		}
	}
	if (argc - optind != 4)
		return usage();
	o.portal = argv[optind];
	o.target = argv[optind + 1];
	o.initiator = argv[optind + 2];
	o.log = argv[optind + 3];
	if (strnlen(o.target, MAX_NAME + 1) > MAX_NAME ||
	    strnlen(o.initiator, MAX_NAME + 1) > MAX_NAME || strnlen(o.portal, 256) > 255) {
		fprintf(stderr, "mirror_seqio: PORTAL, TARGET or INITIATOR too long\n");
		return 2;
	}
	/* The last block a fill writes must be a block number we can represent. */
	if (o.mode == M_FILL && (o.count - 1) > (MAX_BLOCKS - 1 - o.first) / o.stride) {
		fprintf(stderr, "mirror_seqio: --first + (--count - 1) * --stride is too large\n");
		return 2;
	}
	return 0;
}

int main(int argc, char **argv)
{
	struct sigaction sa = { .sa_handler = on_signal };
	int rc = parse_args(argc, argv);

	if (rc)
		return rc;
	/* No SA_RESTART: poll() returns at once and the loop sees the request. */
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);
	rng = o.seed ? o.seed : mix(now_ns() ^ (uint64_t)getpid() << 32);
	isid_rnd = mix(now_ns() ^ (uint64_t)getpid());
	if ((o.mode == M_WRITE || o.mode == M_FILL || o.mode == M_VERIFY) && log_load(o.mode == M_VERIFY) < 0)
		return 1;
	if (o.mode == M_DIGEST) {
		blockhash = calloc(o.blocks, sizeof(*blockhash));
		if (!blockhash) {
			fprintf(stderr, "mirror_seqio: no memory for %" PRIu64 " blocks\n", o.blocks);
			return 1;
		}
	} else if (o.mode == M_WRITE || o.mode == M_FILL) {
		log_fd = open(o.log, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0644);
		lat_us = malloc(MAX_SAMPLES * sizeof(*lat_us));
		if (log_fd < 0 || !lat_us) {
			perror(o.log);
			return 1;
		}
	}
	rc = run();
	if (log_fd >= 0)
		close(log_fd);
	free(lat_us);
	free(maxseq);
	free(blockhash);
	return rc;
}
