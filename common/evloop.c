#include "common/evloop.h"

#include <errno.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/signalfd.h>
#include <time.h>
#include <unistd.h>

#define EV_BATCH 64
#define EV_MAX_SIGNALS 8

struct ev_sig {
	int signo;
	ev_signal_fn fn;
	void *arg;
};

struct evloop {
	int epfd;
	int stop;
	/* Events fetched but not yet dispatched: ev_io_del clears matching entries so a freed
	 * io is never called. */
	struct epoll_event pending[EV_BATCH];
	int npending;
	struct ev_timer **heap;
	unsigned nheap, heap_cap;
	unsigned timer_pass;		/* counts run_timers' passes */
	struct ev_defer *dhead, *dtail;	/* deferred calls, in the order queued */
	unsigned defer_pass;		/* counts run_deferred's passes */
	struct ev_io sigio;
	sigset_t sigmask;
	struct ev_sig sigs[EV_MAX_SIGNALS];
	unsigned nsigs;
};

uint64_t ev_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

struct evloop *evloop_new(void)
{
	struct evloop *loop = calloc(1, sizeof(*loop));

	if (!loop)
		return NULL;
	loop->epfd = epoll_create1(EPOLL_CLOEXEC);
	if (loop->epfd < 0) {
		free(loop);
		return NULL;
	}
	loop->sigio.fd = -1;
	sigemptyset(&loop->sigmask);
	return loop;
}

void evloop_free(struct evloop *loop)
{
	if (!loop)
		return;
	if (loop->sigio.fd >= 0)
		close(loop->sigio.fd);
	close(loop->epfd);
	free(loop->heap);
	free(loop);
}

int ev_io_add(struct evloop *loop, struct ev_io *io, int fd, uint32_t events,
	      ev_io_fn fn, void *arg)
{
	struct epoll_event ev = { .events = events, .data.ptr = io };

	io->fd = fd;
	io->fn = fn;
	io->arg = arg;
	if (epoll_ctl(loop->epfd, EPOLL_CTL_ADD, fd, &ev) < 0)
		return -errno;
	return 0;
}

int ev_io_mod(struct evloop *loop, struct ev_io *io, uint32_t events)
{
	struct epoll_event ev = { .events = events, .data.ptr = io };

	if (epoll_ctl(loop->epfd, EPOLL_CTL_MOD, io->fd, &ev) < 0)
		return -errno;
	return 0;
}

void ev_io_del(struct evloop *loop, struct ev_io *io)
{
	int i;

	epoll_ctl(loop->epfd, EPOLL_CTL_DEL, io->fd, NULL);
	for (i = 0; i < loop->npending; i++)
		if (loop->pending[i].data.ptr == io)
			loop->pending[i].data.ptr = NULL;
}

/* Timer heap, ordered by due_ms; heap_idx is the slot + 1 so 0 means "not armed". */
static void heap_set(struct evloop *loop, unsigned i, struct ev_timer *t)
{
	loop->heap[i] = t;
	t->heap_idx = i + 1;
}

static void heap_up(struct evloop *loop, unsigned i)
{
	struct ev_timer *t = loop->heap[i];

	while (i > 0) {
		unsigned parent = (i - 1) / 2;
		if (loop->heap[parent]->due_ms <= t->due_ms)
			break;
		heap_set(loop, i, loop->heap[parent]);
		i = parent;
	}
	heap_set(loop, i, t);
}

static void heap_down(struct evloop *loop, unsigned i)
{
	struct ev_timer *t = loop->heap[i];

	for (;;) {
		unsigned c = 2 * i + 1;
		if (c >= loop->nheap)
			break;
		if (c + 1 < loop->nheap && loop->heap[c + 1]->due_ms < loop->heap[c]->due_ms)
			c++;
		if (t->due_ms <= loop->heap[c]->due_ms)
			break;
		heap_set(loop, i, loop->heap[c]);
		i = c;
	}
	heap_set(loop, i, t);
}

void ev_timer_init(struct ev_timer *t, ev_timer_fn fn, void *arg)
{
	memset(t, 0, sizeof(*t));
	t->fn = fn;
	t->arg = arg;
}

void ev_timer_cancel(struct evloop *loop, struct ev_timer *t)
{
	unsigned i;
	struct ev_timer *last;

	if (!t->heap_idx)
		return;
	i = t->heap_idx - 1;
	t->heap_idx = 0;
	last = loop->heap[--loop->nheap];
	if (i == loop->nheap)
		return;
	heap_set(loop, i, last);
	heap_up(loop, i);
	heap_down(loop, last->heap_idx - 1);
}

int ev_timer_arm(struct evloop *loop, struct ev_timer *t, uint64_t after_ms)
{
	ev_timer_cancel(loop, t);
	if (loop->nheap == loop->heap_cap) {
		unsigned cap = loop->heap_cap ? loop->heap_cap * 2 : 16;
		struct ev_timer **h = realloc(loop->heap, cap * sizeof(*h));
		if (!h)
			return -ENOMEM;
		loop->heap = h;
		loop->heap_cap = cap;
	}
	t->due_ms = ev_now_ms() + after_ms;
	t->pass = loop->timer_pass;
	heap_set(loop, loop->nheap, t);
	loop->nheap++;
	heap_up(loop, loop->nheap - 1);
	return 0;
}

static void signal_ready(struct ev_io *io, uint32_t events)
{
	struct evloop *loop = io->arg;
	struct signalfd_siginfo si;
	unsigned i;

	(void)events;
	while (read(io->fd, &si, sizeof(si)) == (ssize_t)sizeof(si))
		for (i = 0; i < loop->nsigs; i++)
			if (loop->sigs[i].signo == (int)si.ssi_signo)
				loop->sigs[i].fn(loop, (int)si.ssi_signo, loop->sigs[i].arg);
}

int ev_signal(struct evloop *loop, int signo, ev_signal_fn fn, void *arg)
{
	int fd, rc;

	if (loop->nsigs == EV_MAX_SIGNALS)
		return -ENOSPC;
	sigaddset(&loop->sigmask, signo);
	if (sigprocmask(SIG_BLOCK, &loop->sigmask, NULL) < 0)
		return -errno;
	fd = signalfd(loop->sigio.fd, &loop->sigmask, SFD_NONBLOCK | SFD_CLOEXEC);
	if (fd < 0)
		return -errno;
	if (loop->sigio.fd < 0) {
		rc = ev_io_add(loop, &loop->sigio, fd, EPOLLIN, signal_ready, loop);
		if (rc) {
			close(fd);
			return rc;
		}
	}
	loop->sigs[loop->nsigs++] = (struct ev_sig){ signo, fn, arg };
	return 0;
}

void ev_stop(struct evloop *loop)
{
	loop->stop = 1;
}

/* The timers due now, except those armed during this pass: a callback that arms itself
 * at 0 ms would otherwise keep the loop here. */
static void run_timers(struct evloop *loop)
{
	uint64_t now = ev_now_ms();
	unsigned pass = ++loop->timer_pass;

	while (loop->nheap && loop->heap[0]->due_ms <= now && loop->heap[0]->pass != pass) {
		struct ev_timer *t = loop->heap[0];
		ev_timer_cancel(loop, t);
		t->fn(t);
	}
}

void ev_defer_init(struct ev_defer *d, ev_defer_fn fn, void *arg)
{
	memset(d, 0, sizeof(*d));
	d->fn = fn;
	d->arg = arg;
}

void ev_defer(struct evloop *loop, struct ev_defer *d)
{
	if (d->queued)
		return;
	d->queued = 1;
	d->pass = loop->defer_pass;
	d->next = NULL;
	d->prev = loop->dtail;
	if (loop->dtail)
		loop->dtail->next = d;
	else
		loop->dhead = d;
	loop->dtail = d;
}

void ev_defer_cancel(struct evloop *loop, struct ev_defer *d)
{
	if (!d->queued)
		return;
	if (d->prev)
		d->prev->next = d->next;
	else
		loop->dhead = d->next;
	if (d->next)
		d->next->prev = d->prev;
	else
		loop->dtail = d->prev;
	d->prev = d->next = NULL;
	d->queued = 0;
}

/* In the order queued; what this pass's calls queue waits for the next round. */
static void run_deferred(struct evloop *loop)
{
	unsigned pass = loop->defer_pass++;

	while (loop->dhead && loop->dhead->pass == pass) {
		struct ev_defer *d = loop->dhead;

		ev_defer_cancel(loop, d);
		d->fn(d);
	}
}

int evloop_run(struct evloop *loop)
{
	loop->stop = 0;
	while (!loop->stop) {
		int timeout = -1, n, i;

		if (loop->dhead) {
			timeout = 0;
		} else if (loop->nheap) {
			uint64_t now = ev_now_ms(), due = loop->heap[0]->due_ms;
			timeout = due <= now ? 0 : (int)(due - now > 60000 ? 60000 : due - now);
		}
		n = epoll_wait(loop->epfd, loop->pending, EV_BATCH, timeout);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		loop->npending = n;
		for (i = 0; i < n && !loop->stop; i++) {
			struct ev_io *io = loop->pending[i].data.ptr;
			if (io)
				io->fn(io, loop->pending[i].events);
		}
		loop->npending = 0;
		run_timers(loop);
		run_deferred(loop);
	}
	return 0;
}
