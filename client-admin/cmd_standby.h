/* vdiskctl standby: the pair's failover state through standbyd's control socket. */
#ifndef CLIENT_ADMIN_CMD_STANDBY_H
#define CLIENT_ADMIN_CMD_STANDBY_H

#define STANDBYD_DEFAULT_CTL "/run/vdisk/standbyd.sock"

/* argv[0] == "standby"; subcommands status | takeover NODE | release NODE |
 * maintenance NODE; option --ctl PATH. Errors are one line on stderr. Returns the process
 * exit status: 0 ok, 1 runtime failure, 2 usage. */
int cmd_standby(int argc, char **argv);

#endif
