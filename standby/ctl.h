/* standbyd's control socket: status, the admin's role requests, fencing (ctl.c). It works on
 * the daemon (daemon.h) from above; the program hands it to standbyd_run. */
#ifndef STANDBY_CTL_H
#define STANDBY_CTL_H

#include <stdio.h>

/* A ctl_handler_fn; arg is the struct standbyd. */
void sb_ctl_handle(void *arg, int argc, char **argv, FILE *out);

#endif
