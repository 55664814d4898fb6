/* Crash test helper for the overlay store.
 *
 *   store_crash load BASE OVERLAY LOG ROUND   random writes at queue depth 16 until killed
 *   store_crash verify BASE OVERLAY LOG       reopen and check every acknowledged write
 *
 * load appends a record to LOG before it submits a write ('S') and after the write completes
 * with success ('A'); write(2) puts them in the page cache, which a kill -9 does not lose.
 * Writes in flight never overlap, so each sector's history in the log is sequential. verify
 * then requires, for every sector of the image: the data of the last acknowledged write to
 * it, or (only if a later write to it was still in flight) that later write's data; a sector
 * never written must hold the base. Every sector written carries its write's sequence number
 * and its own index, so a sector from the wrong write or the wrong place is caught. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/evloop.h"
#include "common/log.h"
#include "vdisk-server/store.h"

#define QD 16
#define SECT 512u
#define MAX_SECTS 64u

struct rec {
	uint32_t type;		/* 'S' or 'A' */
	uint32_t nsect;
	uint64_t seq;
	uint64_t sector;
};

struct slot {
	struct store_req req;
	struct iovec iov;
	uint64_t seq;
	unsigned char buf[MAX_SECTS * SECT];
};

static struct store *st;
static struct slot slots[QD];
static int log_fd;
static uint64_t next_seq, nsectors;

static void fill_sector(unsigned char *p, uint64_t seq, uint64_t sector)
{
	unsigned i;

	memcpy(p, &seq, 8);
	memcpy(p + 8, &sector, 8);
	for (i = 16; i < SECT; i++)
		p[i] = (unsigned char)(seq * 7 + i);
}

static int sector_seq(const unsigned char *p, uint64_t sector, uint64_t *seq)
{
	uint64_t s;
	unsigned i;

	memcpy(seq, p, 8);
	memcpy(&s, p + 8, 8);
	if (s != sector)
		return -1;
	for (i = 16; i < SECT; i++)
		if (p[i] != (unsigned char)(*seq * 7 + i))
			return -1;
	return 0;
}

static void log_rec(uint32_t type, uint64_t seq, uint64_t sector, uint32_t nsect)
{
	struct rec r = { type, nsect, seq, sector };

	if (write(log_fd, &r, sizeof(r)) != (ssize_t)sizeof(r)) {
		perror("store_crash: log");
		exit(1);
	}
}

static int overlaps(const struct slot *me, uint64_t sector, uint64_t n)
{
	int i;

	for (i = 0; i < QD; i++) {
		const struct slot *s = &slots[i];
		uint64_t a = s->req.offset / SECT, b = a + s->req.length / SECT;
		if (s != me && s->seq && sector < b && a < sector + n)
			return 1;
	}
	return 0;
}

static void write_done(struct store_req *req);

static void submit_one(struct slot *s)
{
	uint64_t sector, n, i;

	s->seq = 0;
	do {
		n = 1 + (uint64_t)rand() % MAX_SECTS;
		if (rand() % 4 == 0)
			n = 8;	/* some 4 KiB aligned ones, as initiators send */
		sector = (uint64_t)rand() % (nsectors - n);
		if (n == 8)
			sector &= ~7ull;
	} while (overlaps(s, sector, n));
	s->seq = ++next_seq;
	for (i = 0; i < n; i++)
		fill_sector(s->buf + i * SECT, s->seq, sector + i);
	s->iov = (struct iovec){ s->buf, n * SECT };
	s->req = (struct store_req){ .op = STORE_OP_WRITE, .offset = sector * SECT,
				     .length = n * SECT, .iov = &s->iov, .iovcnt = 1,
				     .done = write_done, .priv = s,
				     .flags = rand() % 8 == 0 ? STORE_FUA : 0 };
	log_rec('S', s->seq, sector, (uint32_t)n);
	if (store_submit(st, &s->req)) {
		fprintf(stderr, "store_crash: submit failed\n");
		exit(1);
	}
}

static void write_done(struct store_req *req)
{
	struct slot *s = req->priv;

	if (req->result) {
		fprintf(stderr, "store_crash: write failed: %s\n", strerror(-req->result));
		exit(1);
	}
	log_rec('A', s->seq, req->offset / SECT, (uint32_t)(req->length / SECT));
	submit_one(s);
}

static int load(const char *log_path, unsigned round)
{
	int i;

	log_fd = open(log_path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
	if (log_fd < 0) {
		perror(log_path);
		return 1;
	}
	/* Sequence numbers stay unique across rounds of the same log. */
	next_seq = (uint64_t)round << 40;
	srand(round * 7919 + (unsigned)getpid());
	for (i = 0; i < QD; i++)
		submit_one(&slots[i]);
	printf("loading\n");
	fflush(stdout);
	return 0;
}

struct sector_state {
	uint64_t acked;		/* 0: never acknowledged, the base */
	uint64_t pending;	/* a write submitted after it, never acknowledged */
};

static struct evloop *loop;

static void read_done(struct store_req *req)
{
	(void)req;
	ev_stop(loop);
}

static int read_sync(uint64_t offset, uint64_t len, void *buf)
{
	struct iovec iov = { buf, len };
	struct store_req req = { .op = STORE_OP_READ, .offset = offset, .length = len,
				 .iov = &iov, .iovcnt = 1, .done = read_done };

	if (store_submit(st, &req))
		return -ENOMEM;
	evloop_run(loop);
	return req.result;
}

#define VBUF (1u << 20)

static int verify(const char *base_path, const char *log_path)
{
	struct sector_state *ss = calloc(nsectors, sizeof(*ss));
	unsigned char *buf = malloc(VBUF), *base = malloc(VBUF);
	uint64_t nacked = 0, npending = 0, landed = 0, bad = 0, i, j, n, seq;
	struct rec r;
	int fd, bfd;

	fd = open(log_path, O_RDONLY);
	bfd = open(base_path, O_RDONLY);
	if (fd < 0 || bfd < 0 || !ss || !buf || !base) {
		perror("store_crash: verify");
		return 1;
	}
	/* A torn last record (killed mid-write) is ignored. */
	while (read(fd, &r, sizeof(r)) == (ssize_t)sizeof(r)) {
		if (r.nsect > MAX_SECTS || r.sector > nsectors - r.nsect) {
			fprintf(stderr, "store_crash: bad log record\n");
			return 1;
		}
		for (i = r.sector; i < r.sector + r.nsect; i++) {
			if (r.type == 'S') {
				ss[i].pending = r.seq;
			} else if (ss[i].pending == r.seq) {
				ss[i].acked = r.seq;
				ss[i].pending = 0;
			}
		}
		nacked += r.type == 'A';
	}
	close(fd);
	for (i = 0; i < nsectors; i += n) {
		n = nsectors - i < VBUF / SECT ? nsectors - i : VBUF / SECT;
		if (read_sync(i * SECT, n * SECT, buf) ||
		    pread(bfd, base, n * SECT, (off_t)(i * SECT)) != (ssize_t)(n * SECT)) {
			fprintf(stderr, "store_crash: read failed at sector %llu\n",
				(unsigned long long)i);
			return 1;
		}
		for (j = 0; j < n; j++) {
			const unsigned char *p = buf + j * SECT;
			struct sector_state *s = &ss[i + j];
			int is_base = memcmp(p, base + j * SECT, SECT) == 0;
			int is_write = !sector_seq(p, i + j, &seq);

			if (s->pending) {
				npending++;
				if (is_write && seq == s->pending) {
					landed++;
					continue;
				}
			}
			if (s->acked ? !(is_write && seq == s->acked) : !is_base) {
				if (bad++ < 5)
					fprintf(stderr, "store_crash: sector %llu: want %s %llu\n",
						(unsigned long long)(i + j),
						s->acked ? "write" : "base",
						(unsigned long long)s->acked);
			}
		}
	}
	close(bfd);
	printf("acknowledged writes %llu, sectors %llu, sectors in flight at the kill %llu "
	       "(landed %llu), bad sectors %llu\n", (unsigned long long)nacked,
	       (unsigned long long)nsectors, (unsigned long long)npending,
	       (unsigned long long)landed, (unsigned long long)bad);
	free(ss);
	free(buf);
	free(base);
	return bad ? 1 : 0;
}

static int usage(void)
{
	fprintf(stderr, "usage: store_crash load BASE OVERLAY LOG ROUND\n"
			"       store_crash verify BASE OVERLAY LOG\n");
	return 2;
}

int main(int argc, char **argv)
{
	struct store_pool *pool;
	int rc, is_load;

	if (argc < 5)
		return usage();
	is_load = strcmp(argv[1], "load") == 0;
	if ((is_load && argc != 6) || (!is_load && (strcmp(argv[1], "verify") || argc != 5)))
		return usage();
	log_init("store_crash", 0, LOG_WARNING);
	loop = evloop_new();
	if (!loop || store_pool_new(loop, 8, &pool)) {
		fprintf(stderr, "store_crash: no loop or pool\n");
		return 1;
	}
	rc = store_overlay_open(pool, argv[2], argv[3], &st);
	if (rc) {
		fprintf(stderr, "store_crash: open: %s\n", strerror(-rc));
		return 1;
	}
	nsectors = st->size / SECT;
	if (!is_load)
		return verify(argv[2], argv[4]);
	if (load(argv[4], (unsigned)atoi(argv[5])))
		return 1;
	evloop_run(loop);
	return 1;
}
