/* The single-threaded event loop every daemon runs: epoll for descriptors, a min-heap of
 * timers on CLOCK_MONOTONIC, signalfd for signals, and deferred calls run at the end of each
 * round, before the loop waits again. Callers own the ev_io, ev_timer and ev_defer
 * structures (embed them in the object they belong to); the loop never allocates per event.
 *
 * A round: wait for descriptors (not at all while a deferred call or a due timer waits),
 * their callbacks, the due timers (one armed by a timer callback runs in the next round, even
 * when due at once), then the deferred calls in the order they were queued (one queued by a
 * deferred call runs in the next round). */
#ifndef COMMON_EVLOOP_H
#define COMMON_EVLOOP_H

#include <stdint.h>
#include <sys/epoll.h>

struct evloop;
struct ev_io;
struct ev_timer;

typedef void (*ev_io_fn)(struct ev_io *io, uint32_t events);
typedef void (*ev_timer_fn)(struct ev_timer *t);
typedef void (*ev_signal_fn)(struct evloop *loop, int signo, void *arg);
struct ev_defer;
typedef void (*ev_defer_fn)(struct ev_defer *d);

struct ev_io {
	int fd;
	ev_io_fn fn;
	void *arg;
};

struct ev_timer {
	uint64_t due_ms;
	unsigned heap_idx;	/* 0 when not armed, else index + 1 */
	unsigned pass;		/* the timer pass it was armed in */
	ev_timer_fn fn;
	void *arg;
};

struct ev_defer {
	struct ev_defer *prev, *next;
	int queued;
	unsigned pass;		/* the deferred pass it was queued in */
	ev_defer_fn fn;
	void *arg;
};

uint64_t ev_now_ms(void);

/* Returns NULL with errno set on failure. */
struct evloop *evloop_new(void);
void evloop_free(struct evloop *loop);

/* events: EPOLLIN/EPOLLOUT/...; 0 or a negative errno. */
int ev_io_add(struct evloop *loop, struct ev_io *io, int fd, uint32_t events,
	      ev_io_fn fn, void *arg);
int ev_io_mod(struct evloop *loop, struct ev_io *io, uint32_t events);
/* Safe to call from any callback, also for an io whose event is still pending in this round. */
void ev_io_del(struct evloop *loop, struct ev_io *io);

void ev_timer_init(struct ev_timer *t, ev_timer_fn fn, void *arg);
/* (Re)arms t to fire once, after_ms from now. */
int ev_timer_arm(struct evloop *loop, struct ev_timer *t, uint64_t after_ms);
void ev_timer_cancel(struct evloop *loop, struct ev_timer *t);
static inline int ev_timer_armed(const struct ev_timer *t) { return t->heap_idx != 0; }

void ev_defer_init(struct ev_defer *d, ev_defer_fn fn, void *arg);
/* Queues d to run once at the end of this round ("when the round ends": batching what the
 * round's callbacks produced). Queued already: it keeps its place. Never fails. */
void ev_defer(struct evloop *loop, struct ev_defer *d);
void ev_defer_cancel(struct evloop *loop, struct ev_defer *d);
static inline int ev_deferred(const struct ev_defer *d) { return d->queued; }

/* Blocks signo for the process and delivers it to fn from the loop. */
int ev_signal(struct evloop *loop, int signo, ev_signal_fn fn, void *arg);

/* Runs until ev_stop; returns 0, or a negative errno if epoll fails. */
int evloop_run(struct evloop *loop);
void ev_stop(struct evloop *loop);

#endif
