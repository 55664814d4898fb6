#include "standby/shipapply.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "db/ship.h"

int ship_apply_init(struct ship_apply *a)
{
	memset(a, 0, sizeof(*a));
	if (pipe2(a->pipe, O_NONBLOCK | O_CLOEXEC) < 0) {
		a->pipe[0] = a->pipe[1] = -1;
		return -errno;
	}
	return 0;
}

static void *worker(void *arg)
{
	struct ship_apply *a = arg;
	struct timespec t0, t1;
	const char *why = NULL;
	struct db *db;
	char one = 1;

	clock_gettime(CLOCK_MONOTONIC, &t0);
	a->seq = -1;
	a->rc = db_open(a->path, 0, &db, &why);
	if (a->rc) {
		snprintf(a->err, sizeof(a->err), "%s", why ? why : strerror(-a->rc));
	} else {
		a->rc = db_ship_apply(db, a->snap, a->len, &a->seq);
		if (a->rc)
			snprintf(a->err, sizeof(a->err), "%s", db_errmsg(db));
		db_close(db);
	}
	clock_gettime(CLOCK_MONOTONIC, &t1);
	a->ms = (unsigned)((t1.tv_sec - t0.tv_sec) * 1000 + (t1.tv_nsec - t0.tv_nsec) / 1000000);
	free(a->snap);
	a->snap = NULL;
	/* The pipe holds far more than one byte per transfer: this write cannot fail for room. */
	if (write(a->pipe[1], &one, 1) != 1)
		abort();
	return NULL;
}

int ship_apply_start(struct ship_apply *a, const char *path, unsigned char *snap, size_t len)
{
	int rc;

	if (a->running) {
		free(snap);
		return -EBUSY;
	}
	snprintf(a->path, sizeof(a->path), "%s", path);
	a->snap = snap;
	a->len = len;
	a->err[0] = '\0';
	rc = pthread_create(&a->th, NULL, worker, a);
	if (rc) {
		free(snap);
		a->snap = NULL;
		return -rc;
	}
	a->running = 1;
	return 0;
}

void ship_apply_finish(struct ship_apply *a)
{
	char buf[16];

	if (!a->running)
		return;
	pthread_join(a->th, NULL);
	a->running = 0;
	while (read(a->pipe[0], buf, sizeof(buf)) > 0)
		;
}

void ship_apply_close(struct ship_apply *a)
{
	ship_apply_finish(a);
	if (a->pipe[0] >= 0) {
		close(a->pipe[0]);
		close(a->pipe[1]);
	}
	a->pipe[0] = a->pipe[1] = -1;
}
