/* Opening the database for a command: an editing command asks the local standbyd first
 * (standby_guard.h), since edits belong on the active server. */
#include "client-admin/cli_db.h"

#include <errno.h>
#include <string.h>

#include "client-admin/standby_guard.h"

int cli_db_fail(const struct cli *cli, const char *what)
{
	return cli_fail(cli, "%s: %s", what, db_errmsg(cli->db));
}

int cli_open_db(struct cli *cli, int flags)
{
	const char *msg = NULL;
	int rc;

	/* Flags 0 is how every editing command opens the DB: edits go to the active server. */
	if (!flags && (rc = standby_guard(cli)))
		return rc;
	rc = db_open(cli->db_path, flags, &cli->db, &msg);
	if (rc == -ENOENT)
		return cli_fail(cli, "no database at %s (create one with 'vdiskctl init', or "
				"give --db PATH)", cli->db_path);
	if (rc)
		return cli_fail(cli, "%s: %s", cli->db_path, msg ? msg : strerror(-rc));
	return 0;
}
