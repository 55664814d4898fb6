/* Test helper: puts clients, servers and settings into a vdisk DB through the DB API, and
 * prints events and clients, so pxed's tests do not depend on vdiskctl.
 *   pxe_dbseed DB client NAME MAC [ip=IP] [server=NAME] [hot_standby=0|1]
 *                                 [overlay=restore|persistent] [enabled=0|1] [group=NAME]
 *   pxe_dbseed DB bulk PREFIX COUNT      COUNT clients PREFIX001.. with MACs 02:00:00:00:HH:LL
 *   pxe_dbseed DB server NAME ROLE
 *   pxe_dbseed DB group NAME
 *   pxe_dbseed DB set KEY VALUE
 *   pxe_dbseed DB events                 one line per event: LEVEL MESSAGE
 *   pxe_dbseed DB show NAME              the client's fields (CHAP secrets too), one
 *                                        key=value a line */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "db/db.h"

static int fail(struct db *db, const char *what)
{
	fprintf(stderr, "pxe_dbseed: %s: %s\n", what, db ? db_errmsg(db) : "?");
	return 1;
}

static int add_client(struct db *db, int argc, char **argv)
{
	struct db_client c;
	int i;

	memset(&c, 0, sizeof(c));
	c.enabled = 1;
	snprintf(c.name, sizeof(c.name), "%s", argv[0]);
	snprintf(c.mac, sizeof(c.mac), "%s", argv[1]);
	for (i = 2; i < argc; i++) {
		char *v = strchr(argv[i], '=');

		if (!v)
			return 2;
		*v++ = '\0';
		if (strcmp(argv[i], "ip") == 0)
			snprintf(c.ip, sizeof(c.ip), "%s", v);
		else if (strcmp(argv[i], "server") == 0)
			snprintf(c.server, sizeof(c.server), "%s", v);
		else if (strcmp(argv[i], "group") == 0)
			snprintf(c.group, sizeof(c.group), "%s", v);
		else if (strcmp(argv[i], "hot_standby") == 0)
			c.hot_standby = atoi(v);
		else if (strcmp(argv[i], "enabled") == 0)
			c.enabled = atoi(v);
		else if (strcmp(argv[i], "overlay") == 0) {
			if (db_overlay_parse(v, &c.overlay))
				return 2;
		} else
			return 2;
	}
	return db_client_insert(db, &c) ? fail(db, "client") : 0;
}

int main(int argc, char **argv)
{
	struct db *db;
	const char *err = NULL;
	int rc = 0;

	if (argc < 3) {
		fprintf(stderr, "usage: pxe_dbseed DB client|bulk|server|group|set|events|show ...\n");
		return 2;
	}
	if (db_open(argv[1], DB_OPEN_CREATE, &db, &err)) {
		fprintf(stderr, "pxe_dbseed: %s: %s\n", argv[1], err ? err : "cannot open");
		return 1;
	}
	if (strcmp(argv[2], "client") == 0 && argc >= 5) {
		rc = add_client(db, argc - 3, argv + 3);
	} else if (strcmp(argv[2], "bulk") == 0 && argc == 5) {
		int i, n = atoi(argv[4]);

		db_begin(db);
		for (i = 1; i <= n && !rc; i++) {
			struct db_client c;

			memset(&c, 0, sizeof(c));
			c.enabled = 1;
			snprintf(c.name, sizeof(c.name), "%s%03d", argv[3], i);
			snprintf(c.mac, sizeof(c.mac), "02:00:00:00:%02x:%02x", (i >> 8) & 0xff, i & 0xff);
			if (db_client_insert(db, &c))
				rc = fail(db, "bulk client");
		}
		if (rc)
			db_rollback(db);
		else if (db_commit(db))
			rc = fail(db, "commit");
	} else if (strcmp(argv[2], "server") == 0 && argc == 5) {
		struct db_server s;

		memset(&s, 0, sizeof(s));
		snprintf(s.name, sizeof(s.name), "%s", argv[3]);
		snprintf(s.role, sizeof(s.role), "%s", argv[4]);
		snprintf(s.mark, sizeof(s.mark), "active");
		if (db_server_insert(db, &s))
			rc = fail(db, "server");
	} else if (strcmp(argv[2], "group") == 0 && argc == 4) {
		struct db_group g;

		memset(&g, 0, sizeof(g));
		snprintf(g.name, sizeof(g.name), "%s", argv[3]);
		if (db_group_insert(db, &g))
			rc = fail(db, "group");
	} else if (strcmp(argv[2], "set") == 0 && argc == 5) {
		if (db_setting_set(db, argv[3], argv[4]))
			rc = fail(db, "setting");
	} else if (strcmp(argv[2], "events") == 0 && argc == 3) {
		struct db_event *ev;
		size_t n, i;

		if (db_event_recent(db, 0, &ev, &n))
			rc = fail(db, "events");
		else {
			for (i = 0; i < n; i++)
				printf("%s %s\n", ev[i].level, ev[i].message);
			free(ev);
		}
	} else if (strcmp(argv[2], "show") == 0 && argc == 4) {
		struct db_client c;

		if (db_client_by_name(db, argv[3], &c))
			rc = fail(db, "show");
		else
			printf("name=%s\nmac=%s\nip=%s\ngroup=%s\niqn=%s\nlast_boot=%lld\n"
			       "chap_secret=%s\nchap_target_secret=%s\n", c.name, c.mac, c.ip,
			       c.group, c.iqn, (long long)c.last_boot, c.chap_secret,
			       c.chap_target_secret);
	} else {
		fprintf(stderr, "pxe_dbseed: bad arguments\n");
		rc = 2;
	}
	db_close(db);
	return rc;
}
