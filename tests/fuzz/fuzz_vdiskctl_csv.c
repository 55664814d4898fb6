/* libFuzzer: CSV client import (reader and every row check) against a small database. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#include "client-admin/import.h"

static struct db *db;
static FILE *devnull;

static void setup(void)
{
	struct db_group g = { .name = "hall" };
	struct db_image img = { .name = "win10", .path = "/srv/win10.img", .size = 1 << 20 };
	struct db_client c = { .name = "PC001", .mac = "52:54:00:00:00:01", .enabled = 1 };

	if (db_open(":memory:", DB_OPEN_CREATE, &db, NULL))
		abort();
	db_image_insert(db, &img);
	db_group_insert(db, &g);
	db_client_insert(db, &c);
	devnull = fopen("/dev/null", "w");
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct db_client *rows = NULL;
	size_t n;
	unsigned nbad;

	if (!db)
		setup();
	if (import_check(db, (const char *)data, size, devnull, &rows, &n, &nbad) == 0)
		free(rows);
	return 0;
}
