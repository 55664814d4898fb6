/* Reaching the local daemons' control sockets: <run dir>/<daemon>.sock, the run dir being
 * $VDISK_RUN_DIR or /run/vdisk. */
#ifndef CLIENT_ADMIN_DAEMONS_H
#define CLIENT_ADMIN_DAEMONS_H

#include <jansson.h>
#include <stddef.h>

#include "client-admin/cli.h"

#define VDISK_DEFAULT_RUN_DIR "/run/vdisk"
#define DAEMON_TIMEOUT_MS 3000

/* <run dir>/<daemon>.sock into path; 0, or EXIT_FAIL after saying why. */
int daemon_socket_path(struct cli *cli, const char *daemon, char *path, size_t len);

/* Sends request to daemon ("vdiskd", "standbyd", "pxed"). On success (the daemon answered
 * ok) *answer is its answer (the caller json_decrefs it) and 0 is returned. Otherwise the
 * error is printed and the exit code returned: 1 when the daemon is not running, does not
 * answer, answers what is not an answer, or answers an error. quiet_absent suppresses the
 * message for a daemon that is not running (rc -ENOENT/-ECONNREFUSED then returns 1
 * silently). */
int daemon_call(struct cli *cli, const char *daemon, const char *request, json_t **answer,
		int quiet_absent);

/* The same with an explicit socket path (a command's --ctl option). */
int daemon_call_at(struct cli *cli, const char *daemon, const char *path, const char *request,
		   int timeout_ms, json_t **answer, int quiet_absent);

#endif
