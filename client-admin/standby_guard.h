/* Edits belong on the active server: its DB is shipped to the standby, which would overwrite
 * (or never pass on) a change made there. Commands that change the DB ask the local standbyd
 * first. */
#ifndef CLIENT_ADMIN_STANDBY_GUARD_H
#define CLIENT_ADMIN_STANDBY_GUARD_H

#include <jansson.h>
#include <stddef.h>

#include "client-admin/cli.h"

#define STANDBY_GUARD_TIMEOUT_MS 1000

/* 0 to go on; EXIT_FAIL, after saying which node to use, when the local standbyd reports
 * that this node stands by while its peer is active. No standbyd (no socket, nobody
 * listening), one that does not answer in time, and --dry-run all go on, as before standbyd
 * existed: the DB demo and the tests run without it. */
int standby_guard(struct cli *cli);

/* The decision alone, from a standbyd status answer (its members "state", "peer",
 * "peer_status", "peer_state"; one missing or not a string counts as unknown): 1 and the
 * active peer's name in active[len] when edits must go there, else 0. */
int standby_guard_refuses(const json_t *status, char *active, size_t len);

#endif
