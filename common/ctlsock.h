/* Unix control socket shared by the daemons (server side) and vdiskctl (client side).
 *
 * Protocol, the same for every daemon: the client sends one request line of words
 * ("status", "overlay-reset PC001", ...), the server answers with one JSON object on one line
 * and closes. The answer is {"ok":true, ...members} or {"ok":false,"error":"<why>"}; numbers
 * are JSON numbers, lists arrays. Requests are capped at CTL_MAX_REQUEST bytes; only root and
 * the daemon's own user may connect (SO_PEERCRED). */
#ifndef COMMON_CTLSOCK_H
#define COMMON_CTLSOCK_H

#include <jansson.h>
#include <stdint.h>

#include "common/evloop.h"

#define CTL_MAX_REQUEST 4096
#define CTL_MAX_ARGS 32

struct ctl_server;

/* Fills answer, an object that starts as {"ok":true}, through ctl_set, ctl_add, ctl_push and
 * ctl_fail; the server sends it when the handler returns. */
typedef void (*ctl_handler_fn)(void *arg, int argc, char **argv, json_t *answer);

/* Building an answer. Each takes ownership of the value it is given. A NULL value (a failed
 * json_pack or allocation) turns the answer into an error, so that a member is never
 * silently missing; after ctl_fail, members are dropped.
 * ctl_set: the member key. ctl_add: every member of the object members (a json_pack).
 * ctl_push: value appended to array, a member of answer. */
void ctl_set(json_t *answer, const char *key, json_t *value);
/* ctl_set of a counter (a JSON integer). */
void ctl_set_count(json_t *answer, const char *key, uint64_t v);
void ctl_add(json_t *answer, json_t *members);
void ctl_push(json_t *answer, json_t *array, json_t *value);
/* The answer becomes {"ok":false,"error":<the message>}. */
void ctl_fail(json_t *answer, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* A JSON string of s, for text that may not be UTF-8 (a request's words, a file name):
 * every byte outside printable ASCII becomes '?'. NULL when out of memory. */
json_t *ctl_text(const char *s);

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

/* Client: sends request, waits up to timeout_ms for the whole answer. On success *answer is
 * the answer (ok or not: see ctl_error), which the caller json_decrefs. Returns 0 or a
 * negative errno (-ECONNREFUSED, -ENOENT when no daemon listens, -ETIMEDOUT, -EMSGSIZE past
 * 1 MiB, -EPROTO when it is not an answer: ctl_parse). */
int ctl_call(const char *path, const char *request, int timeout_ms, json_t **answer);

/* Client, for daemons: the same request without blocking the caller's event loop. fn is
 * called exactly once, from the loop, with 0 and the answer (borrowed: valid during the
 * call only), or a negative errno and NULL (-ENOENT/-ECONNREFUSED when no daemon listens,
 * -ETIMEDOUT, -EPROTO).
 * Returns 0, or a negative errno and then fn is never called. ctl_call_cancel drops a
 * request in flight: fn is not called. */
struct ctl_req;
typedef void (*ctl_reply_fn)(void *arg, int rc, const json_t *answer);
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

/* The one parser of answers: text[0..len) as an answer, an object whose "ok" is a boolean and,
 * when false, whose "error" is a string. Returns 0 with *answer (the caller's), or -EPROTO. */
int ctl_parse(const char *text, size_t len, json_t **answer);
/* NULL for an answer that says ok, else its error message; anything else (NULL, an
 * object without "ok":true or without a message) gets a message saying it is no answer. */
const char *ctl_error(const json_t *answer);

#endif
