/* Fencing the peer through standbyd; see mirror_fence.h. */
#include "vdisk-server/mirror/mirror_fence.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "common/ctlsock.h"
#include "common/log.h"

#define FENCE_CALL_MS 2000	/* one question; standbyd answers at once */

static struct log_ratelimit rl_fence = LOG_RATELIMIT_INIT(10);

static void timer_ask(struct ev_timer *t);

void fence_init(struct mirror_fence *f, struct evloop *loop, const char *path)
{
	memset(f, 0, sizeof(*f));
	f->loop = loop;
	if (path)
		snprintf(f->path, sizeof(f->path), "%s", path);
	ev_timer_init(&f->again, timer_ask, f);
}

void fence_fini(struct mirror_fence *f)
{
	ev_timer_cancel(f->loop, &f->again);
	ctl_call_cancel(f->req);
	f->req = NULL;
	f->waiters = NULL;
}

static void release_waiters(struct mirror_fence *f)
{
	while (f->waiters) {
		struct fence_waiter *w = f->waiters;

		f->waiters = w->next;
		w->listed = 0;
		w->fn(w);
	}
}

/* The word of standbyd's fence-peer answer, {"ok":true,"fence":"WORD"}, into out: -EINVAL
 * for an error answer, one without it, or a word that is none of the three standbyd says:
 * held writes are released on "outdated" or "peer-dead" only, never on a word this vdiskd
 * does not know (a newer standbyd's, or a mistake). */
static int answer_value(const json_t *answer, char *out, size_t outlen)
{
	static const char *const known[] = { "pending", "outdated", "peer-dead" };
	const char *v = json_string_value(json_object_get(answer, "fence"));
	size_t i;

	if (ctl_error(answer) || !v)
		return -EINVAL;
	for (i = 0; i < sizeof(known) / sizeof(known[0]); i++)
		if (strcmp(v, known[i]) == 0)
			break;
	if (i == sizeof(known) / sizeof(known[0]) || strlen(v) >= outlen)
		return -EINVAL;
	snprintf(out, outlen, "%s", v);
	return 0;
}

static void on_answer(void *arg, int rc, const json_t *answer)
{
	struct mirror_fence *f = arg;
	const char *refused = NULL;
	char value[32];

	f->req = NULL;
	if (f->state != FENCE_ASKING)
		return;
	if (rc == 0) {
		refused = ctl_error(answer);
		rc = answer_value(answer, value, sizeof(value));
	}
	if (rc < 0) {
		if (refused)
			snprintf(f->last_error, sizeof(f->last_error), "standbyd at %s: %s", f->path,
				 refused);
		else
			snprintf(f->last_error, sizeof(f->last_error), "standbyd at %s: %s", f->path,
				 rc == -EINVAL ? "unexpected answer" : strerror(-rc));
		log_limited(&rl_fence, LOG_ERR, "fence: cannot ask %s; hot-standby writes made "
			    "while the mirror is down stay held", f->last_error);
		ev_timer_arm(f->loop, &f->again, FENCE_RETRY_MS);
		return;
	}
	if (strcmp(value, "pending") == 0) {
		ev_timer_arm(f->loop, &f->again, FENCE_ASK_MS);
		return;
	}
	f->state = FENCE_DONE;
	f->fences++;
	snprintf(f->how, sizeof(f->how), "%s", value);
	f->last_error[0] = '\0';
	log_notice("fence: the peer is %s after %llu ms: writes made apart from it are "
		   "acknowledged from now on", value,
		   (unsigned long long)(ev_now_ms() - f->asking_since_ms));
	release_waiters(f);
}

static void ask(struct mirror_fence *f)
{
	int rc;

	if (f->req || f->state != FENCE_ASKING)
		return;
	rc = ctl_call_start(f->loop, f->path, "fence-peer", FENCE_CALL_MS, on_answer, f, &f->req);
	if (rc < 0)
		on_answer(f, rc, NULL);
}

static void timer_ask(struct ev_timer *t)
{
	ask(t->arg);
}

int fence_allows(struct mirror_fence *f, struct fence_waiter *w)
{
	if (!f || !f->path[0] || f->state == FENCE_DONE)
		return 1;
	if (!w->listed) {
		w->next = f->waiters;
		f->waiters = w;
		w->listed = 1;
	}
	if (f->state == FENCE_NONE) {
		f->state = FENCE_ASKING;
		f->asking_since_ms = ev_now_ms();
		log_warn("fence: the mirror is down: hot-standby writes are held until standbyd "
			 "has the peer's copy marked outdated (or the peer dead)");
		ask(f);
	}
	return 0;
}

void fence_cancel(struct mirror_fence *f, struct fence_waiter *w)
{
	if (!f || !w->listed)
		return;
	for (struct fence_waiter **pp = &f->waiters; *pp; pp = &(*pp)->next) {
		if (*pp == w) {
			*pp = w->next;
			break;
		}
	}
	w->listed = 0;
}

void fence_unasked(struct mirror_fence *f)
{
	if (!f || f->state != FENCE_ASKING || f->waiters)
		return;
	ev_timer_cancel(f->loop, &f->again);
	ctl_call_cancel(f->req);
	f->req = NULL;
	f->state = FENCE_NONE;
	f->last_error[0] = '\0';
	log_notice("fence: no write waits for it any more: standbyd is not asked further");
}

void fence_reset(struct mirror_fence *f)
{
	if (!f || f->state != FENCE_DONE)
		return;
	f->state = FENCE_NONE;
	f->how[0] = '\0';
}

json_t *fence_status(const struct mirror_fence *f)
{
	static const char *const names[] = { "none", "asking", "done" };
	json_t *o;

	if (!f->path[0])
		return json_pack("{s:s}", "state", "off");
	o = json_pack("{s:s}", "state", names[f->state]);
	if (o && f->state == FENCE_DONE && json_object_set_new(o, "peer", ctl_text(f->how)))
		goto fail;
	if (o && f->state == FENCE_ASKING &&
	    json_object_set_new(o, "since_ms",
				json_integer((json_int_t)(ev_now_ms() - f->asking_since_ms))))
		goto fail;
	if (o && f->state == FENCE_ASKING && f->last_error[0] &&
	    json_object_set_new(o, "error", ctl_text(f->last_error)))
		goto fail;
	if (o && json_object_set_new(o, "fences", json_integer((json_int_t)f->fences)))
		goto fail;
	return o;
fail:
	json_decref(o);
	return NULL;
}
