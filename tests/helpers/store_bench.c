/* Measures the store alone, without iSCSI: a fixed queue depth of one kind of request
 * through store_submit() on the event loop, as vdiskd drives it.
 *
 *   store_bench [options] BASE [OVERLAY]   (no OVERLAY: the raw store over BASE)
 *     --op randread|randwrite|seqread|alloc   alloc: every write lands in a chunk not yet
 *                                             in the overlay (the copy-up cost)
 *     --bs BYTES (4096)  --qd N (32)  --threads N (8)  --seconds S (5)  --count N
 *     --chunk BYTES      overlay chunk size when the overlay is created
 *     --fua              writes carry FUA
 *
 * Prints one line: ops, IOPS, MB/s, p50 and p99 latency, and the overlay's allocated space. */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "common/evloop.h"
#include "common/log.h"
#include "vdisk-server/store/store.h"
#include "vdisk-server/store/store_overlay.h"

#define MAX_QD 256
#define MAX_SAMPLES (4u << 20)

enum bench_op { B_RANDREAD, B_RANDWRITE, B_SEQREAD, B_ALLOC };

struct slot {
	struct store_req req;
	struct iovec iov;
	uint64_t t0;
	void *buf;
};

static struct evloop *loop;
static struct store *st;
static struct slot slots[MAX_QD];
static enum bench_op op = B_RANDREAD;
static uint64_t bs = 4096, chunk = STORE_OVERLAY_CHUNK, seq_off, alloc_next, limit_ops;
static uint64_t issued, completed, failed, deadline_ns, *perm, nperm;
static uint32_t *lat_us;
static unsigned qd = 32, inflight, fua;
static uint64_t rng = 88172645463325252ull;

static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static uint64_t rnd(void)
{
	rng ^= rng << 13;
	rng ^= rng >> 7;
	rng ^= rng << 17;
	return rng;
}

static void done(struct store_req *req);

static int next_offset(uint64_t *off)
{
	switch (op) {
	case B_RANDREAD:
	case B_RANDWRITE:
		*off = rnd() % (st->size / bs) * bs;
		return 0;
	case B_SEQREAD:
		if (seq_off + bs > st->size)
			seq_off = 0;
		*off = seq_off;
		seq_off += bs;
		return 0;
	case B_ALLOC:
		/* A random place inside the next never-written chunk, in shuffled order. */
		if (alloc_next >= nperm)
			return -1;
		*off = perm[alloc_next++] * chunk + rnd() % (chunk / bs) * bs;
		return 0;
	}
	return -1;
}

static void issue(struct slot *s)
{
	uint64_t off;

	if ((limit_ops && issued >= limit_ops) || now_ns() >= deadline_ns || next_offset(&off)) {
		if (!inflight)
			ev_stop(loop);
		return;
	}
	s->iov = (struct iovec){ s->buf, bs };
	s->req = (struct store_req){ .op = op == B_RANDREAD || op == B_SEQREAD ? STORE_OP_READ :
				     STORE_OP_WRITE, .offset = off, .length = bs,
				     .iov = &s->iov, .iovcnt = 1, .done = done, .priv = s,
				     .flags = fua ? STORE_FUA : 0 };
	s->t0 = now_ns();
	if (store_submit(st, &s->req)) {
		fprintf(stderr, "store_bench: submit failed\n");
		exit(1);
	}
	issued++;
	inflight++;
}

static void done(struct store_req *req)
{
	struct slot *s = req->priv;
	uint64_t us = (now_ns() - s->t0) / 1000;

	inflight--;
	if (req->result)
		failed++;
	if (completed < MAX_SAMPLES)
		lat_us[completed] = us > UINT32_MAX ? UINT32_MAX : (uint32_t)us;
	completed++;
	issue(s);
}

static int cmp_u32(const void *a, const void *b)
{
	uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;

	return x < y ? -1 : x > y;
}

static int usage(void)
{
	fprintf(stderr, "usage: store_bench [--op randread|randwrite|seqread|alloc] [--bs B] "
			"[--qd N] [--threads N] [--seconds S] [--count N] [--chunk B] [--fua] BASE "
			"[OVERLAY]\n");
	return 2;
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "op", required_argument, NULL, 'o' }, { "bs", required_argument, NULL, 'b' },
		{ "qd", required_argument, NULL, 'q' }, { "threads", required_argument, NULL, 't' },
		{ "seconds", required_argument, NULL, 's' },
		{ "count", required_argument, NULL, 'n' },
		{ "chunk", required_argument, NULL, 'c' }, { "fua", no_argument, NULL, 'f' },
		{ NULL, 0, NULL, 0 },
	};
	unsigned threads = 8, i;
	double seconds = 5, el;
	struct store_pool *pool;
	uint64_t t0, n, j, space = 0;
	struct stat sb;
	char data_path[4200];
	int c, rc;

	while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		switch (c) {
		case 'o':
			if (!strcmp(optarg, "randread")) op = B_RANDREAD;
			else if (!strcmp(optarg, "randwrite")) op = B_RANDWRITE;
			else if (!strcmp(optarg, "seqread")) op = B_SEQREAD;
			else if (!strcmp(optarg, "alloc")) op = B_ALLOC;
			else return usage();
			break;
		case 'b': bs = strtoull(optarg, NULL, 0); break;
		case 'q': qd = (unsigned)atoi(optarg); break;
		case 't': threads = (unsigned)atoi(optarg); break;
		case 's': seconds = atof(optarg); break;
		case 'n': limit_ops = strtoull(optarg, NULL, 0); break;
		case 'c': chunk = strtoull(optarg, NULL, 0); break;
		case 'f': fua = 1; break;
		default: return usage();
		}
	}
	if (optind + 1 > argc || optind + 2 < argc || !qd || qd > MAX_QD || !bs ||
	    bs % STORE_BLOCK_SIZE || (op == B_ALLOC && (argc - optind != 2 || bs > chunk)))
		return usage();
	log_init("store_bench", 0, LOG_WARNING);
	loop = evloop_new();
	lat_us = malloc(MAX_SAMPLES * sizeof(*lat_us));
	if (!loop || !lat_us || store_pool_new(loop, threads, &pool)) {
		fprintf(stderr, "store_bench: setup failed\n");
		return 1;
	}
	if (argc - optind == 2)
		rc = store_overlay_open_chunk(pool, argv[optind], argv[optind + 1], (unsigned)chunk,
					      &st);
	else
		rc = store_raw_open(pool, argv[optind], 0, &st);
	if (rc) {
		fprintf(stderr, "store_bench: open: %s\n", strerror(-rc));
		return 1;
	}
	if (op == B_ALLOC) {
		nperm = st->size / chunk;
		perm = malloc(nperm * sizeof(*perm));
		for (j = 0; j < nperm; j++)
			perm[j] = j;
		for (j = nperm - 1; j > 0; j--) {
			uint64_t k = rnd() % (j + 1), t = perm[j];
			perm[j] = perm[k];
			perm[k] = t;
		}
	}
	for (i = 0; i < qd; i++)
		if (posix_memalign(&slots[i].buf, 4096, bs))
			return 1;
	t0 = now_ns();
	deadline_ns = t0 + (uint64_t)(seconds * 1e9);
	for (i = 0; i < qd; i++)
		issue(&slots[i]);
	if (inflight)
		evloop_run(loop);
	el = (double)(now_ns() - t0) / 1e9;
	n = completed < MAX_SAMPLES ? completed : MAX_SAMPLES;
	qsort(lat_us, n, sizeof(*lat_us), cmp_u32);
	if (argc - optind == 2) {
		snprintf(data_path, sizeof(data_path), "%s.data", argv[optind + 1]);
		if (stat(data_path, &sb) == 0)
			space = (uint64_t)sb.st_blocks * 512;
	}
	printf("ops %llu failed %llu iops %.0f MB/s %.1f p50_us %u p99_us %u overlay_MiB %.1f\n",
	       (unsigned long long)completed, (unsigned long long)failed, completed / el,
	       completed * (double)bs / el / 1e6, n ? lat_us[n / 2] : 0,
	       n ? lat_us[n * 99 / 100] : 0, space / 1048576.0);
	store_close(st);
	store_pool_free(pool);
	evloop_free(loop);
	return failed ? 1 : 0;
}
