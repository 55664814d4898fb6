/* Opening the database for a vdiskctl command, and reporting a failed database call. */
#ifndef CLIENT_ADMIN_CLI_DB_H
#define CLIENT_ADMIN_CLI_DB_H

#include "client-admin/cli.h"

/* Reports a failed db call: "vdiskctl client set: <what>: <db message>"; returns 1. */
int cli_db_fail(const struct cli *cli, const char *what);

/* Opens cli->db_path; on failure prints why and returns the exit code, else 0. flags 0 (how
 * every editing command opens it) asks the local standbyd first: edits go to the active
 * server. */
int cli_open_db(struct cli *cli, int flags);

#endif
