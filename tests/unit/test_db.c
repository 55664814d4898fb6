/* db/: schema creation and upgrade from version 1, constraints, lookups, the pair's role
 * rule, change sequence, foreign files refused. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "db/db.h"
#include "db/db_internal.h"
#include "tests/lib/tap.h"

static char dir[] = "/tmp/test_db.XXXXXX";

static void path_in(char *out, size_t len, const char *name)
{
	snprintf(out, len, "%s/%s", dir, name);
}

static struct db_client client(const char *name, const char *mac)
{
	struct db_client c = { .enabled = 1 };

	snprintf(c.name, sizeof(c.name), "%s", name);
	snprintf(c.mac, sizeof(c.mac), "%s", mac);
	return c;
}

static void test_upgrade_from_v1(void)
{
	char path[256], err[256];
	struct db_client c;
	struct db *db;
	const char *msg;
	sqlite3 *h;

	path_in(path, sizeof(path), "v1.db");
	ok(sqlite3_open(path, &h) == SQLITE_OK, "raw open");
	is_int(db_migrate(h, 1, err, sizeof(err)), 0, "build a version-1 database");
	ok(sqlite3_exec(h, "INSERT INTO clients (name, mac, iqn, created, updated) VALUES "
			"('PC001', '52:54:00:00:00:01', 'iqn.x:pc001', 1, 1)",
			NULL, NULL, NULL) == SQLITE_OK, "a v1 row");
	sqlite3_close(h);

	is_int(db_open(path, 0, &db, &msg), 0, "open upgrades the v1 database");
	if (!db)
		return;
	is_int(db_client_by_name(db, "PC001", &c), 0, "v1 client survives the upgrade");
	is_int(db_event_add(db, "info", "test", "upgraded"), 0, "v2 events table usable");
	db_close(db);
	ok(sqlite3_open(path, &h) == SQLITE_OK, "reopen raw");
	{
		sqlite3_stmt *st;
		sqlite3_prepare_v2(h, "PRAGMA user_version", -1, &st, NULL);
		sqlite3_step(st);
		is_int(sqlite3_column_int(st, 0), db_schema_version(), "user_version is current");
		sqlite3_finalize(st);
	}
	sqlite3_close(h);
}

static void test_foreign_and_corrupt(void)
{
	char path[256];
	struct db *db = NULL;
	const char *msg = NULL;
	sqlite3 *h;
	FILE *f;

	path_in(path, sizeof(path), "foreign.db");
	sqlite3_open(path, &h);
	sqlite3_exec(h, "CREATE TABLE t (x)", NULL, NULL, NULL);
	sqlite3_close(h);
	is_int(db_open(path, 0, &db, &msg), -EBADMSG, "another program's SQLite file is refused");
	ok(msg && strstr(msg, "not a vdisk database"), "and the message says so: %s", msg);

	path_in(path, sizeof(path), "garbage.db");
	f = fopen(path, "w");
	fputs("this is not a database file, just text that is long enough to matter......"
	      "................................................................", f);
	fclose(f);
	is_int(db_open(path, 0, &db, &msg), -EBADMSG, "a garbage file is refused");
	ok(db == NULL, "no handle on failure");

	path_in(path, sizeof(path), "missing.db");
	is_int(db_open(path, 0, &db, &msg), -ENOENT, "a missing file without CREATE is -ENOENT");
	ok(access(path, F_OK) != 0, "and no file was created");
}

static void test_clients(struct db *db)
{
	struct db_client c = client("PC001", "52-54-00-AA-BB-01"), d, *all;
	size_t n;
	char name[DB_NAME_MAX];
	int64_t seq0, seq1;

	db_change_seq(db, &seq0);
	is_int(db_client_insert(db, &c), 0, "insert PC001");
	is_str(c.mac, "52:54:00:aa:bb:01", "MAC stored in canonical form");
	is_str(c.iqn, DB_DEFAULT_IQN_PREFIX ":pc001", "iqn derived from the name, lower case");
	db_change_seq(db, &seq1);
	ok(seq1 == seq0 + 1, "an admin change bumps change_seq");

	is_int(db_client_by_mac(db, "52:54:00:aa:bb:01", &d), 0, "lookup by MAC");
	is_int(db_client_by_iqn(db, c.iqn, &d), 0, "lookup by iqn");
	is_str(d.name, "PC001", "right client");
	is_int(d.overlay, DB_OVERLAY_RESTORE, "restore is the default overlay mode");

	d = client("PC002", "52:54:00:aa:bb:01");
	is_int(db_client_insert(db, &d), -EEXIST, "duplicate MAC refused");
	ok(strstr(db_errmsg(db), "clients.mac") != NULL, "message names the column: %s",
	   db_errmsg(db));
	d = client("pc001", "52:54:00:aa:bb:02");
	is_int(db_client_insert(db, &d), -EEXIST, "names are unique regardless of case");
	d = client("PC 3", "52:54:00:aa:bb:03");
	is_int(db_client_insert(db, &d), -EINVAL, "a name with a space is refused");
	d = client("PC003", "52:54:00:aa:bb");
	is_int(db_client_insert(db, &d), -EINVAL, "a short MAC is refused");
	d = client("PC003", "52:54:00:aa:bb:03");
	strcpy(d.ip, "10.0.0.300");
	is_int(db_client_insert(db, &d), -EINVAL, "a bad IPv4 is refused");
	strcpy(d.ip, "10.0.0.3");
	strcpy(d.group, "nosuch");
	is_int(db_client_insert(db, &d), -EINVAL, "an unknown group is refused (foreign key)");
	d.group[0] = '\0';
	is_int(db_client_insert(db, &d), 0, "PC003 inserted");
	d.hot_standby = 1;
	strcpy(d.name, "PC010");
	is_int(db_client_update(db, &d), 0, "rename + hot standby");
	is_int(db_client_by_name(db, "PC010", &c), 0, "renamed client found");
	ok(c.hot_standby == 1 && strcmp(c.iqn, DB_DEFAULT_IQN_PREFIX ":pc010") == 0,
	   "update keeps fields and the iqn follows the name");

	is_int(db_client_next_name(db, "PC", name), 0, "next free name");
	is_str(name, "PC011", "after PC010 comes PC011");
	is_int(db_client_all(db, &all, &n), 0, "list all");
	is_int(n, 2, "two clients");
	ok(n == 2 && strcmp(all[0].name, "PC001") == 0, "ordered by name");
	free(all);
	is_int(db_client_delete(db, c.id), 0, "delete");
	is_int(db_client_delete(db, c.id), -ENOENT, "delete twice is -ENOENT");
	is_int(db_client_boot(db, d.id), 0, "record a boot");
}

static void test_servers(struct db *db)
{
	struct db_server a = { .name = "srv-a", .role = "primary", .mark = "active" };
	struct db_server b = { .name = "srv-b", .role = "primary", .mark = "active" };
	struct db_server got;

	strcpy(a.service_addr, "192.0.2.10");
	is_int(db_server_insert(db, &a), 0, "first primary");
	is_int(db_server_insert(db, &b), -EEXIST, "a second primary is refused");
	ok(strstr(db_errmsg(db), "already primary") != NULL, "message: %s", db_errmsg(db));
	strcpy(b.role, "secondary");
	is_int(db_server_insert(db, &b), 0, "the secondary");
	strcpy(b.mark, "asleep");
	is_int(db_server_update(db, &b), -EINVAL, "an unknown mark is refused");
	strcpy(b.mark, "maintenance");
	is_int(db_server_update(db, &b), 0, "maintenance");
	is_int(db_server_by_name(db, "srv-b", &got), 0, "lookup");
	is_str(got.mark, "maintenance", "mark stored");
	is_int(db_server_by_name(db, "srv-c", &got), -ENOENT, "unknown server");
}

static void test_txn(struct db *db)
{
	struct db_client c = client("PC050", "52:54:00:aa:bb:50"), d;

	is_int(db_begin(db), 0, "begin");
	is_int(db_client_insert(db, &c), 0, "insert inside a transaction");
	db_rollback(db);
	is_int(db_client_by_name(db, "PC050", &d), -ENOENT, "rollback leaves nothing");
}

int main(void)
{
	char path[256];
	struct db *db;
	const char *msg;

	if (!mkdtemp(dir))
		return 1;
	test_upgrade_from_v1();
	test_foreign_and_corrupt();
	path_in(path, sizeof(path), "main.db");
	is_int(db_open(path, DB_OPEN_CREATE, &db, &msg), 0, "create a database");
	test_clients(db);
	test_servers(db);
	test_txn(db);
	db_close(db);
	is_int(db_open(path, DB_OPEN_READONLY, &db, &msg), 0, "read-only open of a current db");
	db_close(db);
	{
		char cmd[300];
		snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
		ok(system(cmd) == 0, "clean up");
	}
	return done_testing();
}
