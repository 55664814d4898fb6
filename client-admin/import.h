/* CSV import of clients: every row is checked (syntax, duplicates inside the file and against
 * the database, unknown group/image/server) before anything is written, and every bad row is
 * reported with its line number. */
#ifndef CLIENT_ADMIN_IMPORT_H
#define CLIENT_ADMIN_IMPORT_H

#include <stdio.h>

#include "db/db.h"

#define IMPORT_MAX_BYTES (64u << 20)	/* refuse files larger than this up front */

/* Parses and checks buf. On return *rows (caller frees) holds the good rows and *nbad the
 * number of bad ones, each reported on errs as "line N: why". Returns 0, or a negative errno
 * for a failure that is not about a row (out of memory, database error). */
int import_check(struct db *db, const char *buf, size_t len, FILE *errs,
		 struct db_client **rows, size_t *nrows, unsigned *nbad);

#endif
