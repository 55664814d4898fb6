/* Hot-standby redirection: whether this pxed answers a client assigned to another server.
 * Our own clients (and unassigned ones, or all when `node` is unset) are always answered.
 * Another server's client is answered only when standbyd says we are active and that server
 * is dead, and only if the client has hot_standby set: its writes were mirrored to us; a
 * client without it would boot onto a disk that lacks its writes. */
#ifndef PXE_REDIRECT_H
#define PXE_REDIRECT_H

#include <jansson.h>

#include "db/db.h"

/* standbyd's answer to `status`. */
struct standby_status {
	char state[24];			/* active, standby, taking_over, releasing, maintenance */
	char peer[DB_NAME_MAX];		/* "" when standbyd named none */
	char peer_status[16];		/* alive, dead, unknown ("" when standbyd said none) */
};

/* Reads standbyd's status answer: its string members "state", "peer" and "peer_status"
 * (others ignored; values cut to their fields). Returns 0, or -EPROTO when the answer is an
 * error, NULL, or has no string "state". */
int standby_parse(const json_t *answer, struct standby_status *st);

enum redirect_verdict {
	REDIRECT_OWN,		/* ours (or no redirection configured): answer */
	REDIRECT_TAKEOVER,	/* another server's, which is dead, and hot-standby: answer */
	REDIRECT_REFUSE,	/* silence; why says so */
};

/* node: this server's name ("" = redirection off). st: standbyd's status, NULL when standbyd
 * could not be asked. Writes a sentence for the log and the events table into why. */
enum redirect_verdict redirect_decide(const char *node, const struct db_client *c,
				      const struct standby_status *st, char *why, size_t len);

#endif
