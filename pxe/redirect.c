#include "pxe/redirect.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "common/ctlsock.h"

/* Copies the value of reply's line "key: value" into out; 0 when there is none. */
static int take(const char *reply, const char *key, char *out, size_t outlen)
{
	size_t n;
	const char *v = ctl_field(reply, key, &n);

	if (!v)
		return 0;
	snprintf(out, outlen, "%.*s", (int)(n < outlen ? n : outlen - 1), v);
	return 1;
}

int standby_parse(const char *reply, struct standby_status *st)
{
	char peer[DB_NAME_MAX + 24] = "";

	memset(st, 0, sizeof(*st));
	if (strncmp(reply, "ok", 2) != 0 || (reply[2] != '\n' && reply[2] != '\0') ||
	    !take(reply, "state", st->state, sizeof(st->state)))
		return -EPROTO;
	take(reply, "peer", peer, sizeof(peer));
	/* "peer: NAME alive|dead|unknown" */
	if (*peer) {
		char *sp = strrchr(peer, ' ');

		if (sp) {
			*sp = '\0';
			snprintf(st->peer_state, sizeof(st->peer_state), "%.*s",
				 (int)sizeof(st->peer_state) - 1, sp + 1);
		}
		/* A name longer than any DB name cannot match a client's server: cut it. */
		snprintf(st->peer, sizeof(st->peer), "%.*s", (int)sizeof(st->peer) - 1, peer);
	}
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
	if (strcmp(st->peer_state, "dead") != 0) {
		snprintf(why, len, "%s belongs to %s, which is %s: not taken over", c->name,
			 c->server, *st->peer_state ? st->peer_state : "unknown");
		return REDIRECT_REFUSE;
	}
	snprintf(why, len, "%s answered by %s for dead %s (hot standby)", c->name, node,
		 c->server);
	return REDIRECT_TAKEOVER;
}
