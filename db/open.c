/* Opening, transactions, the statement cache and error mapping. */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include "db/db_internal.h"

#define DB_DEFAULT_BUSY_MS 5000

const char *db_errmsg(const struct db *db)
{
	return db->err;
}

int db_error(struct db *db, int rc, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(db->err, sizeof(db->err), fmt, ap);
	va_end(ap);
	return rc;
}

int db_fail(struct db *db, int sqlite_rc)
{
	const char *msg = sqlite3_errmsg(db->h);

	switch (sqlite_rc & 0xff) {
	case SQLITE_BUSY:
	case SQLITE_LOCKED:
		return db_error(db, -EBUSY, "database is busy: another writer holds it");
	case SQLITE_NOTADB:
	case SQLITE_CORRUPT:
		return db_error(db, -EBADMSG, "database file is corrupt or not a database");
	case SQLITE_READONLY:
		return db_error(db, -EROFS, "database is read-only");
	case SQLITE_FULL:
		return db_error(db, -ENOSPC, "database disk is full");
	case SQLITE_CONSTRAINT:
		if (sqlite_rc == SQLITE_CONSTRAINT_UNIQUE || sqlite_rc == SQLITE_CONSTRAINT_PRIMARYKEY) {
			/* "UNIQUE constraint failed: clients.mac" -> "clients.mac already in use" */
			const char *col = strrchr(msg, ' ');
			return db_error(db, -EEXIST, "%s already in use", col ? col + 1 : msg);
		}
		if (sqlite_rc == SQLITE_CONSTRAINT_FOREIGNKEY)
			return db_error(db, -EINVAL, "refers to a group, image or server that does not "
					"exist, or is still referred to");
		return db_error(db, -EINVAL, "%s", msg);
	default:
		return db_error(db, -EIO, "database error: %s", msg);
	}
}

sqlite3_stmt *db_stmt(struct db *db, enum stmt_id id)
{
	sqlite3_stmt *st = db->stmt[id];
	int rc;

	if (st) {
		sqlite3_reset(st);
		sqlite3_clear_bindings(st);
		return st;
	}
	rc = sqlite3_prepare_v3(db->h, db_statement_sql[id], -1, SQLITE_PREPARE_PERSISTENT,
				&st, NULL);
	if (rc != SQLITE_OK) {
		db_fail(db, rc);
		return NULL;
	}
	db->stmt[id] = st;
	return st;
}

int db_exec_stmt(struct db *db, sqlite3_stmt *st)
{
	int rc = sqlite3_step(st);

	if (rc != SQLITE_DONE && rc != SQLITE_ROW) {
		rc = db_fail(db, sqlite3_extended_errcode(db->h));
		sqlite3_reset(st);
		return rc;
	}
	sqlite3_reset(st);
	return 0;
}

int db_bind_text_or_null(sqlite3_stmt *st, int idx, const char *s)
{
	if (!s || !*s)
		return sqlite3_bind_null(st, idx);
	return sqlite3_bind_text(st, idx, s, -1, SQLITE_STATIC);
}

void db_column_copy(sqlite3_stmt *st, int col, char *buf, size_t len)
{
	const unsigned char *s = sqlite3_column_text(st, col);

	snprintf(buf, len, "%s", s ? (const char *)s : "");
}

static int busy_timeout_ms(void)
{
	const char *env = getenv("VDISK_DB_TIMEOUT_MS");
	char *end;
	long ms;

	if (!env || !*env)
		return DB_DEFAULT_BUSY_MS;
	ms = strtol(env, &end, 10);
	return (*end || ms < 0 || ms > 600000) ? DB_DEFAULT_BUSY_MS : (int)ms;
}

static int set_pragmas(struct db *db, int flags)
{
	/* synchronous=FULL: an admin's committed change survives a power cut, even in WAL. */
	const char *sql = (flags & DB_OPEN_READONLY) ?
		"PRAGMA foreign_keys = ON;" :
		"PRAGMA journal_mode = WAL; PRAGMA synchronous = FULL; PRAGMA foreign_keys = ON;";
	char *msg = NULL;
	int rc = sqlite3_exec(db->h, sql, NULL, NULL, &msg);

	if (rc != SQLITE_OK) {
		rc = db_fail(db, rc);
		sqlite3_free(msg);
	}
	return rc;
}

/* 1 when the directory holding path is setgid: a group shares it. */
static int in_shared_dir(const char *path)
{
	char dir[DB_PATH_MAX + 8];
	const char *slash = strrchr(path, '/');
	struct stat sb;

	if (!slash)
		snprintf(dir, sizeof(dir), ".");
	else if ((size_t)(slash - path) >= sizeof(dir))
		return 0;
	else
		snprintf(dir, sizeof(dir), "%.*s", slash == path ? 1 : (int)(slash - path), path);
	return stat(dir, &sb) == 0 && (sb.st_mode & S_ISGID);
}

/* The file holds every client's CHAP secrets, so nobody but its owner and group may read
 * it. SQLite would create it 0644 (less the umask); it is made here first, 0640 less the
 * umask, and SQLite gives its -wal and -shm files the same mode. In a directory a group
 * shares (setgid: /var/lib/vdisk, group vdisk) the group writes too, whatever the umask:
 * vdiskd runs as user vdisk and records events, standbyd and pxed run as root without
 * CAP_DAC_OVERRIDE and write through the group when vdiskd made the -wal file. A read-write
 * open also takes the world's bits off an older database and its -wal/-shm (made 0644
 * before). */
static int secure_mode(const char *path, int flags, char *err, size_t errlen)
{
	static const char *const suffix[] = { "", "-wal", "-shm" };
	char p[DB_PATH_MAX + 8];
	struct stat sb;
	size_t i;
	int fd, e;

	if (!*path || strcmp(path, ":memory:") == 0 || strncmp(path, "file:", 5) == 0)
		return 0;
	if ((flags & DB_OPEN_CREATE) && lstat(path, &sb) < 0 && errno == ENOENT) {
		fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0640);
		if (fd < 0 && errno != EEXIST) {
			e = errno;
			snprintf(err, errlen, "cannot create database %s: %s", path, strerror(e));
			return -e;
		}
		if (fd >= 0 && in_shared_dir(path) && fchmod(fd, 0660) < 0) {
			e = errno;
			snprintf(err, errlen, "cannot make database %s group-writable: %s", path,
				 strerror(e));
			close(fd);
			return -e;
		}
		if (fd >= 0)
			close(fd);
	}
	for (i = 0; i < sizeof(suffix) / sizeof(suffix[0]); i++) {
		if ((size_t)snprintf(p, sizeof(p), "%s%s", path, suffix[i]) >= sizeof(p))
			return 0;
		if (stat(p, &sb) == 0 && S_ISREG(sb.st_mode) && (sb.st_mode & 0007) &&
		    chmod(p, sb.st_mode & 07770) < 0 && i == 0) {
			e = errno;
			snprintf(err, errlen, "database %s is readable by everyone and its mode "
				 "cannot be changed: %s", path, strerror(e));
			return -e;
		}
	}
	return 0;
}

int db_open(const char *path, int flags, struct db **out, const char **errmsg)
{
	static char static_err[256];
	struct db *db;
	struct stat sb;
	int oflags, rc;

	*out = NULL;
	if (!(flags & DB_OPEN_CREATE) && stat(path, &sb) < 0) {
		snprintf(static_err, sizeof(static_err), "no database at %s (%s)", path,
			 strerror(errno));
		if (errmsg)
			*errmsg = static_err;
		return -ENOENT;
	}
	db = calloc(1, sizeof(*db));
	if (!db)
		return -ENOMEM;
	if (!(flags & DB_OPEN_READONLY)) {
		rc = secure_mode(path, flags, db->err, sizeof(db->err));
		if (rc)
			goto out_fail;
	}
	oflags = (flags & DB_OPEN_READONLY) ? SQLITE_OPEN_READONLY :
		 SQLITE_OPEN_READWRITE | ((flags & DB_OPEN_CREATE) ? SQLITE_OPEN_CREATE : 0);
	rc = sqlite3_open_v2(path, &db->h, oflags | SQLITE_OPEN_NOMUTEX, NULL);
	if (rc != SQLITE_OK) {
		rc = db_error(db, -EIO, "cannot open database %s: %s", path,
			      db->h ? sqlite3_errmsg(db->h) : sqlite3_errstr(rc));
		goto out_fail;
	}
	sqlite3_extended_result_codes(db->h, 1);
	sqlite3_busy_timeout(db->h, busy_timeout_ms());
	rc = set_pragmas(db, flags);
	if (rc)
		goto out_fail;
	if (flags & DB_OPEN_READONLY) {
		int version;
		rc = db_read_identity(db->h, &version, db->err, sizeof(db->err));
		if (rc == 0 && version != db_schema_version())
			rc = db_error(db, -EPROTO, "database %s has schema version %d, this program "
				      "needs %d (open it read-write once to upgrade)", path, version,
				      db_schema_version());
		if (rc)
			goto out_fail;
	} else {
		rc = db_migrate(db->h, db_schema_version(), db->err, sizeof(db->err));
		if (rc)
			goto out_fail;
	}
	*out = db;
	return 0;

out_fail:
	snprintf(static_err, sizeof(static_err), "%s", db->err);
	if (errmsg)
		*errmsg = static_err;
	db_close(db);
	return rc;
}

void db_close(struct db *db)
{
	int i;

	if (!db)
		return;
	for (i = 0; i < STMT_COUNT; i++)
		sqlite3_finalize(db->stmt[i]);
	sqlite3_close(db->h);
	free(db);
}

int db_begin(struct db *db)
{
	sqlite3_stmt *st = db_stmt(db, STMT_BEGIN);
	int rc;

	if (!st)
		return -EIO;
	rc = db_exec_stmt(db, st);
	if (rc == 0) {
		db->in_txn = 1;
		db->dirty = 0;
	}
	return rc;
}

int db_commit(struct db *db)
{
	sqlite3_stmt *st;
	int rc;

	if (db->dirty) {
		st = db_stmt(db, STMT_BUMP_CHANGE_SEQ);
		rc = st ? db_exec_stmt(db, st) : -EIO;
		if (rc) {
			db_rollback(db);
			return rc;
		}
	}
	st = db_stmt(db, STMT_COMMIT);
	rc = st ? db_exec_stmt(db, st) : -EIO;
	if (rc) {
		db_rollback(db);
		return rc;
	}
	db->in_txn = 0;
	db->dirty = 0;
	return 0;
}

void db_rollback(struct db *db)
{
	sqlite3_stmt *st;

	if (!db->in_txn)
		return;
	st = db_stmt(db, STMT_ROLLBACK);
	if (st)
		sqlite3_step(st);
	db->in_txn = 0;
	db->dirty = 0;
}

int db_change_seq(struct db *db, int64_t *seq)
{
	sqlite3_stmt *st = db_stmt(db, STMT_CHANGE_SEQ);
	int rc;

	if (!st)
		return -EIO;
	rc = sqlite3_step(st);
	if (rc != SQLITE_ROW)
		return rc == SQLITE_DONE ? db_error(db, -ENOENT, "no change_seq") : db_fail(db, rc);
	*seq = sqlite3_column_int64(st, 0);
	sqlite3_reset(st);
	return 0;
}

int db_mark_changed(struct db *db)
{
	sqlite3_stmt *st;

	if (db->in_txn) {
		db->dirty = 1;
		return 0;
	}
	st = db_stmt(db, STMT_BUMP_CHANGE_SEQ);
	return st ? db_exec_stmt(db, st) : -EIO;
}
