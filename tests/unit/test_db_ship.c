/* DB shipping: a snapshot of one server's admin tables applied to the other replaces them
 * whole, keeps the receiver's own events, and carries change_seq; damaged or foreign
 * snapshots change nothing. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "db/ship.h"
#include "tests/lib/tap.h"

static struct db *open_db(const char *dir, const char *name)
{
	char path[256];
	struct db *db = NULL;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	db_open(path, DB_OPEN_CREATE, &db, NULL);
	return db;
}

static void add(struct db *db, const char *name, const char *mac, int hs)
{
	struct db_client c = { .enabled = 1, .hot_standby = hs };

	strcpy(c.name, name);
	strcpy(c.mac, mac);
	if (db_client_insert(db, &c))
		printf("# add %s: %s\n", name, db_errmsg(db));
}

static size_t nclients(struct db *db)
{
	struct db_client *all;
	size_t n = 0;

	if (db_client_all(db, &all, &n) == 0)
		free(all);
	return n;
}

/* Rows an admin could never have typed, written straight into A's file: a snapshot carrying
 * them is refused as a whole and B keeps what it had. */
static void test_forged_rows(const char *dir, struct db *a, struct db *b)
{
	static const struct { const char *sql, *what; } v[] = {
		{ "UPDATE images SET path = '../../etc/shadow'", "a relative image path" },
		{ "UPDATE images SET path = '/srv/../etc/shadow'", "an image path with '..'" },
		{ "UPDATE clients SET name = 'x/../../y' WHERE name = 'PC002'",
		  "a client name with '/'" },
		{ "UPDATE clients SET iqn = 'iqn.2026-11.lan.vdisk:pc001x' WHERE name = 'PC001'",
		  "an IQN not made from the name" },
		{ "UPDATE servers SET service_addr = '10.0.0.1; reboot'", "a server address" },
	};
	unsigned char *snap;
	size_t len;
	int64_t seq;
	char cmd[600];

	for (size_t i = 0; i < sizeof(v) / sizeof(v[0]); i++) {
		/* .backup: a copy of the file alone would miss what sits in its -wal */
		snprintf(cmd, sizeof(cmd), "sqlite3 %s/a.db \".backup '%s/f.db'\" && "
			 "sqlite3 %s/f.db \"%s\"", dir, dir, dir, v[i].sql);
		if (system(cmd) != 0) {
			ok(0, "forge %s", v[i].what);
			continue;
		}
		{
			struct db *f = open_db(dir, "f.db");

			db_ship_snapshot(f, &snap, &len, &seq);
			db_close(f);
		}
		ok(db_ship_apply(b, snap, len, &seq) == -EINVAL, "a snapshot with %s is refused: %s",
		   v[i].what, db_errmsg(b));
		db_ship_free(snap);
	}
	(void)a;
	is_int(nclients(b), 2, "B kept its clients");
}

int main(void)
{
	char dir[] = "/tmp/test_db_ship.XXXXXX", cmd[300];
	struct db *a, *b;
	struct db_client c;
	struct db_event *ev;
	struct db_group g = { .name = "hall", .image = "win10" };
	struct db_image img = { .name = "win10", .path = "/srv/win10.img", .size = 1 << 30 };
	struct db_server s = { .name = "srv-a", .role = "primary", .mark = "active" };
	unsigned char *snap, *bad;
	size_t len, n;
	int64_t seq_a, seq_b, seq;

	if (!mkdtemp(dir))
		return 1;
	a = open_db(dir, "a.db");
	b = open_db(dir, "b.db");
	ok(a && b, "two databases");
	db_image_insert(a, &img);
	db_group_insert(a, &g);
	db_server_insert(a, &s);
	add(a, "PC001", "52:54:00:00:00:01", 1);
	add(a, "PC002", "52:54:00:00:00:02", 0);
	add(b, "OLD001", "52:54:00:00:00:99", 0);
	db_event_add(b, "warning", "standbyd", "peer dead: a local event");

	is_int(db_ship_snapshot(a, &snap, &len, &seq_a), 0, "snapshot of A");
	ok(len > 0 && seq_a > 0, "snapshot has bytes (%zu) and a change_seq (%lld)", len,
	   (long long)seq_a);
	is_int(db_ship_apply(b, snap, len, &seq), 0, "applied to B");
	is_int(seq, seq_a, "B reports A's change_seq");
	db_change_seq(b, &seq_b);
	is_int(seq_b, seq_a, "B's change_seq is A's: the versions compare equal");
	is_int(nclients(b), 2, "B has exactly A's clients");
	ok(db_client_by_name(b, "OLD001", &c) == -ENOENT, "B's old client is gone");
	ok(db_client_by_name(b, "PC001", &c) == 0 && c.hot_standby == 1 &&
	   strcmp(c.iqn, "iqn.2026-11.lan.vdisk:pc001") == 0, "hot-standby flag and iqn shipped");
	{
		struct db_client ca;

		ok(db_client_by_name(a, "PC001", &ca) == 0 &&
		   strcmp(c.chap_secret, ca.chap_secret) == 0 &&
		   strcmp(c.chap_target_secret, ca.chap_target_secret) == 0 &&
		   db_secret_valid(c.chap_secret),
		   "both CHAP secrets shipped: the standby's vdiskd checks the same ones");
	}
	ok(db_server_by_name(b, "srv-a", &s) == 0 && strcmp(s.role, "primary") == 0,
	   "servers shipped");
	ok(db_event_recent(b, 0, &ev, &n) == 0 && n >= 1 &&
	   strcmp(ev[n - 1].message, "peer dead: a local event") == 0, "B's own events stay");
	free(ev);

	/* Damaged snapshot: B unchanged. */
	bad = malloc(len);
	memcpy(bad, snap, len);
	memset(bad + len / 2, 0xa5, len / 4);
	ok(db_ship_apply(b, bad, len, &seq) != 0, "a damaged snapshot is refused: %s",
	   db_errmsg(b));
	is_int(nclients(b), 2, "and B is unchanged");
	is_int(db_ship_apply(b, (const unsigned char *)"garbage", 7, &seq), -EBADMSG,
	       "a short garbage snapshot is refused");
	memset(bad, 0, len);
	is_int(db_ship_apply(b, bad, len, &seq), -EBADMSG, "a zeroed snapshot is refused");
	free(bad);

	/* A later edit on A reaches B on the next ship; B's later reads see it. */
	is_int(db_client_by_name(a, "PC002", &c), 0, "A: PC002");
	c.hot_standby = 1;
	db_client_update(a, &c);
	db_ship_free(snap);
	db_ship_snapshot(a, &snap, &len, &seq_a);
	is_int(db_ship_apply(b, snap, len, &seq), 0, "second ship");
	ok(db_client_by_name(b, "PC002", &c) == 0 && c.hot_standby == 1, "the edit arrived");
	is_int(seq, seq_a, "change_seq follows");
	db_ship_free(snap);

	test_forged_rows(dir, a, b);
	db_close(a);
	db_close(b);
	snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
	ok(system(cmd) == 0, "clean up");
	return done_testing();
}
