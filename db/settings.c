/* Settings and events. */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "db/db_internal.h"

int db_setting_get(struct db *db, const char *key, char *buf, size_t len)
{
	sqlite3_stmt *st = db_stmt(db, STMT_SETTING_GET);
	int rc;

	if (!st)
		return -EIO;
	sqlite3_bind_text(st, 1, key, -1, SQLITE_STATIC);
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW) {
		db_column_copy(st, 0, buf, len);
		sqlite3_reset(st);
		return 0;
	}
	sqlite3_reset(st);
	if (rc == SQLITE_DONE)
		return db_error(db, -ENOENT, "setting %s is not set", key);
	return db_fail(db, rc);
}

int db_setting_set(struct db *db, const char *key, const char *value)
{
	sqlite3_stmt *st;
	int rc;

	if (!key[0])
		return db_error(db, -EINVAL, "setting name is empty");
	if (strcmp(key, "change_seq") == 0)
		return db_error(db, -EPERM, "change_seq is kept by the database itself");
	st = db_stmt(db, STMT_SETTING_SET);
	if (!st)
		return -EIO;
	sqlite3_bind_text(st, 1, key, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, value, -1, SQLITE_STATIC);
	rc = db_exec_stmt(db, st);
	if (rc)
		return rc;
	if (strcmp(key, "iqn_prefix") == 0)
		db->iqn_prefix[0] = '\0';
	return db_mark_changed(db);
}

int db_event_add(struct db *db, const char *level, const char *source, const char *fmt, ...)
{
	sqlite3_stmt *st = db_stmt(db, STMT_EVENT_ADD);
	char msg[512];
	va_list ap;

	if (!st)
		return -EIO;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	sqlite3_bind_int64(st, 1, time(NULL));
	sqlite3_bind_text(st, 2, level, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 3, source, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 4, msg, -1, SQLITE_STATIC);
	return db_exec_stmt(db, st);
}

static void read_event(sqlite3_stmt *st, void *row)
{
	struct db_event *e = row;

	e->id = sqlite3_column_int64(st, 0);
	e->time = sqlite3_column_int64(st, 1);
	db_column_copy(st, 2, e->level, sizeof(e->level));
	db_column_copy(st, 3, e->source, sizeof(e->source));
	db_column_copy(st, 4, e->message, sizeof(e->message));
}

int db_event_recent(struct db *db, unsigned limit, struct db_event **out, size_t *n)
{
	sqlite3_stmt *st = db_stmt(db, STMT_EVENT_RECENT);

	if (!st)
		return -EIO;
	sqlite3_bind_int64(st, 1, limit ? (sqlite3_int64)limit : -1);
	return db_collect_rows(db, st, sizeof(**out), read_event, (void **)out, n);
}
