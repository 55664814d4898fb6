/* The lab's guest workload: writes sequence-numbered 4 KiB blocks with O_DIRECT|O_SYNC to a
 * raw partition, reads each back, sweeps over older blocks to catch acknowledged writes that
 * were lost (a failover's failure mode), re-reads a checksummed file on the root, and reports
 * on stdout (the serial console) once a second and on every stall, error and mismatch.
 *
 *   workload [--seconds N] [--rate N] [--blocks N] [--check FILE] DEVICE
 *   workload --sum FILE        prints FILE's CRC-32 (how the image build makes FILE.crc)
 *
 * Built static: the guest root holds no C library for it. Two threads: one does the I/O,
 * the other reports once a second, so a stalled I/O does not silence the console. */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <linux/fs.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "block.h"
#include "report.h"

#define CHECK_EVERY_MS 3000
#define CHECK_CHUNK (64 * 1024)
#define UNKNOWN_SEQ UINT64_MAX	/* a write failed: the block may hold either version */

struct options {
	uint64_t seconds;	/* 0: until SIGTERM or SIGINT */
	uint64_t rate;		/* writes per second */
	uint64_t max_blocks;
	const char *check;
	const char *device;
};

struct workload {
	struct options opt;
	int fd;
	uint64_t nblocks;
	uint64_t run_id;
	uint64_t *last_seq;	/* per block: last acknowledged sequence, 0 = never written */
	uint64_t seq;
	uint8_t *buf;		/* one block, aligned for O_DIRECT */
	uint8_t *chunk;		/* for the checksummed file */
	uint32_t check_crc;
	uint64_t start_ms;
	/* The reporter thread prints a line every second even while an I/O hangs for seconds
	 * (a failover); lock guards st, the only state both threads touch. */
	pthread_mutex_t lock;
	int done;
	struct ql_stats st;
};

static volatile sig_atomic_t stopping;

static void on_signal(int sig)
{
	(void)sig;
	stopping = 1;
}

__attribute__((format(printf, 1, 2)))
static void say(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	putchar('\n');
}

static uint64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

static void sleep_ms(uint64_t ms)
{
	struct timespec ts = { .tv_sec = (time_t)(ms / 1000), .tv_nsec = (long)(ms % 1000) * 1000000 };

	nanosleep(&ts, NULL);	/* a signal cuts it short, which is what stopping wants */
}

/* Adds one to a counter of st. */
static void count(struct workload *w, uint64_t *counter)
{
	pthread_mutex_lock(&w->lock);
	(*counter)++;
	pthread_mutex_unlock(&w->lock);
}

static void note_latency(struct workload *w, const char *what, uint64_t lba, uint64_t ms)
{
	pthread_mutex_lock(&w->lock);
	int stalled = ql_stats_latency(&w->st, ms);
	pthread_mutex_unlock(&w->lock);
	if (stalled)
		say("ql-workload: stall %" PRIu64 " ms (%s lba %" PRIu64 ")", ms, what, lba);
}

/* Reads block lba back and judges it against want_seq. */
static void verify_block(struct workload *w, uint64_t lba, uint64_t want_seq, const char *what)
{
	uint64_t t0 = now_ms(), got;
	ssize_t n = pread(w->fd, w->buf, QL_BLOCK_SIZE, (off_t)(lba * QL_BLOCK_SIZE));

	note_latency(w, what, lba, now_ms() - t0);
	if (n != QL_BLOCK_SIZE) {
		count(w, &w->st.errors);
		say("ql-workload: error %s lba %" PRIu64 ": %s", what, lba,
		    n < 0 ? strerror(errno) : "short read");
		return;
	}
	enum ql_verdict v = ql_block_check(w->buf, w->run_id, lba, want_seq, &got);
	if (v == QL_OK) {
		count(w, &w->st.verified);
		return;
	}
	count(w, &w->st.mismatches);
	say("ql-workload: mismatch %s lba %" PRIu64 " want seq %" PRIu64 ": %s (got seq %" PRIu64
	    ")", what, lba, want_seq, ql_verdict_name(v), got);
}

static void write_next(struct workload *w)
{
	uint64_t seq = ++w->seq, lba = ql_write_lba(seq, w->nblocks);

	ql_block_fill(w->buf, w->run_id, lba, seq);
	uint64_t t0 = now_ms();
	ssize_t n = pwrite(w->fd, w->buf, QL_BLOCK_SIZE, (off_t)(lba * QL_BLOCK_SIZE));
	note_latency(w, "write", lba, now_ms() - t0);
	if (n != QL_BLOCK_SIZE) {
		count(w, &w->st.errors);
		w->last_seq[lba] = UNKNOWN_SEQ;
		say("ql-workload: error write lba %" PRIu64 " seq %" PRIu64 ": %s", lba, seq,
		    n < 0 ? strerror(errno) : "short write");
		return;
	}
	count(w, &w->st.writes);
	w->last_seq[lba] = seq;
	verify_block(w, lba, seq, "read-back");
}

/* See ql_sweep_lba. (A pointer of its own moving in step with the writes would re-read the
 * block just written and never see a lost one.) */
static void sweep_next(struct workload *w)
{
	uint64_t lba = ql_sweep_lba(w->seq, w->nblocks);

	if (w->last_seq[lba] != 0 && w->last_seq[lba] != UNKNOWN_SEQ)
		verify_block(w, lba, w->last_seq[lba], "sweep");
}

/* O_DIRECT so each check reads the disk, not the page cache. */
static void check_file(struct workload *w)
{
	uint32_t crc = 0;
	ssize_t n;
	uint64_t t0 = now_ms();
	int fd = open(w->opt.check, O_RDONLY | O_DIRECT);

	count(w, &w->st.checks);
	if (fd < 0) {
		count(w, &w->st.check_failures);
		say("ql-workload: error check %s: %s", w->opt.check, strerror(errno));
		return;
	}
	while ((n = read(fd, w->chunk, CHECK_CHUNK)) > 0)
		crc = ql_crc32(crc, w->chunk, (size_t)n);
	note_latency(w, "check", 0, now_ms() - t0);
	if (n < 0) {
		count(w, &w->st.check_failures);
		say("ql-workload: error check %s: %s", w->opt.check, strerror(errno));
	} else if (crc != w->check_crc) {
		count(w, &w->st.check_failures);
		say("ql-workload: mismatch check %s: crc %08x, want %08x", w->opt.check, crc,
		    w->check_crc);
	}
	close(fd);
}

static int load_check_crc(struct workload *w)
{
	char path[4096], text[16];
	int fd, rc = 0;
	ssize_t n;

	if ((size_t)snprintf(path, sizeof(path), "%s.crc", w->opt.check) >= sizeof(path))
		return -ENAMETOOLONG;
	fd = open(path, O_RDONLY);
	if (fd < 0) {
		rc = -errno;
		fprintf(stderr, "workload: %s: %s\n", path, strerror(errno));
		return rc;
	}
	n = read(fd, text, sizeof(text));
	if (n < 0 || ql_parse_crc(text, (size_t)n, &w->check_crc) < 0) {
		fprintf(stderr, "workload: %s: want 8 hex digits\n", path);
		rc = -EINVAL;
	}
	close(fd);
	return rc;
}

static uint64_t device_blocks(int fd)
{
	struct stat sb;
	uint64_t bytes = 0;

	if (fstat(fd, &sb) == 0 && S_ISREG(sb.st_mode))
		bytes = (uint64_t)sb.st_size;
	else if (ioctl(fd, BLKGETSIZE64, &bytes) < 0)
		bytes = 0;
	return bytes / QL_BLOCK_SIZE;
}

static double uptime(void)
{
	double up = -1;
	FILE *f = fopen("/proc/uptime", "r");

	if (f) {
		if (fscanf(f, "%lf", &up) != 1)
			up = -1;
		fclose(f);
	}
	return up;
}

static int sum_file(const char *path)
{
	static uint8_t chunk[CHECK_CHUNK];
	uint32_t crc = 0;
	ssize_t n;
	int fd = open(path, O_RDONLY);

	if (fd < 0) {
		fprintf(stderr, "workload: %s: %s\n", path, strerror(errno));
		return 1;
	}
	while ((n = read(fd, chunk, sizeof(chunk))) > 0)
		crc = ql_crc32(crc, chunk, (size_t)n);
	close(fd);
	if (n < 0) {
		fprintf(stderr, "workload: %s: %s\n", path, strerror(errno));
		return 1;
	}
	printf("%08x\n", crc);
	return 0;
}

static int parse_u64(const char *s, uint64_t *out)
{
	char *end;

	errno = 0;
	unsigned long long v = strtoull(s, &end, 10);
	if (errno || end == s || *end || *s == '-')
		return -EINVAL;
	*out = v;
	return 0;
}

static int usage(void)
{
	fprintf(stderr, "usage: workload [--seconds N] [--rate N] [--blocks N] [--check FILE] "
		"DEVICE\n       workload --sum FILE\n");
	return 2;
}

static int parse_options(int argc, char **argv, struct options *o)
{
	int i;

	for (i = 1; i < argc && argv[i][0] == '-'; i++) {
		const char *name = argv[i];
		if (i + 1 >= argc)
			return -EINVAL;
		const char *val = argv[++i];
		if (strcmp(name, "--seconds") == 0) {
			if (parse_u64(val, &o->seconds) < 0)
				return -EINVAL;
		} else if (strcmp(name, "--rate") == 0) {
			if (parse_u64(val, &o->rate) < 0 || o->rate == 0 || o->rate > 1000)
				return -EINVAL;
		} else if (strcmp(name, "--blocks") == 0) {
			if (parse_u64(val, &o->max_blocks) < 0 || o->max_blocks == 0)
				return -EINVAL;
		} else if (strcmp(name, "--check") == 0) {
			o->check = val;
		} else {
			return -EINVAL;
		}
	}
	if (i != argc - 1)
		return -EINVAL;
	o->device = argv[i];
	return 0;
}

/* Opens the device and allocates the buffers. On failure the caller exits at once, so what
 * was opened goes with the process rather than through unwinding here. */
static int setup(struct workload *w)
{
	struct timespec ts;

	if (w->opt.check && load_check_crc(w) < 0)
		return -EINVAL;
	w->fd = open(w->opt.device, O_RDWR | O_DIRECT | O_SYNC);
	if (w->fd < 0) {
		fprintf(stderr, "workload: %s: %s\n", w->opt.device, strerror(errno));
		return -errno;
	}
	w->nblocks = device_blocks(w->fd);
	if (w->nblocks > w->opt.max_blocks)
		w->nblocks = w->opt.max_blocks;
	if (w->nblocks == 0) {
		fprintf(stderr, "workload: %s: smaller than one block\n", w->opt.device);
		return -EINVAL;
	}
	w->last_seq = calloc(w->nblocks, sizeof(*w->last_seq));
	if (!w->last_seq || posix_memalign((void **)&w->buf, QL_BLOCK_SIZE, QL_BLOCK_SIZE) ||
	    posix_memalign((void **)&w->chunk, QL_BLOCK_SIZE, CHECK_CHUNK)) {
		fprintf(stderr, "workload: out of memory\n");
		return -ENOMEM;
	}
	clock_gettime(CLOCK_REALTIME, &ts);
	w->run_id = ((uint64_t)ts.tv_sec << 32) ^ (uint64_t)ts.tv_nsec ^ ((uint64_t)getpid() << 20);
	return 0;
}

static void *reporter(void *arg)
{
	struct workload *w = arg;
	uint64_t next = w->start_ms + 1000;
	char line[512];

	for (;;) {
		uint64_t t = now_ms();
		if (next > t)
			sleep_ms(next - t);
		pthread_mutex_lock(&w->lock);
		if (w->done) {
			pthread_mutex_unlock(&w->lock);
			return NULL;
		}
		ql_format_progress(line, sizeof(line), &w->st, (next - w->start_ms) / 1000);
		pthread_mutex_unlock(&w->lock);
		say("%s", line);
		next += 1000;
	}
}

static void run(struct workload *w)
{
	uint64_t start = now_ms(), period = 1000 / w->opt.rate;
	uint64_t next_check = start, next_io = start;
	uint64_t deadline = w->opt.seconds ? start + w->opt.seconds * 1000 : 0;
	char line[512];
	pthread_t thread;
	sigset_t mask, old;

	w->start_ms = start;
	/* Signals go to the I/O thread, whose sleep they cut short. */
	sigemptyset(&mask);
	sigaddset(&mask, SIGTERM);
	sigaddset(&mask, SIGINT);
	pthread_sigmask(SIG_BLOCK, &mask, &old);
	int have_reporter = pthread_create(&thread, NULL, reporter, w) == 0;
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	if (!have_reporter)
		say("ql-workload: no reporter thread: progress lines only between I/Os");
	say("ql-workload: start device=%s blocks=%" PRIu64 " rate=%" PRIu64 " run=%016" PRIx64
	    " uptime=%.2f", w->opt.device, w->nblocks, w->opt.rate, w->run_id, uptime());
	while (!stopping) {
		uint64_t t = now_ms();
		if (deadline && t >= deadline)
			break;
		if (w->opt.check && t >= next_check) {
			check_file(w);
			next_check = now_ms() + CHECK_EVERY_MS;
		}
		write_next(w);
		sweep_next(w);
		next_io += period;
		t = now_ms();
		if (next_io > t)
			sleep_ms(next_io - t);
		else
			next_io = t;	/* behind after a stall: no burst to catch up */
	}
	pthread_mutex_lock(&w->lock);
	w->done = 1;
	ql_format_summary(line, sizeof(line), &w->st, (now_ms() - start) / 1000);
	pthread_mutex_unlock(&w->lock);
	if (have_reporter)
		pthread_join(thread, NULL);
	say("%s", line);
}

int main(int argc, char **argv)
{
	struct workload w = { .opt = { .rate = 50, .max_blocks = 4096 }, .fd = -1,
			      .lock = PTHREAD_MUTEX_INITIALIZER };
	struct sigaction sa = { .sa_handler = on_signal };

	if (argc == 3 && strcmp(argv[1], "--sum") == 0)
		return sum_file(argv[2]);
	if (parse_options(argc, argv, &w.opt) < 0)
		return usage();
	setvbuf(stdout, NULL, _IOLBF, 0);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	if (setup(&w) < 0)
		return 1;
	run(&w);
	return ql_stats_passed(&w.st) ? 0 : 1;
}
