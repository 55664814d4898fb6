/* Group commit for the overlay's files (see store_sync.h). */
#include "vdisk-server/store/store_sync.h"

#include "vdisk-server/store/store_io.h"

void syncer_init(struct syncer *s)
{
	pthread_mutex_init(&s->lock, NULL);
	pthread_cond_init(&s->cond, NULL);
	s->seq = s->synced = 0;
	s->running = s->err = 0;
}

void syncer_destroy(struct syncer *s)
{
	pthread_cond_destroy(&s->cond);
	pthread_mutex_destroy(&s->lock);
}

uint64_t syncer_register(struct syncer *s)
{
	uint64_t v;

	pthread_mutex_lock(&s->lock);
	v = ++s->seq;
	pthread_mutex_unlock(&s->lock);
	return v;
}

uint64_t syncer_current(struct syncer *s)
{
	uint64_t v;

	pthread_mutex_lock(&s->lock);
	v = s->seq;
	pthread_mutex_unlock(&s->lock);
	return v;
}

/* The first waiter with nobody syncing runs the fdatasync; the others sleep until it ends. */
int syncer_wait(struct syncer *s, int fd, uint64_t upto)
{
	uint64_t target;
	int rc;

	pthread_mutex_lock(&s->lock);
	while (s->synced < upto && !s->err) {
		if (s->running) {
			pthread_cond_wait(&s->cond, &s->lock);
			continue;
		}
		s->running = 1;
		target = s->seq;
		pthread_mutex_unlock(&s->lock);
		rc = sio_fdatasync(fd);
		pthread_mutex_lock(&s->lock);
		s->running = 0;
		if (rc)
			__atomic_store_n(&s->err, rc, __ATOMIC_RELAXED);
		else
			s->synced = target;
		pthread_cond_broadcast(&s->cond);
	}
	rc = s->synced >= upto ? 0 : s->err;
	pthread_mutex_unlock(&s->lock);
	return rc;
}

int syncer_failed(struct syncer *s)
{
	return __atomic_load_n(&s->err, __ATOMIC_RELAXED);
}
