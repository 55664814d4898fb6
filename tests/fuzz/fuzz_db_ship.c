/* libFuzzer: applying a shipped database image (authenticated on the wire, but a bug on the
 * sender or a damaged copy must still be refused cleanly). */
#include <stdint.h>
#include <stdlib.h>

#include "db/ship.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct db *db;
	int64_t seq;

	if (!db && db_open(":memory:", DB_OPEN_CREATE, &db, NULL))
		abort();
	db_ship_apply(db, data, size, &seq);
	return 0;
}
