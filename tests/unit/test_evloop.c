/* Event loop: timers fire in due order, cancel works, an io deleted by an earlier callback in
 * the same round is never called; a timer that re-arms itself at 0 ms runs once per round,
 * not forever within one; deferred calls run at the end of the round in the order queued,
 * once however often queued, those queued by a deferred call in the next round, and a
 * cancelled one not at all. */
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

/* A round's trace: what ran, in order ('r' marks a round's io callback). */
static char trace[64];
static int ntrace;
static struct ev_defer d[4];
static struct ev_timer self, tstop;
static int self_runs;

static void note(char c)
{
	if (ntrace < (int)sizeof(trace) - 1)
		trace[ntrace++] = c;
}

static void defer_fn(struct ev_defer *x)
{
	note((char)(long)x->arg);
	if (x == &d[0])
		ev_defer(g_loop, &d[3]);	/* queued by a deferred call: next round */
}

static struct ev_io io_r;

static void io_r_fn(struct ev_io *io, uint32_t ev)
{
	char c;

	(void)ev;
	if (read(io->fd, &c, 1) != 1)
		return;
	note('r');
	ev_defer(g_loop, &d[1]);
	ev_defer(g_loop, &d[0]);
	ev_defer(g_loop, &d[1]);	/* queued already: keeps its place */
	ev_defer(g_loop, &d[2]);
	ev_defer_cancel(g_loop, &d[2]);
}

static void self_fn(struct ev_timer *t)
{
	note('t');
	if (++self_runs < 3)
		ev_timer_arm(g_loop, t, 0);
}

static void test_rounds(struct evloop *loop)
{
	int p[2];

	for (int i = 0; i < 4; i++)
		ev_defer_init(&d[i], defer_fn, (void *)(long)('a' + i));
	ok(pipe(p) == 0 && write(p[1], "x", 1) == 1, "a readable pipe");
	ev_io_add(loop, &io_r, p[0], EPOLLIN, io_r_fn, NULL);
	ev_timer_init(&self, self_fn, NULL);
	ev_timer_arm(loop, &self, 0);
	ev_timer_init(&tstop, stop_fn, loop);
	ev_timer_arm(loop, &tstop, 50);
	evloop_run(loop);
	/* round 1: the io, the timer, then b and a (c cancelled); round 2: the timer again,
	 * then d, queued by a; round 3: the timer's third run */
	is_str(trace, "rtbatdt", "one round after another: %s", trace);
	ok(!ev_deferred(&d[2]), "the cancelled call is not queued");
	ev_io_del(loop, &io_r);
	close(p[0]);
	close(p[1]);
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
	test_rounds(loop);
	evloop_free(loop);
	return done_testing();
}
