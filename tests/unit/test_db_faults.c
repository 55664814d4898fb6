/* db/ under injected allocation failures: SQLite's allocator fails at the Nth call inside a
 * batch edit (begin, 20 inserts, event, commit). Whatever N is, the batch either lands whole
 * or not at all, the error is reported, and the database stays intact and usable. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "db/db.h"
#include "db/db_internal.h"
#include "tests/lib/tap.h"

static sqlite3_mem_methods real;
static long fail_countdown = -1;	/* fail when it reaches 0; -1 = never */

static void *fault_malloc(int n)
{
	if (fail_countdown >= 0 && fail_countdown-- == 0)
		return NULL;
	return real.xMalloc(n);
}

static void *fault_realloc(void *p, int n)
{
	if (fail_countdown >= 0 && fail_countdown-- == 0)
		return NULL;
	return real.xRealloc(p, n);
}

static int batch(struct db *db, int round)
{
	struct db_client c = { .enabled = 1 };
	int i, rc;

	if ((rc = db_begin(db)))
		return rc;
	for (i = 0; i < 20; i++) {
		snprintf(c.name, sizeof(c.name), "R%03dPC%02d", round, i);
		snprintf(c.mac, sizeof(c.mac), "52:%02x:%02x:00:00:%02x", round >> 8, round & 0xff, i);
		if ((rc = db_client_insert(db, &c)))
			goto out_rollback;
	}
	if ((rc = db_event_add(db, "info", "test", "round %d", round)) || (rc = db_commit(db)))
		goto out_rollback;
	return 0;
out_rollback:
	db_rollback(db);
	return rc;
}

static int count_round(struct db *db, int round)
{
	struct db_client *all;
	size_t n, i;
	char prefix[16];
	int k = 0;

	snprintf(prefix, sizeof(prefix), "R%03dPC", round);
	if (db_client_all(db, &all, &n))
		return -1;
	for (i = 0; i < n; i++)
		k += strncmp(all[i].name, prefix, strlen(prefix)) == 0;
	free(all);
	return k;
}

int main(void)
{
	char dir[] = "/tmp/test_db_faults.XXXXXX", path[256];
	sqlite3_mem_methods wrapped;
	struct db *db;
	int n, partial = 0, failed = 0, landed = 0, bad_rc = 0;

	if (!mkdtemp(dir))
		return 1;
	snprintf(path, sizeof(path), "%s/f.db", dir);
	sqlite3_shutdown();
	sqlite3_config(SQLITE_CONFIG_GETMALLOC, &real);
	wrapped = real;
	wrapped.xMalloc = fault_malloc;
	wrapped.xRealloc = fault_realloc;
	ok(sqlite3_config(SQLITE_CONFIG_MALLOC, &wrapped) == SQLITE_OK, "fault allocator installed");
	sqlite3_initialize();

	ok(db_open(path, DB_OPEN_CREATE, &db, NULL) == 0, "database created");
	for (n = 0; n < 400; n++) {
		int rc, k;

		fail_countdown = n;
		rc = batch(db, n);
		fail_countdown = -1;
		k = count_round(db, n);
		if (k != 0 && k != 20)
			partial++;
		if (rc == 0 && k != 20)
			partial++;
		if (rc)
			failed++;
		else
			landed++;
		if (rc && rc != -ENOMEM && rc != -EIO && rc != -EBUSY) {
			if (bad_rc++ < 3)
				diag("batch %d: rc %d (%s)", n, rc, db_errmsg(db));
		}
	}
	diag("400 batches: %d failed under injection, %d landed", failed, landed);
	ok(failed > 0, "allocation failures were hit (%d batches failed)", failed);
	ok(landed > 0, "and batches past the failure points landed (%d)", landed);
	is_int(partial, 0, "no batch landed in part");
	is_int(bad_rc, 0, "every failure came back as an errno (ENOMEM/EIO)");
	db_close(db);
	ok(db_open(path, 0, &db, NULL) == 0, "reopens after the storm");
	{
		sqlite3_stmt *st;
		sqlite3_prepare_v2(db->h, "PRAGMA integrity_check", -1, &st, NULL);
		sqlite3_step(st);
		is_str((const char *)sqlite3_column_text(st, 0), "ok", "integrity check");
		sqlite3_finalize(st);
	}
	db_close(db);
	snprintf(path, sizeof(path), "rm -rf %s", dir);
	ok(system(path) == 0, "clean up");
	return done_testing();
}
