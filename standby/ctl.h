/* standbyd's control socket: status, the admin's role requests, fencing (ctl.c). It works on
 * the daemon (daemon.h) from above; the program hands it to standbyd_run. */
#ifndef STANDBY_CTL_H
#define STANDBY_CTL_H

#include <jansson.h>

/* A ctl_handler_fn; arg is the struct standbyd. Every answer is one JSON object: status's
 * members are listed in docs/standby.md ("The status answer"). */
void sb_ctl_handle(void *arg, int argc, char **argv, json_t *answer);

#endif
