#include "db/ship.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "db/db_internal.h"

/* The shipped tables, parents before children, with their columns spelled out so a snapshot
 * with a different shape fails to apply instead of filling the wrong columns. */
static const struct {
	const char *table;
	const char *cols;
} shipped[] = {
	{ "settings", "key, value" },
	{ "images", "id, name, path, size" },
	{ "groups", "id, name, image" },
	{ "servers", "id, name, role, service_addr, ha_addr, mark" },
	{ "clients", "id, name, mac, ip, grp, image, server, hot_standby, overlay, enabled, iqn, "
		     "created, updated, last_boot, chap_secret, chap_target_secret, auto_registered" },
};
#define NSHIPPED (sizeof(shipped) / sizeof(shipped[0]))

/* Runs one statement built from the table above (never from input); fmt refers to the
 * table as %1$s and its columns as %2$s. */
static int exec_fmt(struct db *db, const char *fmt, const char *table, const char *cols)
{
	char sql[512];
	char *msg = NULL;
	int rc;

	snprintf(sql, sizeof(sql), fmt, table, cols);
	rc = sqlite3_exec(db->h, sql, NULL, NULL, &msg);
	if (rc != SQLITE_OK) {
		rc = db_fail(db, sqlite3_extended_errcode(db->h));
		sqlite3_free(msg);
	}
	return rc;
}

static int exec_sql(struct db *db, const char *sql)
{
	return exec_fmt(db, "%1$s", sql, "");
}

int db_ship_snapshot(struct db *db, unsigned char **out, size_t *len, int64_t *seq)
{
	sqlite3_int64 size = 0;
	unsigned char *img;
	char version[32];
	size_t i;
	int rc;

	rc = exec_sql(db, "ATTACH ':memory:' AS snap");
	if (rc)
		return rc;
	/* One read transaction: the tables and change_seq come from the same instant. */
	rc = exec_sql(db, "BEGIN");
	for (i = 0; i < NSHIPPED && !rc; i++)
		rc = exec_fmt(db, "CREATE TABLE snap.%1$s AS SELECT %2$s FROM main.%1$s",
			      shipped[i].table, shipped[i].cols);
	if (!rc)
		rc = db_change_seq(db, seq);
	exec_sql(db, rc ? "ROLLBACK" : "COMMIT");
	snprintf(version, sizeof(version), "PRAGMA snap.user_version = %d", db_schema_version());
	if (!rc)
		rc = exec_sql(db, version);
	if (!rc) {
		img = sqlite3_serialize(db->h, "snap", &size, 0);
		if (!img)
			rc = db_error(db, -ENOMEM, "cannot serialize the snapshot");
	}
	exec_sql(db, "DETACH snap");
	if (rc)
		return rc;
	*out = img;
	*len = (size_t)size;
	return 0;
}

void db_ship_free(unsigned char *snap)
{
	sqlite3_free(snap);
}

static int shipped_version(struct db *db, int *version)
{
	sqlite3_stmt *st;
	int rc = sqlite3_prepare_v2(db->h, "PRAGMA shipped.user_version", -1, &st, NULL);

	if (rc != SQLITE_OK)
		return db_fail(db, rc);
	rc = sqlite3_step(st);
	*version = rc == SQLITE_ROW ? sqlite3_column_int(st, 0) : -1;
	rc = rc == SQLITE_ROW ? 0 : db_fail(db, sqlite3_extended_errcode(db->h));
	sqlite3_finalize(st);
	return rc;
}

/* The shipped rows, now in main, pass the checks the CLI makes of what an admin types: a
 * peer's name or path must not reach file paths, target names or iPXE scripts unchecked. */
static int validate_shipped(struct db *db)
{
	struct db_client *c = NULL;
	struct db_image *img = NULL;
	struct db_server *srv = NULL;
	size_t n, i;
	int rc;

	rc = db_client_all(db, &c, &n);
	for (i = 0; !rc && i < n; i++) {
		struct db_client k = c[i];

		rc = db_client_check(db, &k);
		if (!rc && (strcmp(k.iqn, c[i].iqn) || strcmp(k.mac, c[i].mac) ||
			    !db_secret_valid(c[i].chap_secret) ||
			    !db_secret_valid(c[i].chap_target_secret)))
			rc = db_error(db, -EINVAL, "client '%s': its IQN, MAC or secrets are not "
				      "what this server would make", c[i].name);
	}
	free(c);
	if (!rc)
		rc = db_image_all(db, &img, &n);
	for (i = 0; !rc && img && i < n; i++)
		rc = db_image_check(db, &img[i]);
	free(img);
	if (!rc)
		rc = db_server_all(db, &srv, &n);
	for (i = 0; !rc && srv && i < n; i++)
		rc = db_server_check(db, &srv[i]);
	free(srv);
	if (rc) {
		char why[256];

		snprintf(why, sizeof(why), "%s", db_errmsg(db));
		return db_error(db, -EINVAL, "shipped database refused: %s", why);
	}
	return 0;
}

int db_ship_apply(struct db *db, const unsigned char *snap, size_t len, int64_t *seq)
{
	unsigned char *copy;
	int version = -1, rc, frc;
	size_t i;

	if (len < 512 || len > DB_SHIP_MAX_BYTES || memcmp(snap, "SQLite format 3", 16) != 0)
		return db_error(db, -EBADMSG, "shipped database: not an SQLite image");
	/* SQLite owns the copy from here (FREEONCLOSE), also when deserialize fails. It is
	 * writable because BEGIN IMMEDIATE locks every attached database for writing. */
	copy = sqlite3_malloc64(len);
	if (!copy)
		return db_error(db, -ENOMEM, "shipped database: out of memory");
	memcpy(copy, snap, len);
	rc = exec_sql(db, "ATTACH ':memory:' AS shipped");
	if (rc) {
		sqlite3_free(copy);
		return rc;
	}
	if (sqlite3_deserialize(db->h, "shipped", copy, (sqlite3_int64)len, (sqlite3_int64)len,
				SQLITE_DESERIALIZE_FREEONCLOSE) !=
	    SQLITE_OK) {
		rc = db_error(db, -EBADMSG, "shipped database cannot be opened");
		goto out_detach;
	}
	rc = shipped_version(db, &version);
	if (rc)
		goto out_detach;
	if (version != db_schema_version()) {
		rc = db_error(db, -EPROTO, "shipped database has schema version %d, this server "
			      "has %d: upgrade both servers", version, db_schema_version());
		goto out_detach;
	}
	rc = db_begin(db);
	if (rc)
		goto out_detach;
	/* References are checked at commit, when every table holds the shipped rows. */
	rc = exec_sql(db, "PRAGMA defer_foreign_keys = ON");
	for (i = NSHIPPED; i-- > 0 && !rc;)
		rc = exec_fmt(db, "DELETE FROM main.%1$s", shipped[i].table, "");
	for (i = 0; i < NSHIPPED && !rc; i++)
		rc = exec_fmt(db, "INSERT INTO main.%1$s (%2$s) SELECT %2$s FROM shipped.%1$s",
			      shipped[i].table, shipped[i].cols);
	db->iqn_prefix[0] = '\0';	/* IQNs are checked against the shipped prefix */
	if (!rc)
		rc = validate_shipped(db);
	if (!rc)
		rc = db_change_seq(db, seq);
	if (rc) {
		db_rollback(db);
		db->iqn_prefix[0] = '\0';
		goto out_detach;
	}
	/* Not db_commit: it would count this as a local admin change and bump change_seq. */
	db->dirty = 0;
	rc = db_commit(db);
	if (rc == 0)
		db->iqn_prefix[0] = '\0';	/* the shipped settings may hold another prefix */
out_detach:
	frc = exec_sql(db, "DETACH shipped");
	return rc ? rc : frc;
}
