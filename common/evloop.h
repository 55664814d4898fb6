/* The single-threaded event loop every daemon runs: epoll for descriptors, a min-heap of
 * timers on CLOCK_MONOTONIC, signalfd for signals. Callers own the ev_io and ev_timer
 * structures (embed them in the object they belong to); the loop never allocates per event. */
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

struct ev_io {
	int fd;
	ev_io_fn fn;
	void *arg;
};

struct ev_timer {
	uint64_t due_ms;
	unsigned heap_idx;	/* 0 when not armed, else index + 1 */
	ev_timer_fn fn;
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

/* Blocks signo for the process and delivers it to fn from the loop. */
int ev_signal(struct evloop *loop, int signo, ev_signal_fn fn, void *arg);

/* Runs until ev_stop; returns 0, or a negative errno if epoll fails. */
int evloop_run(struct evloop *loop);
void ev_stop(struct evloop *loop);

#endif
