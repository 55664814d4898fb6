/* Test helper: a database at an older schema version, with one client, as an older vdisk
 * left it; for upgrade tests (tests/deploy/pair.t).
 *   db_oldschema PATH VERSION     (PATH must not exist; VERSION 1 to the current - 1) */
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>

#include "db/db_internal.h"

int main(int argc, char **argv)
{
	char err[256] = "";
	sqlite3 *h;
	int v;

	if (argc != 3 || (v = atoi(argv[2])) < 1 || v >= db_schema_version()) {
		fprintf(stderr, "usage: db_oldschema PATH VERSION (1 to %d)\n",
			db_schema_version() - 1);
		return 2;
	}
	if (sqlite3_open_v2(argv[1], &h, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE |
			    SQLITE_OPEN_EXCLUSIVE, NULL) != SQLITE_OK) {
		fprintf(stderr, "db_oldschema: %s: %s\n", argv[1], sqlite3_errmsg(h));
		return 1;
	}
	if (db_migrate(h, v, err, sizeof(err)) != 0 ||
	    sqlite3_exec(h, "INSERT INTO clients (name, mac, iqn, created, updated) VALUES "
			 "('OLD001', '52:54:00:7f:00:01', 'iqn.2026-11.lan.vdisk:old001', 1, 1)",
			 NULL, NULL, NULL) != SQLITE_OK) {
		fprintf(stderr, "db_oldschema: %s\n", err[0] ? err : sqlite3_errmsg(h));
		sqlite3_close(h);
		return 1;
	}
	sqlite3_close(h);
	chmod(argv[1], 0640);
	return 0;
}
