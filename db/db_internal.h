/* What the files of db/ share and nobody else sees: the handle, the statement cache, errors. */
#ifndef DB_DB_INTERNAL_H
#define DB_DB_INTERNAL_H

#include <sqlite3.h>

#include "db/db.h"
#include "db/statements.h"

struct db {
	sqlite3 *h;
	sqlite3_stmt *stmt[STMT_COUNT];	/* prepared on first use, kept until close */
	int in_txn;
	int dirty;			/* an admin change happened in this transaction */
	char iqn_prefix[DB_IQN_MAX];	/* cached setting; "" until read */
	char err[256];
};

/* Returns the cached statement, reset and with bindings cleared; NULL (and db->err set) if
 * it cannot be prepared. */
sqlite3_stmt *db_stmt(struct db *db, enum stmt_id id);

/* Maps an SQLite result code to a negative errno and records a message for db_errmsg. */
int db_fail(struct db *db, int sqlite_rc);

/* Sets db->err from a format; returns rc so callers can `return db_error(db, -EINVAL, ...)`. */
__attribute__((format(printf, 3, 4)))
int db_error(struct db *db, int rc, const char *fmt, ...);

/* Strings are bound SQLITE_STATIC: every bound value outlives the statement's step and reset
 * (they are the caller's arguments), and a copy would be one more allocation that can fail
 * and leave NULL bound in its place.
 *
 * Binds a string, or NULL when it is empty (optional foreign keys and the IP column). */
int db_bind_text_or_null(sqlite3_stmt *st, int idx, const char *s);
/* Copies column col into buf (len bytes, always terminated), "" for NULL. */
void db_column_copy(sqlite3_stmt *st, int col, char *buf, size_t len);

/* Records that an admin change happened: bumps the change sequence at commit, or at once
 * outside a transaction. */
int db_mark_changed(struct db *db);

typedef void (*db_read_row_fn)(sqlite3_stmt *st, void *row);
/* Steps st to the end, reading each row with read into a growing array of size-byte rows;
 * *out (caller frees) and *n on success. */
int db_collect_rows(struct db *db, sqlite3_stmt *st, size_t size, db_read_row_fn read,
		    void **out, size_t *n);
/* Steps st once: reads the row into out, or -ENOENT ("no <what>"). */
int db_read_one(struct db *db, sqlite3_stmt *st, db_read_row_fn read, void *out,
		const char *what);

/* Runs a prepared statement that returns no rows. */
int db_exec_stmt(struct db *db, sqlite3_stmt *st);

/* Two different fresh secrets (db_secret_generate), or a negative errno. */
int db_secret_pair(char secret[DB_SECRET_MAX], char target_secret[DB_SECRET_MAX]);
/* Tests only: replaces getrandom(2) (to inject failures or fixed bytes); NULL = getrandom. */
extern int (*db_random_hook)(void *buf, size_t len);

/* Schema: migrates h from its user_version up to target (<= db_schema_version()) in one
 * transaction. Exposed to tests so they can build an old-version database. */
int db_migrate(sqlite3 *h, int target, char *err, size_t errlen);
/* Reads the schema version, checking the file is ours and not newer than this program. */
int db_read_identity(sqlite3 *h, int *version, char *err, size_t errlen);

#endif
