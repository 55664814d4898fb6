#include "pxe/redirect.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "common/ctlsock.h"

/* Copies the string member key of answer into out; 0 when there is none (or it is no
 * string). A value longer than out is cut. */
static int take(const json_t *answer, const char *key, char *out, size_t outlen)
{
	const char *v = json_string_value(json_object_get(answer, key));

	if (!v)
		return 0;
	snprintf(out, outlen, "%.*s", (int)outlen - 1, v);
	return 1;
}

int standby_parse(const json_t *answer, struct standby_status *st)
{
	memset(st, 0, sizeof(*st));
	/* "ok" true, not merely no "error" (ctl_error): the answer may not come from ctl_parse */
	if (!json_is_true(json_object_get(answer, "ok")) ||
	    !take(answer, "state", st->state, sizeof(st->state)))
		return -EPROTO;
	/* A name longer than any DB name cannot match a client's server: cut it. */
	take(answer, "peer", st->peer, sizeof(st->peer));
	take(answer, "peer_status", st->peer_status, sizeof(st->peer_status));
	return 0;
}

enum redirect_verdict redirect_decide(const char *node, const struct db_client *c,
				      const struct standby_status *st, char *why, size_t len)
{
	if (!*node || !*c->server || strcmp(c->server, node) == 0) {
		snprintf(why, len, "%s is served by this node", c->name);
		return REDIRECT_OWN;
	}
	if (!c->hot_standby) {
		snprintf(why, len, "%s belongs to %s and has no hot standby: not answered by %s",
			 c->name, c->server, node);
		return REDIRECT_REFUSE;
	}
	if (!st) {
		snprintf(why, len, "%s belongs to %s: standbyd not reachable, so %s stays silent",
			 c->name, c->server, node);
		return REDIRECT_REFUSE;
	}
	if (strcmp(st->state, "active") != 0) {
		snprintf(why, len, "%s belongs to %s: %s is %s, not active", c->name, c->server,
			 node, st->state);
		return REDIRECT_REFUSE;
	}
	if (strcmp(st->peer, c->server) != 0) {
		snprintf(why, len, "%s belongs to %s, which is not %s's peer (%s)", c->name,
			 c->server, node, *st->peer ? st->peer : "none");
		return REDIRECT_REFUSE;
	}
	if (strcmp(st->peer_status, "dead") != 0) {
		snprintf(why, len, "%s belongs to %s, which is %s: not taken over", c->name,
			 c->server, *st->peer_status ? st->peer_status : "unknown");
		return REDIRECT_REFUSE;
	}
	snprintf(why, len, "%s answered by %s for dead %s (hot standby)", c->name, node,
		 c->server);
	return REDIRECT_TAKEOVER;
}
