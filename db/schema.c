/* Schema versions and their migrations. Version N is reached by running migrations[0..N-1]
 * in order; each database records its version in PRAGMA user_version and our application id
 * so a foreign SQLite file is never mistaken for ours. */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "db/db_internal.h"

#define DB_APPLICATION_ID 0x56444b31	/* "VDK1" */

/* The clients table's columns from version 1 on, in order, for copies between versions. */
#define CLIENT_V1_COLS "id, name, mac, ip, grp, image, server, hot_standby, overlay, enabled, " \
	"iqn, created, updated, last_boot"

static int add_chap_secrets(sqlite3 *h, char *err, size_t errlen);

/* Version N is migrations[N-1]: SQL, then (if any) a step in C for what SQL cannot do. */
static const struct migration {
	const char *sql;
	int (*step)(sqlite3 *h, char *err, size_t errlen);
} migrations[] = {
	{ /* 1: the pair's inventory. Optional references are NULL, never ''. */
	"CREATE TABLE settings (key TEXT PRIMARY KEY, value TEXT NOT NULL);"
	"CREATE TABLE images ("
	"  id INTEGER PRIMARY KEY, name TEXT NOT NULL UNIQUE, path TEXT NOT NULL,"
	"  size INTEGER NOT NULL DEFAULT 0 CHECK (size >= 0));"
	"CREATE TABLE groups ("
	"  id INTEGER PRIMARY KEY, name TEXT NOT NULL UNIQUE,"
	"  image TEXT REFERENCES images(name) ON UPDATE CASCADE ON DELETE SET NULL);"
	"CREATE TABLE servers ("
	"  id INTEGER PRIMARY KEY, name TEXT NOT NULL UNIQUE,"
	"  role TEXT CHECK (role IN ('primary', 'secondary')),"
	"  service_addr TEXT, ha_addr TEXT,"
	"  mark TEXT NOT NULL DEFAULT 'active' CHECK (mark IN ('active', 'maintenance', 'disabled')));"
	/* One primary and one secondary: the pair's rule, enforced by the database itself. */
	"CREATE UNIQUE INDEX servers_one_per_role ON servers (role) WHERE role IS NOT NULL;"
	"CREATE TABLE clients ("
	"  id INTEGER PRIMARY KEY,"
	"  name TEXT NOT NULL UNIQUE COLLATE NOCASE,"
	"  mac TEXT NOT NULL UNIQUE,"
	"  ip TEXT UNIQUE,"
	"  grp TEXT REFERENCES groups(name) ON UPDATE CASCADE,"
	"  image TEXT REFERENCES images(name) ON UPDATE CASCADE,"
	"  server TEXT REFERENCES servers(name) ON UPDATE CASCADE,"
	"  hot_standby INTEGER NOT NULL DEFAULT 0 CHECK (hot_standby IN (0, 1)),"
	"  overlay TEXT NOT NULL DEFAULT 'restore' CHECK (overlay IN ('restore', 'persistent')),"
	"  enabled INTEGER NOT NULL DEFAULT 1 CHECK (enabled IN (0, 1)),"
	"  iqn TEXT NOT NULL UNIQUE,"
	"  created INTEGER NOT NULL, updated INTEGER NOT NULL, last_boot INTEGER);"
	"CREATE INDEX clients_grp ON clients (grp);", NULL },

	{ /* 2: what the admin must see, and the data version shipped to the peer. */
	"CREATE TABLE events ("
	"  id INTEGER PRIMARY KEY, time INTEGER NOT NULL,"
	"  level TEXT NOT NULL CHECK (level IN ('info', 'warning', 'error')),"
	"  source TEXT NOT NULL, message TEXT NOT NULL);"
	"INSERT INTO settings (key, value) VALUES ('change_seq', '0');", NULL },

	/* 3: per-client CHAP secrets (issue 16). SQLite checks a new column's CHECK against the
	 * rows already there, and the secrets must come from C (getrandom), so the table is
	 * rebuilt as SQLite's ALTER TABLE documentation describes: a new table with the
	 * constraints, every row copied with its secrets, the old one dropped, the new renamed.
	 * Nothing references clients, so the drop breaks no foreign key. */
	{ "CREATE TABLE clients_v3 ("
	"  id INTEGER PRIMARY KEY,"
	"  name TEXT NOT NULL UNIQUE COLLATE NOCASE,"
	"  mac TEXT NOT NULL UNIQUE,"
	"  ip TEXT UNIQUE,"
	"  grp TEXT REFERENCES groups(name) ON UPDATE CASCADE,"
	"  image TEXT REFERENCES images(name) ON UPDATE CASCADE,"
	"  server TEXT REFERENCES servers(name) ON UPDATE CASCADE,"
	"  hot_standby INTEGER NOT NULL DEFAULT 0 CHECK (hot_standby IN (0, 1)),"
	"  overlay TEXT NOT NULL DEFAULT 'restore' CHECK (overlay IN ('restore', 'persistent')),"
	"  enabled INTEGER NOT NULL DEFAULT 1 CHECK (enabled IN (0, 1)),"
	"  iqn TEXT NOT NULL UNIQUE,"
	"  created INTEGER NOT NULL, updated INTEGER NOT NULL, last_boot INTEGER,"
	"  chap_secret TEXT NOT NULL CHECK (length(chap_secret) = 16 AND"
	"    chap_secret NOT GLOB '*[^A-Za-z0-9]*'),"
	"  chap_target_secret TEXT NOT NULL CHECK (length(chap_target_secret) = 16 AND"
	"    chap_target_secret NOT GLOB '*[^A-Za-z0-9]*' AND chap_target_secret <> chap_secret));",
	  add_chap_secrets },

	/* 4: which clients pxed registered by itself (issue 16, item 7: a cap on how many). */
	{ "ALTER TABLE clients ADD COLUMN auto_registered INTEGER NOT NULL DEFAULT 0"
	"  CHECK (auto_registered IN (0, 1));"
	"CREATE INDEX clients_auto ON clients (auto_registered) WHERE auto_registered = 1;", NULL },
};

#define SCHEMA_VERSION ((int)(sizeof(migrations) / sizeof(migrations[0])))

static int step_error(sqlite3 *h, char *err, size_t errlen)
{
	snprintf(err, errlen, "schema upgrade failed: %s", sqlite3_errmsg(h));
	return sqlite3_errcode(h) == SQLITE_BUSY ? -EBUSY : -EIO;
}

/* Version 3's step: every existing client gets its two secrets while its row is copied into
 * clients_v3, which then becomes clients. */
static int add_chap_secrets(sqlite3 *h, char *err, size_t errlen)
{
	char secret[DB_SECRET_MAX], target[DB_SECRET_MAX];
	sqlite3_stmt *ids = NULL, *copy = NULL;
	int rc;

	if (sqlite3_prepare_v2(h, "SELECT id FROM clients ORDER BY id", -1, &ids, NULL) ||
	    sqlite3_prepare_v2(h, "INSERT INTO clients_v3 (" CLIENT_V1_COLS ", chap_secret, "
			       "chap_target_secret) SELECT " CLIENT_V1_COLS ", ?2, ?3 FROM clients "
			       "WHERE id = ?1", -1, &copy, NULL)) {
		rc = step_error(h, err, errlen);
		goto out;
	}
	while ((rc = sqlite3_step(ids)) == SQLITE_ROW) {
		rc = db_secret_pair(secret, target);
		if (rc) {
			snprintf(err, errlen, "schema upgrade failed: no random bytes for the CHAP "
				 "secrets: %s", strerror(-rc));
			goto out;
		}
		sqlite3_bind_int64(copy, 1, sqlite3_column_int64(ids, 0));
		sqlite3_bind_text(copy, 2, secret, -1, SQLITE_STATIC);
		sqlite3_bind_text(copy, 3, target, -1, SQLITE_STATIC);
		rc = sqlite3_step(copy);
		sqlite3_reset(copy);
		if (rc != SQLITE_DONE) {
			rc = step_error(h, err, errlen);
			goto out;
		}
	}
	if (rc != SQLITE_DONE) {
		rc = step_error(h, err, errlen);
		goto out;
	}
	sqlite3_finalize(ids);
	ids = NULL;
	if (sqlite3_exec(h, "DROP TABLE clients; ALTER TABLE clients_v3 RENAME TO clients;"
			 "CREATE INDEX clients_grp ON clients (grp);", NULL, NULL, NULL))
		rc = step_error(h, err, errlen);
	else
		rc = 0;
out:
	explicit_bzero(secret, sizeof(secret));
	explicit_bzero(target, sizeof(target));
	sqlite3_finalize(ids);
	sqlite3_finalize(copy);
	return rc;
}

int db_schema_version(void)
{
	return SCHEMA_VERSION;
}

static int pragma_int(sqlite3 *h, const char *sql, int *out)
{
	sqlite3_stmt *st;
	int rc = sqlite3_prepare_v2(h, sql, -1, &st, NULL);

	if (rc != SQLITE_OK)
		return rc;
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW) {
		*out = sqlite3_column_int(st, 0);
		rc = SQLITE_OK;
	}
	sqlite3_finalize(st);
	return rc;
}

static int migrate_error(int rc, const char *msg, char *err, size_t errlen)
{
	if (rc == SQLITE_BUSY) {
		snprintf(err, errlen, "database is busy: another writer holds it");
		return -EBUSY;
	}
	if (rc == SQLITE_NOTADB || rc == SQLITE_CORRUPT) {
		snprintf(err, errlen, "database file is corrupt or not a database");
		return -EBADMSG;
	}
	snprintf(err, errlen, "schema upgrade failed: %s", msg ? msg : sqlite3_errstr(rc));
	return -EIO;
}

/* Checks the file is ours (or empty) and not newer than this program. */
static int check_identity(sqlite3 *h, int version, int appid, char *err, size_t errlen)
{
	sqlite3_stmt *st;
	int tables;

	if (version == 0 && appid == 0) {
		/* A brand-new file is ours to shape; one with tables of its own is not. */
		if (sqlite3_prepare_v2(h, "SELECT count(*) FROM sqlite_master", -1, &st, NULL))
			return migrate_error(sqlite3_errcode(h), NULL, err, errlen);
		sqlite3_step(st);
		tables = sqlite3_column_int(st, 0);
		sqlite3_finalize(st);
		if (tables) {
			snprintf(err, errlen, "not a vdisk database (it has other tables)");
			return -EBADMSG;
		}
	} else if (appid != DB_APPLICATION_ID) {
		snprintf(err, errlen, "not a vdisk database (application id %#x)", appid);
		return -EBADMSG;
	}
	if (version > SCHEMA_VERSION) {
		snprintf(err, errlen, "database schema version %d is newer than this program's %d",
			 version, SCHEMA_VERSION);
		return -EPROTO;
	}
	return 0;
}

int db_read_identity(sqlite3 *h, int *version, char *err, size_t errlen)
{
	int appid = 0, rc;

	rc = pragma_int(h, "PRAGMA user_version", version);
	if (rc == SQLITE_OK)
		rc = pragma_int(h, "PRAGMA application_id", &appid);
	if (rc != SQLITE_OK)
		return migrate_error(rc, NULL, err, errlen);
	return check_identity(h, *version, appid, err, errlen);
}

int db_migrate(sqlite3 *h, int target, char *err, size_t errlen)
{
	char *msg = NULL;
	char sql[96];
	int version, rc, v;

	/* Most opens find the schema current: no write transaction, so a reader never waits
	 * for a writer here. */
	rc = db_read_identity(h, &version, err, errlen);
	if (rc || version >= target)
		return rc;
	rc = sqlite3_exec(h, "BEGIN IMMEDIATE", NULL, NULL, &msg);
	if (rc != SQLITE_OK)
		goto out_sqlerr;
	/* Another process may have upgraded it between the check and the lock. */
	rc = db_read_identity(h, &version, err, errlen);
	if (rc) {
		sqlite3_exec(h, "ROLLBACK", NULL, NULL, NULL);
		return rc;
	}
	for (v = version; v < target; v++) {
		rc = sqlite3_exec(h, migrations[v].sql, NULL, NULL, &msg);
		if (rc != SQLITE_OK)
			goto out_rollback;
		if (migrations[v].step && (rc = migrations[v].step(h, err, errlen))) {
			sqlite3_exec(h, "ROLLBACK", NULL, NULL, NULL);
			return rc;
		}
	}
	/* PRAGMA takes no bound parameters; both numbers are this program's own. */
	snprintf(sql, sizeof(sql), "PRAGMA user_version = %d; PRAGMA application_id = %d",
		 v > version ? v : version, DB_APPLICATION_ID);
	rc = sqlite3_exec(h, sql, NULL, NULL, &msg);
	if (rc == SQLITE_OK)
		rc = sqlite3_exec(h, "COMMIT", NULL, NULL, &msg);
	if (rc != SQLITE_OK)
		goto out_rollback;
	return 0;

out_rollback:
	sqlite3_exec(h, "ROLLBACK", NULL, NULL, NULL);
out_sqlerr:
	rc = migrate_error(rc, msg, err, errlen);
	sqlite3_free(msg);
	return rc;
}
