/* Resource-level fencing of the peer, as DRBD's fence-peer handler does it: before this server
 * acknowledges a write that the peer's copy lacks (the mirror is down), the peer's copy must be
 * known outdated, or the peer known dead. standbyd does the asking ("fence-peer" on its control
 * socket): it reaches the peer over every heartbeat link, the LAN too when the HA link is the
 * one that failed, and the peer's standbyd records its copy as outdated, durably, before it
 * answers; an outdated node refuses to take over. With no path to the peer the answer comes
 * when standbyd declares the peer dead (deadtime). Until an answer, such writes are held: done
 * on our disk, recorded for the resync, but not acknowledged. docs/mirror.md, "Fencing".
 *
 * One per server, shared by every mirror; loop thread only. */
#ifndef VDISK_MIRROR_FENCE_H
#define VDISK_MIRROR_FENCE_H

#include <stdint.h>
#include <jansson.h>
#include <stdio.h>

#include "common/evloop.h"

#define FENCE_PATH_MAX 108	/* sun_path */
#define FENCE_ASK_MS 50		/* asking again while standbyd says pending */
#define FENCE_RETRY_MS 500	/* after standbyd could not be asked */

enum fence_state {
	FENCE_NONE,	/* no write apart from the peer acknowledged since the last in-sync */
	FENCE_ASKING,	/* writes apart are held until standbyd answers */
	FENCE_DONE,	/* the peer's copy is outdated or the peer dead: writes apart go on */
};

/* A mirror with writes held: fn runs once when they may be acknowledged. */
struct fence_waiter {
	void (*fn)(struct fence_waiter *w);
	struct fence_waiter *next;
	int listed;
};

struct ctl_req;

struct mirror_fence {
	struct evloop *loop;
	char path[FENCE_PATH_MAX];	/* standbyd's control socket; "" : fencing off */
	enum fence_state state;
	char how[32];			/* standbyd's answer once done: outdated, peer-dead */
	struct ctl_req *req;
	struct ev_timer again;
	struct fence_waiter *waiters;
	uint64_t asking_since_ms;
	uint64_t fences;		/* answers that let writes apart go on */
	char last_error[160];
};

/* path: standbyd's control socket, or NULL / "" for no fencing (writes apart are acknowledged
 * at once: a takeover can then lose them). */
void fence_init(struct mirror_fence *f, struct evloop *loop, const char *path);
void fence_fini(struct mirror_fence *f);
/* May a write the peer lacks be acknowledged now? If not, standbyd is being asked and w->fn
 * runs once it may (w stays listed until then, or until fence_cancel). */
int fence_allows(struct mirror_fence *f, struct fence_waiter *w);
void fence_cancel(struct mirror_fence *f, struct fence_waiter *w);
/* No write waits for the answer any more (this server went secondary: its held writes
 * failed): stop asking, so standbyd on a node that does not serve is not told to outdate
 * the peer. A later write apart asks again. */
void fence_unasked(struct mirror_fence *f);
/* Every mirror is in sync: the peer holds everything again, and the next write apart needs a
 * new answer (standbyd clears the peer's outdated mark only after it saw this state). */
void fence_reset(struct mirror_fence *f);
/* The member "fence" of vdiskd's status: {"state": "off"} without fencing, else {"state":
 * none|asking|done, "peer": standbyd's answer (done), "since_ms" (asking), "error": why
 * standbyd could not be asked (asking, after a failure), "fences": answers so far}. NULL when
 * out of memory. */
json_t *fence_status(const struct mirror_fence *f);

#endif
