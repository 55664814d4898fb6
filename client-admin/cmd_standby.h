/* vdiskctl standby: the pair's failover state through standbyd's control socket. */
#ifndef CLIENT_ADMIN_CMD_STANDBY_H
#define CLIENT_ADMIN_CMD_STANDBY_H

#include "client-admin/cli.h"

/* argv[0] == "standby"; subcommands status | takeover NODE | release NODE |
 * maintenance NODE; option --ctl PATH (default: standbyd.sock in the run directory). */
int cmd_standby(struct cli *cli, int argc, char **argv);

#endif
