/* Overlay store: unwritten chunks read the base; partial writes copy the rest of the chunk up;
 * everything persists across reopen; UNMAP of whole chunks returns the base, partial chunks
 * keep their data; reset; racing writes to one unallocated chunk all land; injected I/O errors
 * and a full disk fail the write and leave the chunk reading the base; bad maps are refused. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "common/evloop.h"
#include "common/log.h"
#include "tests/lib/tap.h"
#include "vdisk-server/store/store.h"
#include "vdisk-server/store/store_io.h"
#include "vdisk-server/store/store_overlay.h"

#define CHUNK 65536u
/* Not a multiple of the chunk size: the last chunk is partial. */
#define IMG_SIZE (1024u * 1024 + 8192)

static struct evloop *loop;
static struct store_pool *pool;
static int outstanding;
static char dir[] = "/tmp/test_store_overlay.XXXXXX";
static char base_path[PATH_MAX], ov_path[PATH_MAX];
static unsigned char *base_img, *model, *got;

static void req_done(struct store_req *req)
{
	(void)req;
	if (--outstanding == 0)
		ev_stop(loop);
}

static void submit(struct store *st, struct store_req *req)
{
	req->done = req_done;
	if (store_submit(st, req) == 0)
		outstanding++;
	else
		req->result = -ENOMEM;
}

static void drain(void)
{
	if (outstanding)
		evloop_run(loop);
}

static int one(struct store *st, enum store_op op, unsigned flags, uint64_t off, uint64_t len,
	       void *buf)
{
	struct iovec iov = { buf, len };
	struct store_req req = { .op = op, .flags = flags, .offset = off, .length = len,
				 .iov = &iov, .iovcnt = buf ? 1 : 0 };

	submit(st, &req);
	drain();
	return req.result;
}

static unsigned char base_byte(uint64_t off)
{
	return (unsigned char)((off >> 9) * 31 + (off & 511) + 1);
}

/* Reads the whole image and compares it with the model; returns the first bad offset or -1. */
static long long check_image(struct store *st)
{
	uint64_t i;

	if (one(st, STORE_OP_READ, 0, 0, IMG_SIZE, got))
		return -2;
	for (i = 0; i < IMG_SIZE; i++)
		if (got[i] != model[i])
			return (long long)i;
	return -1;
}

static int do_write(struct store *st, uint64_t off, uint64_t len, unsigned char fill,
		    unsigned flags)
{
	unsigned char *buf = malloc(len);
	int rc;

	memset(buf, fill, len);
	rc = one(st, STORE_OP_WRITE, flags, off, len, buf);
	if (!rc)
		memset(model + off, fill, len);
	free(buf);
	return rc;
}

static int open_ov(struct store **st)
{
	return store_overlay_open_chunk(pool, base_path, ov_path, CHUNK, st);
}

static const struct {
	const char *name;
	uint64_t off, len;
	unsigned flags;
} writes[] = {
	{ "one block inside an unwritten chunk", 4096, 512, 0 },
	{ "again in the same chunk (plain write)", 8192, 4096, 0 },
	{ "across a chunk boundary, both partial", 3 * CHUNK - 1024, 4096, 0 },
	{ "one whole chunk", 5 * CHUNK, CHUNK, 0 },
	{ "partial + whole + partial", 7 * CHUNK + 512, 2 * CHUNK, STORE_FUA },
	{ "the partial last chunk", IMG_SIZE - 4096, 4096, 0 },
	{ "FUA into a written chunk", 4096, 1024, STORE_FUA },
	{ "the very first block", 0, 512, 0 },
};

static void test_writes(struct store *st)
{
	uint64_t run;
	int mapped;
	unsigned i;

	is_int(check_image(st), -1, "a fresh overlay reads the base");
	is_int(st->ops->lba_status(st, 0, &mapped, &run), 0, "lba_status on a fresh overlay");
	ok(!mapped && run == IMG_SIZE, "a fresh overlay is one unmapped run");
	for (i = 0; i < sizeof(writes) / sizeof(writes[0]); i++) {
		is_int(do_write(st, writes[i].off, writes[i].len, (unsigned char)(0xa0 + i),
				writes[i].flags), 0, "write: %s", writes[i].name);
		is_int(check_image(st), -1, "image right after: %s", writes[i].name);
	}
	is_int(st->ops->lba_status(st, 5 * CHUNK, &mapped, &run), 0, "lba_status");
	ok(mapped && run == CHUNK, "the whole chunk written alone is one mapped run");
	is_int(st->ops->lba_status(st, 6 * CHUNK + 512, &mapped, &run), 0, "lba_status mid-chunk");
	ok(!mapped && run == CHUNK - 512, "an unwritten chunk is unmapped up to the next one");
	is_int(st->ops->lba_status(st, 7 * CHUNK, &mapped, &run), 0, "lba_status");
	ok(mapped && run == 3 * CHUNK, "three chunks touched by one write are mapped");
	is_int(st->ops->lba_status(st, IMG_SIZE - 512, &mapped, &run), 0, "lba_status, last block");
	ok(mapped && run == 512, "the last block is mapped, run ends at the size");
	is_int(st->ops->lba_status(st, IMG_SIZE, &mapped, &run), -EINVAL,
	       "lba_status past the end refused");
}

static void test_unmap(struct store *st)
{
	uint64_t run;
	int mapped;

	is_int(one(st, STORE_OP_UNMAP, 0, 5 * CHUNK, CHUNK, NULL), 0, "unmap a whole chunk");
	memcpy(model + 5 * CHUNK, base_img + 5 * CHUNK, CHUNK);
	is_int(check_image(st), -1, "an unmapped chunk reads the base again");
	is_int(st->ops->lba_status(st, 5 * CHUNK, &mapped, &run), 0, "lba_status");
	ok(!mapped, "and is reported unmapped");
	is_int(one(st, STORE_OP_UNMAP, 0, 7 * CHUNK + 512, CHUNK, NULL), 0,
	       "unmap covering no whole chunk");
	is_int(check_image(st), -1, "partly unmapped chunks keep their data");
	is_int(one(st, STORE_OP_UNMAP, 0, IMG_SIZE - 8192, 8192, NULL), 0,
	       "unmap the partial last chunk to the end");
	memcpy(model + IMG_SIZE - 8192, base_img + IMG_SIZE - 8192, 8192);
	is_int(check_image(st), -1, "the last chunk reads the base again");
	is_int(do_write(st, 5 * CHUNK + 1024, 512, 0x55, 0), 0, "write into the unmapped chunk");
	is_int(check_image(st), -1, "it was copied up from the base again");
}

/* 32 writes of distinct blocks of one unallocated chunk, all in flight at once: each copy-up
 * must see the others' data, none may put base data over another's block. */
static void test_race(struct store *st)
{
	static unsigned char bufs[32][512];
	struct store_req req[32];
	struct iovec iov[32];
	int i, c, bad = 0;

	for (c = 10; c < 13; c++) {
		for (i = 0; i < 32; i++) {
			uint64_t off = (uint64_t)c * CHUNK + (uint64_t)i * 2048;
			memset(bufs[i], 0x10 + i + c, 512);
			iov[i] = (struct iovec){ bufs[i], 512 };
			req[i] = (struct store_req){ .op = STORE_OP_WRITE, .offset = off,
						     .length = 512, .iov = &iov[i], .iovcnt = 1 };
			submit(st, &req[i]);
			memset(model + off, 0x10 + i + c, 512);
		}
		drain();
		for (i = 0; i < 32; i++)
			bad += req[i].result != 0;
	}
	is_int(bad, 0, "96 racing writes to three unallocated chunks succeed");
	is_int(check_image(st), -1, "every racing write landed, the rest is the base");
}

static int fault_kind = -1, fault_nth, fault_rc, fault_calls;

static int fault(void *arg, enum store_io_kind kind, int fd, uint64_t off, uint64_t len)
{
	(void)arg; (void)fd; (void)off; (void)len;
	if ((int)kind != fault_kind)
		return 0;
	return __atomic_add_fetch(&fault_calls, 1, __ATOMIC_RELAXED) == fault_nth ? fault_rc : 0;
}

/* Each partial write into an unwritten chunk makes these calls in order: READ base head,
 * READ base tail, WRITE chunk, WRITE map sector, and with FUA: SYNC data, SYNC map. */
static const struct {
	const char *name;
	enum store_io_kind kind;
	int nth, rc, want;
	unsigned flags;
	int sticky;	/* a failed fdatasync fails every later write until reopened */
	int may_apply;	/* the map sector was written: after reopen the write may be there */
} faults[] = {
	{ "base read fails", STORE_IO_READ, 1, -EIO, -EIO, 0, 0, 0 },
	{ "base tail read fails", STORE_IO_READ, 2, -EIO, -EIO, 0, 0, 0 },
	{ "data file full", STORE_IO_WRITE, 1, -ENOSPC, -ENOSPC, 0, 0, 0 },
	{ "data write I/O error", STORE_IO_WRITE, 1, -EIO, -EIO, 0, 0, 0 },
	{ "map file full", STORE_IO_WRITE, 2, -ENOSPC, -ENOSPC, 0, 0, 0 },
	{ "map write I/O error", STORE_IO_WRITE, 2, -EIO, -EIO, STORE_FUA, 0, 0 },
	{ "FUA: data fdatasync fails", STORE_IO_SYNC, 1, -EIO, -EIO, STORE_FUA, 1, 1 },
	{ "FUA: map fdatasync fails", STORE_IO_SYNC, 2, -EIO, -EIO, STORE_FUA, 1, 1 },
};

static void test_faults(struct store **stp)
{
	uint64_t off = 15 * CHUNK + 4096, run;
	unsigned i;
	int mapped;

	for (i = 0; i < sizeof(faults) / sizeof(faults[0]); i++) {
		/* Start each row from an unwritten chunk (a failed write may have mapped it). */
		is_int(one(*stp, STORE_OP_UNMAP, 0, 15 * CHUNK, CHUNK, NULL), 0, "%s: unmap first",
		       faults[i].name);
		memcpy(model + 15 * CHUNK, base_img + 15 * CHUNK, CHUNK);
		fault_kind = (int)faults[i].kind;
		fault_nth = faults[i].nth;
		fault_rc = faults[i].rc;
		fault_calls = 0;
		store_io_set_fault(fault, NULL);
		is_int(do_write(*stp, off, 4096, 0x77, faults[i].flags), faults[i].want,
		       "%s: write fails", faults[i].name);
		store_io_set_fault(NULL, NULL);
		if (faults[i].sticky) {
			is_int(do_write(*stp, 0, 512, 0x78, 0), -EIO,
			       "%s: later writes fail too until reopened", faults[i].name);
			store_close(*stp);
			is_int(open_ov(stp), 0, "%s: reopen", faults[i].name);
		}
		is_int((*stp)->ops->lba_status(*stp, off, &mapped, &run), 0, "lba_status");
		if (faults[i].may_apply && mapped)
			memset(model + off, 0x77, 4096);	/* a failed write may land whole */
		else
			ok(!mapped, "%s: the chunk stays unmapped", faults[i].name);
		is_int(check_image(*stp), -1, "%s: image unchanged", faults[i].name);
	}
	is_int(do_write(*stp, off, 4096, 0x79, 0), 0, "without faults the same write works");
	is_int(check_image(*stp), -1, "and reads back");
}

/* A real full filesystem: a 1 MiB tmpfs in a private mount namespace, a 4 MiB base. */
static void test_enospc(void)
{
	char tdir[PATH_MAX / 2], tov[PATH_MAX];
	unsigned char *buf = malloc(CHUNK), *rd = malloc(CHUNK);
	struct store *st;
	int i, rc = 0, acked = 0, bad = 0;

	if (geteuid() != 0 || unshare(CLONE_NEWNS) < 0 ||
	    mount("none", "/", NULL, MS_REC | MS_PRIVATE, NULL) < 0) {
		printf("ok %d # SKIP full-disk test needs root (private tmpfs mount)\n",
		       ++tap_count);
		free(buf);
		free(rd);
		return;
	}
	snprintf(tdir, sizeof(tdir), "%s/tiny", dir);
	mkdir(tdir, 0700);
	ok(mount("tmpfs", tdir, "tmpfs", 0, "size=1m") == 0, "1 MiB tmpfs mounted");
	snprintf(tov, sizeof(tov), "%s/ov", tdir);
	is_int(store_overlay_open_chunk(pool, base_path, tov, CHUNK, &st), 0,
	       "overlay on the tiny filesystem");
	for (i = 0; i < (int)(IMG_SIZE / CHUNK) && !rc; i++) {
		memset(buf, 0x30 + i, CHUNK);
		rc = one(st, STORE_OP_WRITE, 0, (uint64_t)i * CHUNK, CHUNK, buf);
		acked += !rc;
	}
	ok(rc == 0 || rc == -ENOSPC, "writes succeed or fail with -ENOSPC");
	printf("# %d whole-chunk writes acknowledged before the filesystem filled\n", acked);
	for (i = 0; i < acked; i++) {
		one(st, STORE_OP_READ, 0, (uint64_t)i * CHUNK, CHUNK, rd);
		bad += rd[0] != 0x30 + i || rd[CHUNK - 1] != 0x30 + i;
	}
	is_int(bad, 0, "every acknowledged write reads back");
	store_close(st);
	umount(tdir);
	free(buf);
	free(rd);
}

static void test_open_errors(void)
{
	char p[PATH_MAX];
	struct store *st, *st2;
	FILE *f;
	int fd;

	snprintf(p, sizeof(p), "%s/none", dir);
	is_int(store_overlay_open_chunk(pool, p, ov_path, CHUNK, &st), -ENOENT, "missing base");
	is_int(store_overlay_open_chunk(pool, base_path, ov_path, 3000, &st), -EINVAL,
	       "chunk size not a power of two");
	is_int(store_overlay_open_chunk(pool, base_path, ov_path, 1024, &st), -EINVAL,
	       "chunk size too small");
	is_int(open_ov(&st), 0, "open");
	is_int(open_ov(&st2), -EBUSY, "a second open of the same overlay is refused");
	store_close(st);

	snprintf(p, sizeof(p), "%s/bad.map", dir);
	f = fopen(p, "w");
	fputs("garbage, not a map", f);
	fclose(f);
	snprintf(p, sizeof(p), "%s/bad", dir);
	is_int(store_overlay_open_chunk(pool, base_path, p, CHUNK, &st), -EINVAL,
	       "a map with a bad magic is refused");

	/* An overlay made for another base size. */
	snprintf(p, sizeof(p), "%s/small", dir);
	fd = open(p, O_RDWR | O_CREAT, 0600);
	ok(fd >= 0 && ftruncate(fd, 65536) == 0, "a smaller base");
	close(fd);
	snprintf(p, sizeof(p), "%s/small", dir);
	is_int(store_overlay_open_chunk(pool, p, ov_path, CHUNK, &st), -EINVAL,
	       "an overlay of another base size is refused");

	snprintf(p, sizeof(p), "%s/ov.map", dir);
	fd = open(p, O_RDWR);
	ok(fd >= 0 && ftruncate(fd, 4096 + 16) == 0, "truncate the map");
	close(fd);
	is_int(open_ov(&st), -EINVAL, "a truncated map is refused");
}

/* A power loss after the map sector of a chunk reached the disk but not its data: the child
 * writes two chunks and exits without closing (as after kill -9), then a hole is punched
 * where one chunk's data was. The next open must drop that chunk (it reads the base) and
 * keep the other. Runs before any thread exists, so fork is safe. */
static void test_recovery(void)
{
	char rov[PATH_MAX], rdata[PATH_MAX + 8];
	struct store *st;
	uint64_t run;
	int mapped, status, fd;
	pid_t pid;

	snprintf(rov, sizeof(rov), "%s/rec", dir);
	snprintf(rdata, sizeof(rdata), "%s.data", rov);
	pid = fork();
	if (pid == 0) {
		loop = evloop_new();
		if (store_pool_new(loop, 2, &pool) ||
		    store_overlay_open_chunk(pool, base_path, rov, CHUNK, &st))
			_exit(1);
		_exit(do_write(st, 2 * CHUNK + 512, 1024, 0x41, 0) ||
		      do_write(st, 4 * CHUNK + 512, 1024, 0x42, 0) ? 1 : 0);
	}
	ok(pid > 0 && waitpid(pid, &status, 0) == pid && WIFEXITED(status) &&
	   WEXITSTATUS(status) == 0, "a child wrote two chunks and died without closing");
	fd = open(rdata, O_RDWR);
	ok(fd >= 0 && fallocate(fd, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE,
				(off_t)(4 * CHUNK + 4096), 4096) == 0,
	   "the data of one chunk 'did not reach the disk'");
	close(fd);
	loop = evloop_new();
	is_int(store_pool_new(loop, 2, &pool), 0, "pool");
	is_int(store_overlay_open_chunk(pool, base_path, rov, CHUNK, &st), 0,
	       "reopen the uncleanly closed overlay");
	is_int(st->ops->lba_status(st, 4 * CHUNK, &mapped, &run), 0, "lba_status");
	ok(!mapped, "the chunk with a hole was dropped");
	is_int(st->ops->lba_status(st, 2 * CHUNK, &mapped, &run), 0, "lba_status");
	ok(mapped && run == CHUNK, "the intact chunk is kept");
	memset(model + 2 * CHUNK + 512, 0x41, 1024);
	is_int(check_image(st), -1, "intact chunk has its write, the dropped one reads the base");
	store_close(st);
	memcpy(model, base_img, IMG_SIZE);
	store_pool_free(pool);
	evloop_free(loop);
}

/* GET LBA STATUS with 4 KiB chunks (258 of them): runs that cross 64-chunk map words, whole
 * words skipped at once, a run that ends at the partial last chunk. */
static void test_lba_runs(void)
{
	static const struct {
		uint64_t off;
		int mapped;
		uint64_t run;
	} want[] = {
		{ 0, 0, 10 * 4096 },
		{ 10 * 4096, 1, 130 * 4096 },
		{ 10 * 4096 + 512, 1, 130 * 4096 - 512 },
		{ 139 * 4096, 1, 4096 },
		{ 140 * 4096, 0, 60 * 4096 },
		{ 200 * 4096, 1, IMG_SIZE - 200 * 4096 },
		{ 256 * 4096 + 1024, 1, IMG_SIZE - 256 * 4096 - 1024 },
	};
	char p[PATH_MAX];
	unsigned char *buf = calloc(1, 130 * 4096);
	struct store *st;
	uint64_t run;
	unsigned i;
	int mapped;

	snprintf(p, sizeof(p), "%s/small-chunks", dir);
	is_int(store_overlay_open_chunk(pool, base_path, p, 4096, &st), 0, "4 KiB-chunk overlay");
	is_int(one(st, STORE_OP_WRITE, 0, 10 * 4096, 130 * 4096, buf), 0, "write chunks 10-139");
	is_int(one(st, STORE_OP_WRITE, 0, 200 * 4096, IMG_SIZE - 200 * 4096, buf), 0,
	       "write chunks 200 to the end");
	for (i = 0; i < sizeof(want) / sizeof(want[0]); i++) {
		is_int(st->ops->lba_status(st, want[i].off, &mapped, &run), 0, "lba_status at %llu",
		       (unsigned long long)want[i].off);
		ok(mapped == want[i].mapped && run == want[i].run,
		   "at %llu: %s for %llu bytes (got %d, %llu)", (unsigned long long)want[i].off,
		   want[i].mapped ? "mapped" : "unmapped", (unsigned long long)want[i].run,
		   mapped, (unsigned long long)run);
	}
	{
		/* The extents tile the range, alternate between data file and base like the
		 * map, and their bytes are what a READ returns. */
		struct store_extent ext[8];
		unsigned char *viaread = malloc(300 * 4096), *viaext = malloc(300 * 4096);
		uint64_t at = 0;
		int n, k, good = 1;

		n = st->ops->read_extents(st, 4096, 240 * 4096, ext, 8);
		is_int(n, 4, "read_extents: base, overlay, base, overlay");
		for (k = 0; k < n; k++) {
			good &= ext[k].offset == 4096 + at;
			good &= pread(ext[k].fd, viaext + at, ext[k].length,
				      (off_t)ext[k].offset) == (ssize_t)ext[k].length;
			at += ext[k].length;
		}
		ok(good && at == 240 * 4096, "extents tile the range and read back");
		is_int(one(st, STORE_OP_READ, 0, 4096, 240 * 4096, viaread), 0, "READ the range");
		ok(memcmp(viaread, viaext, 240 * 4096) == 0, "same bytes as READ");
		is_int(st->ops->read_extents(st, 4096, 240 * 4096, ext, 3), -E2BIG,
		       "too few slots: -E2BIG");
		is_int(st->ops->read_extents(st, 100, 512, ext, 8), -EINVAL, "unaligned: -EINVAL");
		free(viaread);
		free(viaext);
	}
	is_int(one(st, STORE_OP_UNMAP, 0, 0, IMG_SIZE, NULL), 0, "unmap everything");
	is_int(st->ops->lba_status(st, 0, &mapped, &run), 0, "lba_status");
	ok(!mapped && run == IMG_SIZE, "one unmapped run again");
	store_close(st);
	free(buf);
}

/* How many of this process's descriptors point at path. */
static int fds_on(const char *path)
{
	char link[PATH_MAX], target[PATH_MAX];
	struct dirent *de;
	DIR *d = opendir("/proc/self/fd");
	int n = 0;
	ssize_t len;

	while ((de = readdir(d))) {
		snprintf(link, sizeof(link), "/proc/self/fd/%s", de->d_name);
		len = readlink(link, target, sizeof(target) - 1);
		if (len < 0)
			continue;
		target[len] = 0;
		n += strcmp(target, path) == 0;
	}
	closedir(d);
	return n;
}

static void test_shared_base(void)
{
	char p1[PATH_MAX], p2[PATH_MAX], real[PATH_MAX];
	struct store *a, *b;

	snprintf(p1, sizeof(p1), "%s/client1", dir);
	snprintf(p2, sizeof(p2), "%s/client2", dir);
	is_int(store_overlay_open_chunk(pool, base_path, p1, CHUNK, &a), 0, "client 1 overlay");
	is_int(store_overlay_open_chunk(pool, base_path, p2, CHUNK, &b), 0, "client 2 overlay");
	ok(realpath(base_path, real) != NULL, "realpath");
	is_int(fds_on(real), 1, "both overlays share one descriptor of the base");
	store_close(a);
	is_int(fds_on(real), 1, "still open for the other client");
	store_close(b);
	is_int(fds_on(real), 0, "closed with the last client");
}

/* The fault sweep, SQLite's way: one workload run again and again on a new overlay, the Nth
 * disk call of run N failing with -EIO, until a run meets no fault. After each run the
 * overlay is closed and opened again without faults: it must open; an acknowledged write
 * reads back; a failed one leaves each 4 KiB block as it was or as it would have been. */
#define SW_BLK 4096u
#define SW_BLOCKS (IMG_SIZE / SW_BLK)

static int sweep_n, sweep_calls;
static unsigned char *sw_model, *sw_alt, sw_unsure[SW_BLOCKS];	/* 0 sure, 1 model or alt, 2 any */

static int sweep_fault(void *arg, enum store_io_kind kind, int fd, uint64_t off, uint64_t len)
{
	(void)arg; (void)kind; (void)fd; (void)off; (void)len;
	return __atomic_add_fetch(&sweep_calls, 1, __ATOMIC_RELAXED) == sweep_n ? -EIO : 0;
}

/* What an operation on blocks [b, b + n) leaves: content (NULL: the base's) if it succeeded;
 * if it failed, either that or what was there. */
static void sweep_note(int rc, unsigned b, unsigned n, const unsigned char *content)
{
	for (unsigned i = b; i < b + n; i++) {
		const unsigned char *now = content ? content : base_img + (uint64_t)i * SW_BLK;
		unsigned char *m = sw_model + (uint64_t)i * SW_BLK, *a = sw_alt + (uint64_t)i * SW_BLK;

		if (rc == 0) {
			memcpy(m, now, SW_BLK);
			sw_unsure[i] = 0;
		} else if (sw_unsure[i] == 0) {
			memcpy(a, now, SW_BLK);
			sw_unsure[i] = 1;
		} else {
			sw_unsure[i] = 2;
		}
	}
}

static int sweep_write(struct store *st, unsigned b, unsigned n, unsigned char fill,
		       unsigned flags)
{
	unsigned char *buf = malloc((size_t)n * SW_BLK);
	int rc;

	memset(buf, fill, (size_t)n * SW_BLK);
	rc = one(st, STORE_OP_WRITE, flags, (uint64_t)b * SW_BLK, (uint64_t)n * SW_BLK, buf);
	for (unsigned i = 0; i < n; i++)
		sweep_note(rc, b + i, 1, buf);
	free(buf);
	return rc;
}

/* Partial and whole chunks, a chunk boundary crossed, the image's short last chunk, FUA,
 * FLUSH, a whole-chunk UNMAP, a rewrite of a mapped chunk. Returns the writes acknowledged. */
static int sweep_workload(struct store *st)
{
	unsigned per_chunk = CHUNK / SW_BLK;
	int acked = 0, rc;

	acked += !sweep_write(st, 3, 1, 0x11, 0);
	acked += !sweep_write(st, per_chunk, 2 * per_chunk, 0x12, 0);
	acked += !sweep_write(st, per_chunk + 4, 2, 0x13, STORE_FUA);
	one(st, STORE_OP_FLUSH, 0, 0, 0, NULL);
	rc = one(st, STORE_OP_UNMAP, 0, 2ull * CHUNK, CHUNK, NULL);
	sweep_note(rc, 2 * per_chunk, per_chunk, NULL);
	acked += !sweep_write(st, 4 * per_chunk - 2, 5, 0x14, 0);
	acked += !sweep_write(st, SW_BLOCKS - 2, 2, 0x15, 0);
	acked += !sweep_write(st, 3, 1, 0x16, STORE_FUA);
	one(st, STORE_OP_FLUSH, 0, 0, 0, NULL);
	return acked;
}

static void test_fault_sweep(void)
{
	char path[PATH_MAX], file[PATH_MAX + 8];
	unsigned bad_opens = 0, bad_reads = 0, runs = 0, acked = 0;
	struct store *st;

	sw_model = malloc(IMG_SIZE);
	sw_alt = malloc(IMG_SIZE);
	snprintf(path, sizeof(path), "%s/sweep", dir);
	for (sweep_n = 1;; sweep_n++) {
		snprintf(file, sizeof(file), "%s.map", path);
		unlink(file);
		snprintf(file, sizeof(file), "%s.data", path);
		unlink(file);
		if (store_overlay_open_chunk(pool, base_path, path, CHUNK, &st)) {
			bad_opens++;
			break;
		}
		memcpy(sw_model, base_img, IMG_SIZE);
		memset(sw_unsure, 0, sizeof(sw_unsure));
		sweep_calls = 0;
		store_io_set_fault(sweep_fault, NULL);
		acked += (unsigned)sweep_workload(st);
		store_close(st);
		store_io_set_fault(NULL, NULL);
		runs++;
		if (store_overlay_open_chunk(pool, base_path, path, CHUNK, &st)) {
			bad_opens++;
			diag("run %d: the overlay does not open again", sweep_n);
			continue;
		}
		if (one(st, STORE_OP_READ, 0, 0, IMG_SIZE, got))
			bad_reads++;
		for (unsigned i = 0; i < SW_BLOCKS; i++) {
			uint64_t o = (uint64_t)i * SW_BLK;
			int is_model = memcmp(got + o, sw_model + o, SW_BLK) == 0;
			int is_alt = sw_unsure[i] == 1 && memcmp(got + o, sw_alt + o, SW_BLK) == 0;

			if (sw_unsure[i] != 2 && !is_model && !is_alt) {
				bad_reads++;
				diag("run %d: block %u holds neither what was acknowledged nor what "
				     "a failed write would have left", sweep_n, i);
				break;
			}
		}
		store_close(st);
		if (sweep_calls < sweep_n)
			break;		/* no fault met: every call of the workload was swept */
	}
	ok(runs > 20, "the sweep ran %u times (a fault in each but the last)", runs);
	is_int(bad_opens, 0, "the overlay opened again after every run");
	is_int(bad_reads, 0, "every block read back as acknowledged, or as a failed write may leave it");
	diag("fault sweep: %u runs, %u writes acknowledged in all", runs, acked);
	free(sw_model);
	free(sw_alt);
}

/* The name of what an overlay was made over: recorded once, compared after, kept across a
 * reopen; another name changes nothing unless replaced. */
static void test_base_name(void)
{
	char path[PATH_MAX], was[64], lng[80];
	struct store *st, *raw;

	snprintf(path, sizeof(path), "%s/named", dir);
	is_int(store_overlay_open_chunk(pool, base_path, path, CHUNK, &st), 0, "an overlay");
	is_int(store_overlay_base(st, "win10", 0, was, sizeof(was)), 0, "a new map takes a name");
	is_str(was, "", "recording nothing before");
	is_int(store_overlay_base(st, "win10", 0, was, sizeof(was)), 0, "the same name: 0");
	store_close(st);
	is_int(store_overlay_open_chunk(pool, base_path, path, CHUNK, &st), 0, "reopened");
	is_int(store_overlay_base(st, "win11", 0, was, sizeof(was)), -ESTALE,
	       "another name: -ESTALE");
	is_str(was, "win10", "naming the recorded one");
	is_int(store_overlay_base(st, "win10", 0, NULL, 0), 0, "unchanged by the refusal");
	is_int(store_overlay_base(st, "win11", 1, NULL, 0), 0, "replaced");
	store_close(st);
	is_int(store_overlay_open_chunk(pool, base_path, path, CHUNK, &st), 0, "reopened");
	is_int(store_overlay_base(st, "win11", 0, NULL, 0), 0, "the new name survives a reopen");
	memset(lng, 'x', sizeof(lng) - 1);
	lng[sizeof(lng) - 1] = '\0';
	is_int(store_overlay_base(st, lng, 1, NULL, 0), -ENAMETOOLONG, "a name too long");
	store_close(st);
	is_int(store_raw_open(pool, base_path, 1, &raw), 0, "a raw store");
	is_int(store_overlay_base(raw, "win10", 0, NULL, 0), -EINVAL, "is not an overlay: -EINVAL");
	store_close(raw);
}

/* A process that exits with requests in flight (vdiskd at SIGTERM): the pool stopped first,
 * every queued job has run before the store is freed (under ASan, a worker touching the
 * freed overlay is a report); the close, with completions never delivered, is not clean. */
static void test_stop_then_close(void)
{
	static char b[64][4096];
	static struct iovec iov[64];
	static struct store_req req[64];
	char path[PATH_MAX + 8];
	struct store *st;
	unsigned i;
	int rc;

	snprintf(path, sizeof(path), "%s.stop", ov_path);
	rc = store_overlay_open_chunk(pool, base_path, path, CHUNK, &st);
	if (!ok(rc == 0, "an overlay for the stop (%d)", rc))
		return;
	for (i = 0; i < 64; i++) {
		iov[i] = (struct iovec){ b[i], sizeof(b[i]) };
		req[i] = (struct store_req){ .op = i % 2 ? STORE_OP_FLUSH : STORE_OP_WRITE,
					     .offset = (uint64_t)i * 4096,
					     .length = i % 2 ? 0 : 4096, .iov = &iov[i],
					     .iovcnt = i % 2 ? 0 : 1 };
		submit(st, &req[i]);
	}
	store_pool_stop(pool);
	store_close(st);	/* logs the requests in flight */
	ok(1, "64 writes and flushes in flight: the pool stopped, then the store closed");
	outstanding = 0;	/* their completions are never delivered */
	unlink(path);
}

int main(void)
{
	struct store *st;
	uint64_t i;
	int fd;

	log_set_level(LOG_CRIT);
	ok(mkdtemp(dir) != NULL, "temp dir");
	snprintf(base_path, sizeof(base_path), "%s/base.img", dir);
	snprintf(ov_path, sizeof(ov_path), "%s/ov", dir);
	base_img = malloc(IMG_SIZE);
	model = malloc(IMG_SIZE);
	got = malloc(IMG_SIZE);
	for (i = 0; i < IMG_SIZE; i++)
		base_img[i] = base_byte(i);
	memcpy(model, base_img, IMG_SIZE);
	fd = open(base_path, O_RDWR | O_CREAT, 0600);
	ok(fd >= 0 && write(fd, base_img, IMG_SIZE) == IMG_SIZE, "base image");
	close(fd);
	test_recovery();
	loop = evloop_new();
	is_int(store_pool_new(loop, 4, &pool), 0, "pool");

	is_int(open_ov(&st), 0, "create overlay");
	ok(st->thin && !st->read_only && st->size == IMG_SIZE, "thin, writable, base's size");
	test_writes(st);
	store_close(st);
	is_int(open_ov(&st), 0, "reopen");
	is_int(check_image(st), -1, "every write survives close and reopen");
	test_unmap(st);
	test_race(st);
	test_faults(&st);
	store_close(st);
	is_int(open_ov(&st), 0, "reopen");
	is_int(check_image(st), -1, "unmaps and racing writes survive reopen");

	{
		static char b[512];
		struct iovec iov = { b, 512 };
		struct store_req req = { .op = STORE_OP_READ, .offset = 0, .length = 512,
					 .iov = &iov, .iovcnt = 1 };
		submit(st, &req);
		is_int(st->ops->reset(st), -EBUSY, "reset refused while a request is in flight");
		drain();
	}
	is_int(st->ops->reset(st), 0, "reset");
	memcpy(model, base_img, IMG_SIZE);
	is_int(check_image(st), -1, "after reset the image is the base");
	store_close(st);
	is_int(open_ov(&st), 0, "reopen");
	is_int(check_image(st), -1, "the reset survives reopen");
	store_close(st);

	test_lba_runs();
	test_shared_base();
	test_base_name();
	test_fault_sweep();
	test_open_errors();
	test_enospc();
	test_stop_then_close();

	store_pool_free(pool);
	evloop_free(loop);
	free(base_img);
	free(model);
	free(got);
	{
		char cmd[PATH_MAX + 16];
		snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
		if (system(cmd) != 0)
			printf("# could not remove %s\n", dir);
	}
	return done_testing();
}
