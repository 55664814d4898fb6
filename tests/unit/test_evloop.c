/* Event loop: timers fire in due order, cancel works, an io deleted by an earlier callback in
 * the same round is never called. */
#include <unistd.h>

#include "common/evloop.h"
#include "tests/lib/tap.h"

static int order[8], norder;

static void timer_fn(struct ev_timer *t)
{
	order[norder++] = (int)(long)t->arg;
}

static void stop_fn(struct ev_timer *t)
{
	ev_stop(t->arg);
}

static struct ev_io io_a, io_b;
static int calls_a, calls_b;
static struct evloop *g_loop;

static void io_a_fn(struct ev_io *io, uint32_t ev)
{
	(void)ev;
	calls_a++;
	ev_io_del(g_loop, io);
	ev_io_del(g_loop, &io_b);	/* b is ready in the same round: must not be called */
}

static void io_b_fn(struct ev_io *io, uint32_t ev)
{
	(void)ev;
	calls_b++;
	ev_io_del(g_loop, io);
	ev_io_del(g_loop, &io_a);
}

int main(void)
{
	struct evloop *loop = evloop_new();
	struct ev_timer t[5], stop;
	int pa[2], pb[2], i;

	ok(loop != NULL, "evloop_new");
	g_loop = loop;
	for (i = 0; i < 5; i++)
		ev_timer_init(&t[i], timer_fn, (void *)(long)i);
	ev_timer_arm(loop, &t[0], 30);
	ev_timer_arm(loop, &t[1], 10);
	ev_timer_arm(loop, &t[2], 20);
	ev_timer_arm(loop, &t[3], 5);
	ev_timer_arm(loop, &t[4], 15);
	ev_timer_cancel(loop, &t[4]);
	ev_timer_arm(loop, &t[2], 40);	/* re-arm moves it */
	ev_timer_init(&stop, stop_fn, loop);
	ev_timer_arm(loop, &stop, 60);
	is_int(evloop_run(loop), 0, "loop runs until stopped");
	is_int(norder, 4, "four timers fired, the cancelled one did not");
	ok(order[0] == 3 && order[1] == 1 && order[2] == 0 && order[3] == 2,
	   "timers fired in due order (got %d %d %d %d)", order[0], order[1], order[2], order[3]);
	ok(!ev_timer_armed(&t[4]), "cancelled timer is not armed");

	ok(pipe(pa) == 0 && pipe(pb) == 0, "pipes");
	ok(write(pa[1], "x", 1) == 1 && write(pb[1], "x", 1) == 1, "both readable");
	ev_io_add(loop, &io_a, pa[0], EPOLLIN, io_a_fn, NULL);
	ev_io_add(loop, &io_b, pb[0], EPOLLIN, io_b_fn, NULL);
	ev_timer_arm(loop, &stop, 30);
	evloop_run(loop);
	is_int(calls_a + calls_b, 1, "an io deleted earlier in the same round is not called");
	evloop_free(loop);
	return done_testing();
}
