/* The mirror's in-flight list and state; see mirror_internal.h. Every operation that changes
 * data is listed here until both sides have answered, and one that overlaps a listed or
 * waiting one waits; completions give the caller its result, hold what the peer lacks until
 * it is fenced, and the peer's loss records what it missed. What waits and what the resync
 * does next are the store's (mr->hooks): this file calls only the session below it. */
#include <errno.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/log.h"
#include "vdisk-server/mirror/mirror_internal.h"

static struct log_ratelimit rl_mirror = LOG_RATELIMIT_INIT(20);

static int leave_peer_gen(struct mirror *mr);

void mr_set_state(struct mirror *mr, enum mirror_state s)
{
	enum mirror_state was = mr->state;

	if (was == s)
		return;
	mr->state = s;
	if (mr->on_state)
		mr->on_state(mr->arg);
	if (was == MIRROR_CONNECTING)
		mr->hooks->run_waiters(mr);	/* writes held for the handshake go now */
}

/* Writes wait for the handshake when the peer is expected to answer it. */
int mr_holding(const struct mirror *mr)
{
	return mr->state == MIRROR_CONNECTING && mr->cfg.peer_up && *mr->cfg.peer_up;
}

int mr_connected(const struct mirror *mr)
{
	return mr->iscsi && !mr->kill_pending &&
	       (mr->state == MIRROR_SYNCING || mr->state == MIRROR_IN_SYNC);
}

/* ---- the in-flight list and its waiters ---- */

static int ranges_overlap(uint64_t a, uint64_t alen, uint64_t b, uint64_t blen)
{
	return a < b + blen && b < a + alen;
}

static int overlaps_inflight(struct mirror *mr, uint64_t off, uint64_t len)
{
	for (struct mop *m = mr->inflight; m; m = m->next)
		if (m->kind != MOP_FLUSH && ranges_overlap(off, len, m->off, m->len))
			return 1;
	return 0;
}

void mr_list_add(struct mirror *mr, struct mop *m)
{
	m->prev = NULL;
	m->next = mr->inflight;
	if (mr->inflight)
		mr->inflight->prev = m;
	mr->inflight = m;
}

void mr_list_del(struct mirror *mr, struct mop *m)
{
	if (m->prev)
		m->prev->next = m->next;
	else
		mr->inflight = m->next;
	if (m->next)
		m->next->prev = m->prev;
}

/* Both sides answered (or the peer was given up): the caller gets its result. */
void mr_mop_done(struct mop *m)
{
	struct mirror *mr = m->mr;
	struct store_req *req = m->req;

	if (m->local_pending || m->peer_pending || m->record_pending)
		return;
	/* A write the peer lacks is acknowledged only once the peer cannot take over without
	 * knowing that its copy is outdated (DRBD's resource fencing): until then it stays
	 * listed, so overlapping writes keep waiting behind it. */
	if (m->kind == MOP_WRITE && m->apart && m->result == 0 && !mr->closing &&
	    !fence_allows(mr->cfg.fence, &mr->fence_wait)) {
		if (!m->held)
			mr->held++;
		m->held = 1;
		return;
	}
	if (m->held)
		mr->held--;
	if (m->kind == MOP_WRITE && m->apart && m->result == 0 && !mr->closing &&
	    leave_peer_gen(mr) < 0) {
		log_limited(&rl_mirror, LOG_ERR, "mirror: client %s: cannot write its state file: "
			    "a write made apart from the peer is refused", mr->name);
		req->result = -EIO;
	}
	mr_list_del(mr, m);
	if (m->local_only)
		mr->local_only--;
	if (m->kind == MOP_COPY) {
		mr->copies--;
		if (m->result < 0) {
			mirror_meta_mark(mr->meta, m->off, m->len);
		} else {
			mr->resync_done++;
			mr->resync_bytes += m->len;
		}
		free(m->buf);
		free(m);
	} else {
		if (m->kind == MOP_WRITE && m->result < 0)
			log_limited(&rl_mirror, LOG_ERR, "mirror: client %s: local %s of %llu "
				    "bytes at %llu failed: %s", mr->name,
				    req->op == STORE_OP_UNMAP ? "unmap" : "write",
				    (unsigned long long)m->len, (unsigned long long)m->off,
				    strerror(-m->result));
		if (m->kind == MOP_WRITE && m->result < 0 && !m->local_only) {
			/* the peer may hold what our disk refused: copy ours there again */
			mirror_meta_mark(mr->meta, m->off, m->len);
			if (mr->state == MIRROR_IN_SYNC)
				mr_set_state(mr, MIRROR_SYNCING);
		}
		free(m);
		req->done(req);
	}
	mr->hooks->after_done(mr);
}

/* ---- the peer goes away ---- */

/* Our data moves on from the generation the peer holds: durable before the first write the
 * peer missed is acknowledged, and not before (a write done here but never acknowledged is
 * in our bitmap, which the peer reads at the handshake: if the peer took over meanwhile, it
 * copies its chunks over ours, and no false split brain is reported). */
static int leave_peer_gen(struct mirror *mr)
{
	struct mirror_meta *m = mr->meta;

	if (m->gen != m->peer_gen)
		return 0;
	return mirror_meta_set_gen(m, mirror_meta_new_gen(), m->peer_gen, m->flags);
}

/* See mirror_internal.h. */
void mr_complete_answered(struct mirror *mr)
{
	struct mop *done = NULL;

	for (struct mop *m = mr->inflight; m; m = m->next) {
		if (!m->local_pending && !m->peer_pending && !m->record_pending) {
			m->wnext = done;
			done = m;
		}
	}
	while (done) {
		struct mop *m = done;

		done = m->wnext;
		mr_mop_done(m);
	}
}

static void later_fn(struct ev_defer *d)
{
	mr_complete_answered(d->arg);
}

/* The peer is fenced: the writes held for it are acknowledged. */
static void fence_released(struct fence_waiter *w)
{
	mr_complete_answered((struct mirror *)((char *)w - offsetof(struct mirror, fence_wait)));
}

void mr_peer_down(struct mirror *mr, const char *why)
{
	int answered = 0;

	if (mr->state != MIRROR_DEGRADED || mr->iscsi)
		log_limited(&rl_mirror, LOG_WARNING, "mirror: client %s: peer %s %s: degraded, "
			    "writes recorded for resync", mr->name, mr->cfg.peer, why);
	mr->failures++;
	snprintf(mr->down_why, sizeof(mr->down_why), "%s", why);
	/* one status line: libiscsi's messages may end in a line break */
	for (char *c = mr->down_why; *c; c++)
		if ((unsigned char)*c < ' ')
			*c = ' ';
	mr->conn++;		/* every answer still on its way is moot now */
	if (mr->cfg.peer_up)
		*mr->cfg.peer_up = 0;
	/* what the peer acknowledged but never flushed may die with its page cache */
	mirror_meta_activity_dirty(mr->meta);
	mr->flushing = 0;
	mr->send_head = mr->send_tail = NULL;	/* still listed, recorded below */
	for (struct mop *m = mr->inflight; m; m = m->next) {
		if (!m->peer_pending)
			continue;
		m->peer_pending = 0;
		if (m->kind == MOP_COPY) {
			m->result = -EIO;	/* re-marked when done */
		} else if (m->kind == MOP_WRITE) {
			mirror_meta_mark(mr->meta, m->off, m->len);
			m->apart = 1;
		}
		answered |= !m->local_pending;
	}
	mirror_meta_sync(mr->meta);
	if (mr->in_service)
		mr->kill_pending = 1;
	else
		mr_destroy_context(mr);
	mr->finishing = 0;
	mr->next_connect_ms = ev_now_ms() + RECONNECT_MS;
	mr_set_state(mr, MIRROR_DEGRADED);
	if (!answered)
		return;
	/* Inside iscsi_service, libiscsi may still send from these operations' buffers later
	 * in the same call; inside store_submit nothing may complete: when the round ends. */
	if (mr->in_service || mr->no_complete) {
		ev_defer(mr->loop, &mr->later);
		return;
	}
	mr_complete_answered(mr);
}

int mr_waits(struct mirror *mr, struct mop *m)
{
	if (m->kind == MOP_FLUSH)
		return 0;
	if (m->kind == MOP_WRITE && mr_holding(mr))
		return 1;
	if (overlaps_inflight(mr, m->off, m->len))
		return 1;
	for (struct mop *w = mr->wait_head; w && w != m; w = w->wnext)
		if (ranges_overlap(m->off, m->len, w->off, w->len))
			return 1;
	return 0;
}

int mr_chunk_busy(void *arg, uint64_t chunk)
{
	struct mirror *mr = arg;

	return overlaps_inflight(mr, chunk << MIRROR_CHUNK_SHIFT, MIRROR_CHUNK);
}

void mr_inflight_init(struct mirror *mr)
{
	ev_defer_init(&mr->later, later_fn, mr);
	mr->fence_wait.fn = fence_released;
}
