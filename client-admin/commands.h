/* vdiskctl's command groups. Each takes argv with argv[0] = the group's name and returns the
 * process exit status (0 ok, 1 runtime failure, 2 usage). */
#ifndef CLIENT_ADMIN_COMMANDS_H
#define CLIENT_ADMIN_COMMANDS_H

#include "client-admin/subcommand.h"

int cmd_init(struct cli *cli, int argc, char **argv);
int cmd_backup(struct cli *cli, int argc, char **argv);
int cmd_client(struct cli *cli, int argc, char **argv);
int cmd_server(struct cli *cli, int argc, char **argv);
int cmd_image(struct cli *cli, int argc, char **argv);
/* `image sync NAME`: cmd_image_sync.c */
int image_sync(struct cli *cli, int argc, char **argv);
int cmd_group(struct cli *cli, int argc, char **argv);
int cmd_setting(struct cli *cli, int argc, char **argv);
int cmd_events(struct cli *cli, int argc, char **argv);
int cmd_status(struct cli *cli, int argc, char **argv);
int cmd_mirror(struct cli *cli, int argc, char **argv);
int cmd_doctor(struct cli *cli, int argc, char **argv);

#endif
