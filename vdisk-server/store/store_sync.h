/* Private to the store: group commit. Each caller registers after its writes and waits until
 * an fdatasync that started after its registration has finished; one caller runs it for all
 * who wait, so N workers needing durability at once cost one fdatasync, not N. A failed
 * fdatasync is sticky: the kernel may have dropped the dirty pages, so nothing written since
 * can be called durable again until the file is reopened. */
#ifndef VDISK_STORE_SYNC_H
#define VDISK_STORE_SYNC_H

#include <pthread.h>
#include <stdint.h>

struct syncer {
	pthread_mutex_t lock;
	pthread_cond_t cond;
	uint64_t seq;		/* registrations so far */
	uint64_t synced;	/* every registration up to this one is durable */
	int running;
	int err;		/* the sticky error, read without the lock by syncer_failed */
};

void syncer_init(struct syncer *s);
void syncer_destroy(struct syncer *s);
/* After the caller's writes: returns the registration to wait for. */
uint64_t syncer_register(struct syncer *s);
/* The latest registration, to wait for everything registered so far. */
uint64_t syncer_current(struct syncer *s);
/* Worker thread: returns once registration upto is durable on fd: 0, or the sticky error. */
int syncer_wait(struct syncer *s, int fd, uint64_t upto);
/* Nonzero once an fdatasync failed. */
int syncer_failed(struct syncer *s);

#endif
