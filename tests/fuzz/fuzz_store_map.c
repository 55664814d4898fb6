/* Fuzz the overlay map loader: the input is written as OVERLAY.map over a fixed 64 KiB base
 * and opened. A map that opens must then answer GET LBA STATUS over the whole image with
 * runs that tile it exactly, and read every byte through the store. Maps are our own files,
 * but a damaged disk or a bad copy must give a clean refusal, never a crash or an overrun. */
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/evloop.h"
#include "common/log.h"
#include "vdisk-server/store/store.h"
#include "vdisk-server/store/store_overlay.h"

#define BASE_SIZE 65536u

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static struct evloop *loop;
static struct store_pool *pool;
static char base_path[64], ov_path[64], map_path[80], data_path[80];
static char dir[] = "/tmp/fuzz_store_map.XXXXXX";
static unsigned char buf[BASE_SIZE];

static void cleanup(void)
{
	unlink(map_path);
	unlink(data_path);
	unlink(base_path);
	rmdir(dir);
}

static void setup(void)
{
	int fd;

	log_set_level(LOG_CRIT);
	if (!mkdtemp(dir))
		abort();
	atexit(cleanup);
	snprintf(base_path, sizeof(base_path), "%s/base", dir);
	snprintf(ov_path, sizeof(ov_path), "%s/ov", dir);
	snprintf(map_path, sizeof(map_path), "%s.map", ov_path);
	snprintf(data_path, sizeof(data_path), "%s.data", ov_path);
	fd = open(base_path, O_RDWR | O_CREAT | O_TRUNC, 0600);
	if (fd < 0 || ftruncate(fd, BASE_SIZE) < 0)
		abort();
	close(fd);
	loop = evloop_new();
	if (!loop || store_pool_new(loop, 2, &pool))
		abort();
}

static void read_done(struct store_req *req)
{
	(void)req;
	ev_stop(loop);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct iovec iov = { buf, BASE_SIZE };
	struct store_req req = { .op = STORE_OP_READ, .offset = 0, .length = BASE_SIZE,
				 .iov = &iov, .iovcnt = 1, .done = read_done };
	struct store *st;
	uint64_t off, run;
	int fd, mapped;

	if (!loop)
		setup();
	fd = open(map_path, O_RDWR | O_CREAT | O_TRUNC, 0600);
	if (fd < 0 || (size && write(fd, data, size) != (ssize_t)size))
		abort();
	close(fd);
	fd = open(data_path, O_RDWR | O_CREAT | O_TRUNC, 0600);
	if (fd < 0 || ftruncate(fd, BASE_SIZE) < 0)
		abort();
	close(fd);
	if (store_overlay_open_chunk(pool, base_path, ov_path, 4096, &st))
		return 0;
	for (off = 0; off < st->size; off += run)
		if (st->ops->lba_status(st, off, &mapped, &run) || !run || run > st->size - off)
			abort();
	if (store_submit(st, &req) == 0)
		evloop_run(loop);
	if (req.result)
		abort();
	store_close(st);
	return 0;
}
