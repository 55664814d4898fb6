#include "pxe/redirect.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

/* Copies the value of "key: value" at line into out if the key matches. */
static int take(const char *line, size_t linelen, const char *key, char *out, size_t outlen)
{
	size_t k = strlen(key), n;
	const char *v;

	if (linelen < k + 1 || strncmp(line, key, k) != 0 || line[k] != ':')
		return 0;
	v = line + k + 1;
	while (v < line + linelen && *v == ' ')
		v++;
	n = (size_t)(line + linelen - v);
	if (n >= outlen)
		n = outlen - 1;
	memcpy(out, v, n);
	out[n] = '\0';
	return 1;
}

int standby_parse(const char *reply, struct standby_status *st)
{
	char peer[DB_NAME_MAX + 24];
	const char *line = reply, *nl;
	int first = 1, have_state = 0;

	memset(st, 0, sizeof(*st));
	peer[0] = '\0';
	for (; *line; line = nl + 1) {
		size_t len;

		nl = strchr(line, '\n');
		if (!nl)
			nl = line + strlen(line) - 1;
		len = (size_t)(nl - line) + (*nl != '\n');
		if (first) {
			if (len != 2 || strncmp(line, "ok", 2) != 0)
				return -EPROTO;
			first = 0;
			continue;
		}
		if (take(line, len, "state", st->state, sizeof(st->state)))
			have_state = 1;
		else
			take(line, len, "peer", peer, sizeof(peer));
	}
	if (first || !have_state)
		return -EPROTO;
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
