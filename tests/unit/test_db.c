/* db/: schema creation and upgrade from version 1, constraints, lookups, the pair's role
 * rule, change sequence, foreign files refused; CHAP secrets (made on insert, by the upgrade
 * and on renewal, never equal, never changed by an update, no biased or failed random
 * source accepted) and the file's mode. */
#include <errno.h>
#include <sys/stat.h>
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
	ok(sqlite3_exec(h, "INSERT INTO clients (name, mac, iqn, created, updated) VALUES "
			"('PC002', '52:54:00:00:00:02', 'iqn.x:pc002', 1, 1)",
			NULL, NULL, NULL) == SQLITE_OK, "a second v1 row");
	sqlite3_close(h);
	chmod(path, 0644);	/* as SQLite made it before */

	is_int(db_open(path, 0, &db, &msg), 0, "open upgrades the v1 database");
	if (!db)
		return;
	is_int(db_client_by_name(db, "PC001", &c), 0, "v1 client survives the upgrade");
	{
		struct db_client c2;

		ok(db_secret_valid(c.chap_secret) && db_secret_valid(c.chap_target_secret),
		   "the upgrade gave PC001 two well-formed secrets");
		ok(strcmp(c.chap_secret, c.chap_target_secret) != 0, "and they differ");
		is_int(db_client_by_name(db, "PC002", &c2), 0, "PC002 survives too");
		ok(db_secret_valid(c2.chap_secret) && strcmp(c2.chap_secret, c.chap_secret) != 0 &&
		   strcmp(c2.chap_target_secret, c.chap_target_secret) != 0,
		   "with secrets of its own");
		is_str(c.iqn, "iqn.x:pc001", "and every old column is kept");
		ok(c.created == 1 && c.updated == 1, "times too");
	}
	{
		struct stat sb;

		ok(stat(path, &sb) == 0 && (sb.st_mode & 0777) == 0640,
		   "the read-write open took the world's read bit off an old 0644 file (%o)",
		   (unsigned)(sb.st_mode & 0777));
	}
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

/* Random source for the tests: fails, repeats one byte, or serves a script of bytes. */
static int rnd_mode;		/* 0 fail, 1 constant, 2 script then getrandom */
static const unsigned char *rnd_script;
static size_t rnd_left;

static int fake_random(void *buf, size_t len)
{
	unsigned char *p = buf;
	size_t i;

	if (rnd_mode == 0)
		return -ENOSYS;
	for (i = 0; i < len; i++)
		if (rnd_mode == 1)
			p[i] = 7;
		else if (rnd_left) {
			p[i] = *rnd_script++;
			rnd_left--;
		} else
			p[i] = (unsigned char)(i * 37 + 11) % 62;
	return 0;
}

static void test_secrets(struct db *db)
{
	struct db_client c = client("PC200", "52:54:00:aa:cc:00"), d, e;
	char s[DB_SECRET_MAX];
	unsigned char script[64];
	int64_t seq0, seq1;
	int i;

	is_int(db_secret_generate(s), 0, "generate a secret");
	ok(db_secret_valid(s), "16 characters of [A-Za-z0-9]: %zu", strlen(s));
	ok(!db_secret_valid(""), "must fail: empty");
	ok(!db_secret_valid("abcdefghijklmno"), "must fail: 15 characters");
	ok(!db_secret_valid("abcdefghijklmnopq"), "must fail: 17 characters");
	ok(!db_secret_valid("abcdefghijklmn-p"), "must fail: a '-'");
	ok(!db_secret_valid("abcdefghijklmn p"), "must fail: a space");
	ok(!db_secret_valid("abcdefghijklmn\xe9"), "must fail: a byte over 127");

	strcpy(c.chap_secret, "AAAAAAAAAAAAAAAA");
	strcpy(c.chap_target_secret, "AAAAAAAAAAAAAAAA");
	is_int(db_client_insert(db, &c), 0, "insert PC200 with secrets of its own");
	ok(db_secret_valid(c.chap_secret) && db_secret_valid(c.chap_target_secret),
	   "insert made two secrets");
	ok(strcmp(c.chap_secret, "AAAAAAAAAAAAAAAA") != 0, "the caller's were replaced");
	ok(strcmp(c.chap_secret, c.chap_target_secret) != 0, "and they differ");
	is_int(db_client_by_name(db, "PC200", &d), 0, "read back");
	ok(strcmp(d.chap_secret, c.chap_secret) == 0 &&
	   strcmp(d.chap_target_secret, c.chap_target_secret) == 0, "the stored secrets");

	e = d;
	e.chap_secret[0] = '\0';
	strcpy(e.chap_target_secret, "x");
	e.hot_standby = 1;
	is_int(db_client_update(db, &e), 0, "update with the secrets blanked in the struct");
	is_int(db_client_by_name(db, "PC200", &e), 0, "read back");
	ok(e.hot_standby == 1 && strcmp(e.chap_secret, d.chap_secret) == 0 &&
	   strcmp(e.chap_target_secret, d.chap_target_secret) == 0,
	   "an update never changes the secrets");

	db_change_seq(db, &seq0);
	is_int(db_client_new_secrets(db, d.id, &e), 0, "renew PC200's secrets");
	db_change_seq(db, &seq1);
	ok(seq1 == seq0 + 1, "renewal is an admin change (shipped to the peer)");
	ok(strcmp(e.chap_secret, d.chap_secret) != 0 &&
	   strcmp(e.chap_target_secret, d.chap_target_secret) != 0, "both are new");
	is_int(db_client_by_name(db, "PC200", &d), 0, "read back");
	ok(strcmp(d.chap_secret, e.chap_secret) == 0 && strcmp(d.chap_target_secret,
	   e.chap_target_secret) == 0, "stored as returned");
	is_int(db_client_new_secrets(db, 999999, NULL), -ENOENT, "no such client: -ENOENT");

	/* The database refuses what the C code would never write. */
	ok(sqlite3_exec(db->h, "UPDATE clients SET chap_target_secret = chap_secret WHERE "
			"name = 'PC200'", NULL, NULL, NULL) != SQLITE_OK,
	   "must fail: equal secrets (CHECK)");
	ok(sqlite3_exec(db->h, "UPDATE clients SET chap_secret = 'short' WHERE name = 'PC200'",
			NULL, NULL, NULL) != SQLITE_OK, "must fail: a short secret (CHECK)");
	ok(sqlite3_exec(db->h, "UPDATE clients SET chap_secret = 'abcdefghijklmn;p' WHERE "
			"name = 'PC200'", NULL, NULL, NULL) != SQLITE_OK,
	   "must fail: a ';' in a secret (CHECK)");

	/* A random source that fails, or repeats itself, makes no client. */
	db_random_hook = fake_random;
	rnd_mode = 0;
	c = client("PC201", "52:54:00:aa:cc:01");
	is_int(db_client_insert(db, &c), -ENOSYS, "no random bytes: insert fails");
	is_int(db_client_by_name(db, "PC201", &d), -ENOENT, "and nothing was inserted");
	is_int(db_client_new_secrets(db, e.id, NULL), -ENOSYS, "renewal fails too");
	rnd_mode = 1;
	is_int(db_client_insert(db, &c), -EIO, "a source that repeats itself: equal secrets "
	       "are refused");
	is_int(db_client_by_name(db, "PC201", &d), -ENOENT, "and nothing was inserted");
	/* Bytes 248..255 would favour 'A'..'H' under % 62: they are drawn again. */
	for (i = 0; i < 64; i++)
		script[i] = (unsigned char)(i < 48 ? 248 + i % 8 : 26 + i % 16);
	rnd_mode = 2;
	rnd_script = script;
	rnd_left = sizeof(script);
	is_int(db_secret_generate(s), 0, "generate from biased bytes");
	is_str(s, "abcdefghijklmnop", "bytes at or over 248 were skipped");
	db_random_hook = NULL;
}

/* The upgrade to version 3 needs random bytes: without them it changes nothing. */
static void test_upgrade_no_random(void)
{
	char path[256], err[256];
	struct db_client c;
	struct db *db = NULL;
	const char *msg = NULL;
	sqlite3 *h;
	sqlite3_stmt *st;

	path_in(path, sizeof(path), "v2.db");
	ok(sqlite3_open(path, &h) == SQLITE_OK, "raw open");
	is_int(db_migrate(h, 2, err, sizeof(err)), 0, "build a version-2 database");
	sqlite3_exec(h, "INSERT INTO clients (name, mac, iqn, created, updated) VALUES "
		     "('PC001', '52:54:00:00:00:01', 'iqn.x:pc001', 1, 1)", NULL, NULL, NULL);
	sqlite3_close(h);
	db_random_hook = fake_random;
	rnd_mode = 0;
	ok(db_open(path, 0, &db, &msg) != 0, "no random bytes: the upgrade fails: %s",
	   msg ? msg : "?");
	ok(msg && strstr(msg, "CHAP secrets"), "and says why");
	db_random_hook = NULL;
	sqlite3_open(path, &h);
	sqlite3_prepare_v2(h, "PRAGMA user_version", -1, &st, NULL);
	sqlite3_step(st);
	is_int(sqlite3_column_int(st, 0), 2, "the database is still version 2");
	sqlite3_finalize(st);
	sqlite3_close(h);
	is_int(db_open(path, 0, &db, &msg), 0, "with random bytes the upgrade goes through");
	ok(db && db_client_by_name(db, "PC001", &c) == 0 && db_secret_valid(c.chap_secret),
	   "PC001 has its secrets");
	db_close(db);
}

static void test_file_mode(void)
{
	char path[256], wal[280];
	struct stat sb;
	struct db *db;
	mode_t old = umask(022);

	path_in(path, sizeof(path), "mode.db");
	is_int(db_open(path, DB_OPEN_CREATE, &db, NULL), 0, "create a database (umask 022)");
	ok(stat(path, &sb) == 0 && (sb.st_mode & 0777) == 0640, "created 0640, not 0644: %o",
	   (unsigned)(sb.st_mode & 0777));
	snprintf(wal, sizeof(wal), "%s-wal", path);
	db_event_add(db, "info", "test", "a write makes the WAL");
	ok(stat(wal, &sb) == 0 && (sb.st_mode & 0777) == 0640, "its -wal too: %o",
	   (unsigned)(sb.st_mode & 0777));
	db_close(db);

	/* a directory a group shares (setgid, as /var/lib/vdisk): the group writes too */
	path_in(path, sizeof(path), "shared");
	ok(mkdir(path, 0770) == 0 && chmod(path, 02770) == 0, "a setgid directory");
	path_in(path, sizeof(path), "shared/vdisk.db");
	is_int(db_open(path, DB_OPEN_CREATE, &db, NULL), 0, "create a database in it (umask 022)");
	ok(stat(path, &sb) == 0 && (sb.st_mode & 0777) == 0660, "created 0660: %o",
	   (unsigned)(sb.st_mode & 0777));
	snprintf(wal, sizeof(wal), "%s-wal", path);
	db_event_add(db, "info", "test", "a write makes the WAL");
	ok(stat(wal, &sb) == 0 && (sb.st_mode & 0777) == 0660, "its -wal too: %o",
	   (unsigned)(sb.st_mode & 0777));
	db_close(db);
	umask(old);
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

static void test_auto_registered(struct db *db)
{
	struct db_client c = client("PC300", "52:54:00:aa:dd:00"), d;
	int64_t n0, n;

	is_int(db_client_count_auto(db, &n0), 0, "count auto-registered clients");
	c.auto_registered = 1;
	is_int(db_client_insert(db, &c), 0, "insert an auto-registered client");
	db_client_count_auto(db, &n);
	is_int(n, n0 + 1, "counted");
	is_int(db_client_by_name(db, "PC300", &d), 0, "read back");
	is_int(d.auto_registered, 1, "the flag is stored");
	d.auto_registered = 0;
	is_int(db_client_update(db, &d), 0, "an admin accepts it");
	db_client_count_auto(db, &n);
	is_int(n, n0, "no longer counted");
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
	test_file_mode();
	test_upgrade_no_random();
	path_in(path, sizeof(path), "main.db");
	is_int(db_open(path, DB_OPEN_CREATE, &db, &msg), 0, "create a database");
	test_clients(db);
	test_servers(db);
	test_txn(db);
	test_secrets(db);
	test_auto_registered(db);
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
