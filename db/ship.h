/* DB shipping: the active server's admin tables (clients, servers, images, groups, settings)
 * copied to the peer and applied there atomically. The events table is not shipped: each
 * server keeps what happened to it. Transport and authentication are the caller's (standbyd
 * over the HA link); these functions only make and apply snapshots. */
#ifndef DB_SHIP_H
#define DB_SHIP_H

#include <stddef.h>
#include <stdint.h>

#include "db/db.h"

#define DB_SHIP_MAX_BYTES (256u << 20)	/* refuse snapshots larger than this */

/* Serializes the admin tables into a standalone SQLite image. *out is sqlite3_malloc'd:
 * free it with db_ship_free. *seq is the change_seq the snapshot holds. */
int db_ship_snapshot(struct db *db, unsigned char **out, size_t *len, int64_t *seq);
void db_ship_free(unsigned char *snap);

/* Replaces the admin tables with the snapshot's in one transaction: readers see the old
 * tables or the new ones, never a mix. A snapshot of another schema version, a damaged one,
 * or one that breaks a constraint is refused (-EBADMSG, -EPROTO, -EINVAL) and changes
 * nothing. On success *seq is the applied change_seq. */
int db_ship_apply(struct db *db, const unsigned char *snap, size_t len, int64_t *seq);

#endif
