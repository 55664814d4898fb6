/* Crash test helper for the overlay store.
 *
 *   store_crash load BASE OVERLAY LOG ROUND   random writes at queue depth 16 until killed
 *   store_crash verify BASE OVERLAY LOG       reopen and check every acknowledged write
 *
 * store_crashlog.h says what the log holds and what verify checks. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/evloop.h"
#include "common/log.h"
#include "tests/helpers/store_crashlog.h"
#include "vdisk-server/store/store.h"

#define QD 16

struct slot {
	struct store_req req;
	struct iovec iov;
	uint64_t seq;
	unsigned char buf[CL_MAX_SECTS * CL_SECT];
};

static struct evloop *loop;
static struct store *st;
static struct slot slots[QD];
static uint64_t next_seq, nsectors;

static void write_done(struct store_req *req);

static void submit_one(struct slot *s)
{
	uint64_t start[QD], len[QD], sector, n, i;
	int k;

	s->seq = 0;
	for (k = 0; k < QD; k++) {
		start[k] = slots[k].req.offset / CL_SECT;
		len[k] = slots[k].seq ? slots[k].req.length / CL_SECT : 0;
	}
	cl_pick(nsectors, start, len, QD, &sector, &n);
	s->seq = ++next_seq;
	for (i = 0; i < n; i++)
		cl_fill_sector(s->buf + i * CL_SECT, s->seq, sector + i);
	s->iov = (struct iovec){ s->buf, n * CL_SECT };
	s->req = (struct store_req){ .op = STORE_OP_WRITE, .offset = sector * CL_SECT,
				     .length = n * CL_SECT, .iov = &s->iov, .iovcnt = 1,
				     .done = write_done, .priv = s,
				     .flags = rand() % 8 == 0 ? STORE_FUA : 0 };
	cl_log('S', s->seq, sector, (uint32_t)n);
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
	cl_log('A', s->seq, req->offset / CL_SECT, (uint32_t)(req->length / CL_SECT));
	submit_one(s);
}

static void read_done(struct store_req *req)
{
	(void)req;
	ev_stop(loop);
}

static int read_store(void *arg, uint64_t off, uint64_t len, void *buf)
{
	struct iovec iov = { buf, len };
	struct store_req req = { .op = STORE_OP_READ, .offset = off, .length = len,
				 .iov = &iov, .iovcnt = 1, .done = read_done };

	(void)arg;
	if (store_submit(st, &req))
		return -1;
	evloop_run(loop);
	return req.result ? -1 : 0;
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
	int rc, is_load, i;

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
	nsectors = st->size / CL_SECT;
	if (!is_load)
		return cl_verify(argv[4], argv[2], nsectors, read_store, NULL);
	if (cl_open(argv[4])) {
		perror(argv[4]);
		return 1;
	}
	/* Sequence numbers stay unique across rounds of the same log. */
	next_seq = (uint64_t)atoi(argv[5]) << 40;
	srand((unsigned)atoi(argv[5]) * 7919 + (unsigned)getpid());
	for (i = 0; i < QD; i++)
		submit_one(&slots[i]);
	printf("loading\n");
	fflush(stdout);
	evloop_run(loop);
	return 1;
}
