/* The heartbeat receive loop under a flood: one loop round reads at most SB_RX_BATCH packets
 * from a link and then lets the rest of the loop (timers: our own heartbeats) run; what is
 * left is read in the following rounds. A real link socket (bcast on lo) and the real event
 * loop; 64 malformed packets queued before the loop runs, counted by the hooks through which
 * links.c reports. Needs root (SO_BINDTODEVICE). */
#include <arpa/inet.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "common/log.h"
#include "standby/daemon.h"
#include "tests/lib/tap.h"

#define QUEUED 64

static void on_stop(struct ev_timer *t)
{
	ev_stop(t->arg);
}

/* One round of the loop: what is ready now, then the timers (which stop it). */
static void one_round(struct evloop *loop)
{
	struct ev_timer stop;

	ev_timer_init(&stop, on_stop, loop);
	ev_timer_arm(loop, &stop, 0);
	evloop_run(loop);
}

static int flood(unsigned port, int n)
{
	struct sockaddr_in to = { .sin_family = AF_INET, .sin_port = htons(port),
				  .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	int fd = socket(AF_INET, SOCK_DGRAM, 0), i, sent = 0;

	for (i = 0; fd >= 0 && i < n; i++)
		if (sendto(fd, "SBHBgarbage", 11, 0, (struct sockaddr *)&to, sizeof(to)) == 11)
			sent++;
	if (fd >= 0)
		close(fd);
	return sent;
}

/* links.c reports through the daemon's hooks; here they only count. */
static unsigned heard;

static void count_heard(struct standbyd *d, struct sb_link *l, const struct hb_msg *msg)
{
	(void)d, (void)l, (void)msg;
	heard++;
}

static void count_dropped(struct standbyd *d, struct sb_link *l, enum hb_drop why)
{
	(void)l;
	d->drops[why]++;
}

static const struct sb_hooks counting = { .heard = count_heard, .dropped = count_dropped };

int main(void)
{
	struct standbyd *d = calloc(1, sizeof(*d));
	unsigned long read_total = 0;
	int rounds = 0;

	log_init("test", 0, LOG_CRIT);
	if (getuid() != 0) {
		printf("1..0 # SKIP needs root (SO_BINDTODEVICE)\n");
		return 0;
	}
	d->loop = evloop_new();
	d->hooks = &counting;
	d->rl_drop = (struct log_ratelimit)LOG_RATELIMIT_INIT(5);
	d->cfg.cf.udpport = 40000 + (unsigned)getpid() % 20000;
	d->cfg.cf.links[0].kind = HA_LINK_BCAST;
	strcpy(d->cfg.cf.links[0].ifname, "lo");
	d->cfg.cf.nlinks = 1;
	strcpy(d->cfg.cf.cluster, "lab");
	strcpy(d->cfg.node, "beta");
	strcpy(d->cfg.peer, "alpha");
	if (!ok(d->loop && sb_links_open(d) == 0, "a link on lo, UDP %u", d->cfg.cf.udpport))
		return done_testing();
	is_int(flood(d->cfg.cf.udpport, QUEUED), QUEUED, "%d packets queued", QUEUED);
	one_round(d->loop);
	is_int(d->drops[HB_DROP_MALFORMED], SB_RX_BATCH,
	       "one round reads %d of them, then yields to the loop", SB_RX_BATCH);
	while (d->drops[HB_DROP_MALFORMED] < QUEUED && rounds++ < 2 * QUEUED) {
		read_total = d->drops[HB_DROP_MALFORMED];
		one_round(d->loop);
		if (d->drops[HB_DROP_MALFORMED] - read_total > SB_RX_BATCH)
			break;
	}
	is_int(d->drops[HB_DROP_MALFORMED], QUEUED, "the rest is read in the next rounds");
	is_int(heard, 0, "none of them is taken for a heartbeat");
	is_int(rounds, (QUEUED + SB_RX_BATCH - 1) / SB_RX_BATCH - 1,
	       "%d more rounds, none over the bound", (QUEUED + SB_RX_BATCH - 1) / SB_RX_BATCH - 1);
	sb_links_close(d);
	evloop_free(d->loop);
	free(d);
	return done_testing();
}
