/* Unix control socket shared by the daemons (server side) and vdiskctl (client side).
 *
 * Protocol: the client sends one request line ("status", "overlay-reset PC001", ...), the
 * server answers and closes. The answer's first line is "ok" or "error: <why>"; any further
 * lines are the body. Requests are capped at CTL_MAX_REQUEST bytes; only root and the daemon's
 * own user may connect (SO_PEERCRED). */
#ifndef COMMON_CTLSOCK_H
#define COMMON_CTLSOCK_H

#include <stdio.h>

#include "common/evloop.h"

#define CTL_MAX_REQUEST 4096
#define CTL_MAX_ARGS 32

struct ctl_server;

/* Writes the answer to out (an open_memstream the server sends when the handler returns). */
typedef void (*ctl_handler_fn)(void *arg, int argc, char **argv, FILE *out);

/* Creates the socket file with mode 0660 before listen(), replacing a stale one, and its
 * directory (0755) if there is none. The group may connect: on a server the daemons reach
 * each other through the group vdisk (vdiskd runs as user vdisk, standbyd as root without
 * CAP_DAC_OVERRIDE; /run/vdisk is setgid vdisk), and nobody else. A caller is answered when
 * it is root or this daemon's user, or, for ctl_server_group_allow's requests, of one of
 * this daemon's groups (SO_PEERCRED).
 * Returns 0 or a negative errno. */
int ctl_server_open(struct evloop *loop, const char *path, ctl_handler_fn fn, void *arg,
		    struct ctl_server **out);
/* The requests (their first words; NULL-terminated, kept, not copied) that a caller let in
 * by its group alone may make: the daemons of the pair call each other so (vdiskd asks
 * standbyd to fence, pxed asks vdiskd for an overlay reset), the admin's commands stay root's.
 * Without it such a caller may ask for the status alone. */
void ctl_server_group_allow(struct ctl_server *srv, const char *const *requests);
/* Closes the socket, drops open connections and removes the socket file. */
void ctl_server_close(struct ctl_server *srv);

/* Client: sends request, waits up to timeout_ms for the whole answer. On success *reply is a
 * NUL-terminated string the caller frees. Returns 0 or a negative errno (-ECONNREFUSED,
 * -ENOENT when no daemon listens, -ETIMEDOUT, -EMSGSIZE past 1 MiB). */
int ctl_call(const char *path, const char *request, int timeout_ms, char **reply);

/* Client, for daemons: the same request without blocking the caller's event loop. fn is
 * called exactly once, from the loop, with 0 and the whole answer (valid only during the
 * call), or a negative errno (-ENOENT/-ECONNREFUSED when no daemon listens, -ETIMEDOUT).
 * Returns 0, or a negative errno and then fn is never called. ctl_call_cancel drops a
 * request in flight: fn is not called. */
struct ctl_req;
typedef void (*ctl_reply_fn)(void *arg, int rc, const char *reply);
int ctl_call_start(struct evloop *loop, const char *path, const char *request, int timeout_ms,
		   ctl_reply_fn fn, void *arg, struct ctl_req **out);
void ctl_call_cancel(struct ctl_req *req);
/* ctl_call_start's two halves, for a daemon whose request another process must send (a
 * daemon answers some requests from root only: standbyd's privileged helper sends them, and
 * hands the socket over). ctl_call_send connects and sends request; it returns the socket
 * (non-blocking) or a negative errno. ctl_call_wait takes fd over (closed on failure too)
 * and reads its answer as ctl_call_start does. */
int ctl_call_send(const char *path, const char *request);
int ctl_call_wait(struct evloop *loop, int fd, int timeout_ms, ctl_reply_fn fn, void *arg,
		  struct ctl_req **out);

/* Reading an answer: the value of its first line "KEY VALUE" or "KEY: VALUE" (vdiskd says
 * the one, standbyd and pxed the other), *len its length up to the end of that line (without
 * a CR); NULL when no line has that key. */
const char *ctl_field(const char *reply, const char *key, size_t *len);

#endif
