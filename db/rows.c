/* Reading result rows into caller-owned arrays and single structs. */
#include <errno.h>
#include <stdlib.h>

#include "db/db_internal.h"

int db_collect_rows(struct db *db, sqlite3_stmt *st, size_t size, db_read_row_fn read,
		    void **out, size_t *n)
{
	char *v = NULL, *nv;
	size_t cnt = 0, cap = 0;
	int rc;

	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		if (cnt == cap) {
			cap = cap ? cap * 2 : 64;
			nv = realloc(v, cap * size);
			if (!nv) {
				free(v);
				sqlite3_reset(st);
				return db_error(db, -ENOMEM, "out of memory reading rows");
			}
			v = nv;
		}
		read(st, v + cnt++ * size);
	}
	sqlite3_reset(st);
	if (rc != SQLITE_DONE) {
		free(v);
		return db_fail(db, rc);
	}
	*out = v;
	*n = cnt;
	return 0;
}

int db_read_one(struct db *db, sqlite3_stmt *st, db_read_row_fn read, void *out,
		const char *what)
{
	int rc = sqlite3_step(st);

	if (rc == SQLITE_ROW) {
		read(st, out);
		sqlite3_reset(st);
		return 0;
	}
	sqlite3_reset(st);
	if (rc == SQLITE_DONE)
		return db_error(db, -ENOENT, "no %s", what);
	return db_fail(db, rc);
}
