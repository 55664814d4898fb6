/* Applying a shipped DB off the event loop: db_ship_apply of a few MB takes hundreds of ms
 * (measured: 250-360 ms for 20000 clients, 1.8 MB, on a loaded 2-core machine), longer than
 * a heartbeat may wait. One worker thread at a time opens its own connection to the DB file,
 * applies the snapshot and says so through a pipe the loop watches. */
#ifndef STANDBY_SHIPAPPLY_H
#define STANDBY_SHIPAPPLY_H

#include <pthread.h>
#include <stddef.h>
#include <stdint.h>

#include "db/db.h"

struct ship_apply {
	pthread_t th;
	int running;
	int pipe[2];			/* worker -> loop: one byte when done */
	char path[DB_PATH_MAX];
	unsigned char *snap;
	size_t len;
	/* results, valid after ship_apply_finish */
	int rc;
	int64_t seq;
	unsigned ms;
	char err[200];
};

/* Creates the pipe; its read end (a->pipe[0]) is what the loop watches. 0 or -errno. */
int ship_apply_init(struct ship_apply *a);
/* Starts the worker on path; takes ownership of snap (malloc'd). 0, -EBUSY while one runs,
 * or another negative errno (then snap is freed). */
int ship_apply_start(struct ship_apply *a, const char *path, unsigned char *snap, size_t len);
/* Once pipe[0] is readable: joins the worker; rc, seq, ms, err hold its outcome. */
void ship_apply_finish(struct ship_apply *a);
/* Waits for a running worker, closes the pipe. */
void ship_apply_close(struct ship_apply *a);

#endif
