#include "common/ctlsock.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "common/log.h"

struct ctl_conn {
	struct ev_io io;
	struct ctl_server *srv;
	struct ctl_conn *next;
	char in[CTL_MAX_REQUEST];
	size_t inlen;
	char *out;		/* answer, owned; NULL while reading the request */
	size_t outlen, outoff;
	int by_group;		/* let in by its group only: ctl_server_group_allow's requests */
};

struct ctl_server {
	struct evloop *loop;
	struct ev_io io;
	char path[sizeof(((struct sockaddr_un *)0)->sun_path)];
	ctl_handler_fn fn;
	void *arg;
	struct ctl_conn *conns;
	const char *const *group_requests;	/* NULL-terminated; NULL: status alone */
};

static int group_may(const struct ctl_server *srv, const char *request)
{
	static const char *const status_only[] = { "status", NULL };
	const char *const *r = srv->group_requests ? srv->group_requests : status_only;

	for (; *r; r++)
		if (strcmp(*r, request) == 0)
			return 1;
	return 0;
}

json_t *ctl_text(const char *s)
{
	size_t i, len = strlen(s);
	char *copy = malloc(len + 1);
	json_t *j;

	if (!copy)
		return NULL;
	for (i = 0; i < len; i++)
		copy[i] = s[i] >= 0x20 && s[i] < 0x7f ? s[i] : '?';
	copy[len] = '\0';
	j = json_stringn(copy, len);
	free(copy);
	return j;
}

static int answer_ok(const json_t *answer)
{
	return json_is_true(json_object_get(answer, "ok"));
}

void ctl_fail(json_t *answer, const char *fmt, ...)
{
	char msg[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	json_object_clear(answer);
	/* ctl_text: the message may quote a request's words, which need not be UTF-8. Out of
	 * memory, "error" is missing and the client reads no answer (-EPROTO): never "ok". */
	json_object_set_new(answer, "ok", json_false());
	json_object_set_new(answer, "error", ctl_text(msg));
}

void ctl_set(json_t *answer, const char *key, json_t *value)
{
	if (!answer_ok(answer)) {
		json_decref(value);
		return;
	}
	if (!value || json_object_set_new(answer, key, value))
		ctl_fail(answer, "out of memory building the answer (%s)", key);
}

void ctl_set_count(json_t *answer, const char *key, uint64_t v)
{
	ctl_set(answer, key, json_integer((json_int_t)v));
}

void ctl_add(json_t *answer, json_t *members)
{
	if (answer_ok(answer) && (!members || json_object_update(answer, members)))
		ctl_fail(answer, "out of memory building the answer");
	json_decref(members);
}

void ctl_push(json_t *answer, json_t *array, json_t *value)
{
	if (!answer_ok(answer)) {
		json_decref(value);
		return;
	}
	if (!value || json_array_append_new(array, value))
		ctl_fail(answer, "out of memory building the answer");
}

static void conn_free(struct ctl_conn *c)
{
	struct ctl_conn **pp;

	for (pp = &c->srv->conns; *pp; pp = &(*pp)->next)
		if (*pp == c) {
			*pp = c->next;
			break;
		}
	ev_io_del(c->srv->loop, &c->io);
	close(c->io.fd);
	free(c->out);
	free(c);
}

static int split_args(char *line, char **argv)
{
	int argc = 0;
	char *save = NULL, *tok;

	for (tok = strtok_r(line, " \t\r", &save); tok && argc < CTL_MAX_ARGS;
	     tok = strtok_r(NULL, " \t\r", &save))
		argv[argc++] = tok;
	return tok ? -E2BIG : argc;
}

/* The answer as one line, owned by c: what the handler built, or, when it cannot be encoded,
 * an error that says so. */
static int conn_encode(struct ctl_conn *c, json_t *answer)
{
	char *text = json_dumps(answer, JSON_COMPACT);

	if (!text)
		text = strdup("{\"ok\":false,\"error\":\"cannot encode the answer\"}");
	if (!text)
		return -ENOMEM;
	c->outlen = strlen(text);
	/* jansson allocates with malloc (no json_set_alloc_funcs here): room for the newline */
	c->out = realloc(text, c->outlen + 2);
	if (!c->out) {
		free(text);
		return -ENOMEM;
	}
	memcpy(c->out + c->outlen, "\n", 2);
	c->outlen++;
	return 0;
}

static void conn_answer(struct ctl_conn *c, char *line)
{
	char *argv[CTL_MAX_ARGS];
	json_t *answer = json_pack("{s:b}", "ok", 1);
	int argc, rc;

	if (!answer) {
		conn_free(c);
		return;
	}
	argc = split_args(line, argv);
	if (argc < 0)
		ctl_fail(answer, "too many words in request (at most %d)", CTL_MAX_ARGS);
	else if (argc == 0)
		ctl_fail(answer, "empty request");
	else if (c->by_group && !group_may(c->srv, argv[0]))
		ctl_fail(answer, "'%.40s' is for root or this daemon's user; a caller let in by "
			 "its group may not make it", argv[0]);
	else
		c->srv->fn(c->srv->arg, argc, argv, answer);
	rc = conn_encode(c, answer);
	json_decref(answer);
	if (rc || ev_io_mod(c->srv->loop, &c->io, EPOLLOUT))
		conn_free(c);
}

static void conn_ready(struct ev_io *io, uint32_t events)
{
	struct ctl_conn *c = io->arg;
	ssize_t n;

	if (c->out) {
		n = send(io->fd, c->out + c->outoff, c->outlen - c->outoff, MSG_NOSIGNAL);
		if (n < 0 && (errno == EAGAIN || errno == EINTR))
			return;
		if (n > 0)
			c->outoff += (size_t)n;
		if (n <= 0 || c->outoff == c->outlen)
			conn_free(c);
		return;
	}
	if (events & (EPOLLERR | EPOLLHUP) && !(events & EPOLLIN)) {
		conn_free(c);
		return;
	}
	n = recv(io->fd, c->in + c->inlen, sizeof(c->in) - 1 - c->inlen, 0);
	if (n < 0 && (errno == EAGAIN || errno == EINTR))
		return;
	if (n <= 0) {
		conn_free(c);
		return;
	}
	c->inlen += (size_t)n;
	c->in[c->inlen] = '\0';
	char *nl = strchr(c->in, '\n');
	if (nl) {
		*nl = '\0';
		conn_answer(c, c->in);
	} else if (c->inlen == sizeof(c->in) - 1) {
		log_warn("control: request longer than %d bytes dropped", CTL_MAX_REQUEST - 1);
		conn_free(c);
	}
}

enum { PEER_REFUSED, PEER_FULL, PEER_BY_GROUP };

/* Root and our own user may ask anything; a daemon of a group we were put in only what
 * ctl_server_group_allow lists (standbyd runs as root in the group vdisk, and vdiskd, the
 * user vdisk, asks it to fence the peer). Whoever else can open the socket file is refused
 * all the same. */
static int peer_allowed(int fd, unsigned *uid)
{
	struct ucred cred;
	socklen_t len = sizeof(cred);
	gid_t groups[64];
	int i, n;

	if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &len) < 0)
		return PEER_REFUSED;
	*uid = cred.uid;
	if (cred.uid == 0 || cred.uid == getuid())
		return PEER_FULL;
	n = getgroups((int)(sizeof(groups) / sizeof(groups[0])), groups);
	for (i = 0; i < n; i++)
		if (groups[i] == cred.gid)
			return PEER_BY_GROUP;
	return PEER_REFUSED;
}

static void server_ready(struct ev_io *io, uint32_t events)
{
	static struct log_ratelimit rl_refused = LOG_RATELIMIT_INIT(10);
	struct ctl_server *srv = io->arg;
	struct ctl_conn *c;
	unsigned uid = 0;
	int fd, peer;

	(void)events;
	fd = accept4(io->fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
	if (fd < 0)
		return;
	peer = peer_allowed(fd, &uid);
	if (peer == PEER_REFUSED) {
		log_limited(&rl_refused, LOG_WARNING, "control: connection from uid %u refused: "
			    "neither root, nor ours, nor of a group of ours", uid);
		close(fd);
		return;
	}
	c = calloc(1, sizeof(*c));
	if (!c) {
		close(fd);
		return;
	}
	c->srv = srv;
	c->by_group = peer == PEER_BY_GROUP;
	if (ev_io_add(srv->loop, &c->io, fd, EPOLLIN, conn_ready, c)) {
		close(fd);
		free(c);
		return;
	}
	c->next = srv->conns;
	srv->conns = c;
}

static int fill_addr(struct sockaddr_un *sa, const char *path)
{
	memset(sa, 0, sizeof(*sa));
	sa->sun_family = AF_UNIX;
	if (strlen(path) >= sizeof(sa->sun_path))
		return -ENAMETOOLONG;
	strcpy(sa->sun_path, path);
	return 0;
}

/* The socket's directory (/run/vdisk) may not exist yet on a fresh boot: a unit makes it
 * (RuntimeDirectory), a shell or a test does not. */
static int make_dir_of(const char *path)
{
	char dir[sizeof(((struct sockaddr_un *)0)->sun_path)];
	char *slash;

	snprintf(dir, sizeof(dir), "%s", path);
	slash = strrchr(dir, '/');
	if (!slash || slash == dir)
		return 0;
	*slash = '\0';
	if (mkdir(dir, 0755) < 0 && errno != EEXIST)
		return -errno;
	return 0;
}

int ctl_server_open(struct evloop *loop, const char *path, ctl_handler_fn fn, void *arg,
		    struct ctl_server **out)
{
	struct sockaddr_un sa;
	struct ctl_server *srv;
	mode_t old_umask;
	int fd, rc;

	rc = fill_addr(&sa, path);
	if (rc)
		return rc;
	rc = make_dir_of(sa.sun_path);
	if (rc)
		return rc;
	srv = calloc(1, sizeof(*srv));
	if (!srv)
		return -ENOMEM;
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0) {
		rc = -errno;
		goto out_free;
	}
	/* A socket file left by a dead daemon refuses connections: only then replace it. */
	if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) == 0) {
		rc = -EADDRINUSE;
		goto out_close;
	}
	unlink(path);
	/* The mode must be right before the socket exists, not chmod()ed after listen(). */
	old_umask = umask(0117);
	rc = bind(fd, (struct sockaddr *)&sa, sizeof(sa));
	umask(old_umask);
	if (rc < 0 || listen(fd, 64) < 0) {
		rc = -errno;
		goto out_close;
	}
	srv->loop = loop;
	srv->fn = fn;
	srv->arg = arg;
	strcpy(srv->path, path);
	rc = ev_io_add(loop, &srv->io, fd, EPOLLIN, server_ready, srv);
	if (rc)
		goto out_unlink;
	*out = srv;
	return 0;

out_unlink:
	unlink(path);
out_close:
	close(fd);
out_free:
	free(srv);
	return rc;
}

void ctl_server_group_allow(struct ctl_server *srv, const char *const *requests)
{
	srv->group_requests = requests;
}

void ctl_server_close(struct ctl_server *srv)
{
	if (!srv)
		return;
	while (srv->conns)
		conn_free(srv->conns);
	ev_io_del(srv->loop, &srv->io);
	close(srv->io.fd);
	unlink(srv->path);
	free(srv);
}

#define CTL_MAX_REPLY (1u << 20)	/* answers are status pages, never this large */

static int wait_fd(int fd, short what, int timeout_ms)
{
	struct pollfd p = { .fd = fd, .events = what };
	int n = poll(&p, 1, timeout_ms);

	if (n < 0)
		return -errno;
	return n == 0 ? -ETIMEDOUT : 0;
}

/* Both clients: checks the request, connects and sends it as one line. A non-blocking Unix
 * connect completes or fails at once (EAGAIN: backlog full), and a request is far smaller
 * than the socket buffer, so one send takes it whole. Returns the
 * socket or a negative errno. */
static int send_request(const char *path, const char *request, int sock_flags)
{
	struct sockaddr_un sa;
	size_t len = strlen(request);
	struct iovec iov[2] = { { (void *)request, len }, { "\n", 1 } };
	struct msghdr mh = { .msg_iov = iov, .msg_iovlen = 2 };
	int fd, rc;

	if (len + 1 >= CTL_MAX_REQUEST || memchr(request, '\n', len))
		return -EINVAL;
	rc = fill_addr(&sa, path);
	if (rc)
		return rc;
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | sock_flags, 0);
	if (fd < 0)
		return -errno;
	if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0 ||
	    sendmsg(fd, &mh, MSG_NOSIGNAL) != (ssize_t)(len + 1)) {
		rc = -errno;
		close(fd);
		return rc;
	}
	return fd;
}

int ctl_call(const char *path, const char *request, int timeout_ms, json_t **answer)
{
	uint64_t deadline = ev_now_ms() + (uint64_t)(timeout_ms > 0 ? timeout_ms : 0);
	size_t cap = 4096, got = 0;
	char *buf = NULL;
	int fd, rc;

	/* Non-blocking: a blocking connect waits without bound once a hung daemon's listen
	 * backlog is full; a full backlog is retried until the deadline instead. */
	while ((fd = send_request(path, request, SOCK_NONBLOCK)) == -EAGAIN) {
		if (ev_now_ms() >= deadline)
			return -ETIMEDOUT;
		poll(NULL, 0, 10);
	}
	if (fd < 0)
		return fd;
	buf = malloc(cap);
	if (!buf) {
		rc = -ENOMEM;
		goto out_close;
	}
	for (;;) {
		uint64_t now = ev_now_ms();
		ssize_t n;

		/* the deadline bounds the whole answer, not each piece of it */
		rc = wait_fd(fd, POLLIN, now < deadline ? (int)(deadline - now) : 0);
		if (rc)
			goto out_free;
		if (got + 1 == cap) {
			char *nb;

			if (cap >= CTL_MAX_REPLY) {
				rc = -EMSGSIZE;
				goto out_free;
			}
			nb = realloc(buf, cap * 2);
			if (!nb) {
				rc = -ENOMEM;
				goto out_free;
			}
			buf = nb;
			cap *= 2;
		}
		n = recv(fd, buf + got, cap - 1 - got, 0);
		if (n < 0 && errno == EAGAIN)
			continue;
		if (n < 0) {
			rc = -errno;
			goto out_free;
		}
		if (n == 0)
			break;
		got += (size_t)n;
	}
	rc = ctl_parse(buf, got, answer);

out_free:
	free(buf);
out_close:
	close(fd);
	return rc;
}

/* ---- asynchronous client ---- */

struct ctl_req {
	struct evloop *loop;
	struct ev_io io;
	struct ev_timer timer;
	ctl_reply_fn fn;
	void *arg;
	char *buf;
	size_t len, cap;
};

static void req_free(struct ctl_req *r)
{
	ev_timer_cancel(r->loop, &r->timer);
	ev_io_del(r->loop, &r->io);
	close(r->io.fd);
	free(r->buf);
	free(r);
}

static void req_finish(struct ctl_req *r, int rc)
{
	ctl_reply_fn fn = r->fn;
	void *arg = r->arg;
	json_t *answer = NULL;

	if (rc == 0)
		rc = ctl_parse(r->buf, r->len, &answer);
	fn(arg, rc, answer);
	json_decref(answer);
	req_free(r);
}

static void req_timeout(struct ev_timer *t)
{
	req_finish(t->arg, -ETIMEDOUT);
}

static void req_ready(struct ev_io *io, uint32_t events)
{
	struct ctl_req *r = io->arg;
	ssize_t n;

	(void)events;
	for (;;) {
		if (r->len + 1 == r->cap) {
			size_t cap = r->cap * 2;
			char *nb;
			if (cap > CTL_MAX_REPLY) {
				req_finish(r, -EMSGSIZE);
				return;
			}
			nb = realloc(r->buf, cap);
			if (!nb) {
				req_finish(r, -ENOMEM);
				return;
			}
			r->buf = nb;
			r->cap = cap;
		}
		n = recv(io->fd, r->buf + r->len, r->cap - 1 - r->len, MSG_DONTWAIT);
		if (n > 0) {
			r->len += (size_t)n;
			continue;
		}
		if (n < 0 && (errno == EAGAIN || errno == EINTR))
			return;
		req_finish(r, n == 0 ? 0 : -errno);
		return;
	}
}

int ctl_call_send(const char *path, const char *request)
{
	return send_request(path, request, SOCK_NONBLOCK);
}

int ctl_call_start(struct evloop *loop, const char *path, const char *request, int timeout_ms,
		   ctl_reply_fn fn, void *arg, struct ctl_req **out)
{
	int fd = ctl_call_send(path, request);

	if (fd < 0)
		return fd;
	return ctl_call_wait(loop, fd, timeout_ms, fn, arg, out);
}

int ctl_call_wait(struct evloop *loop, int fd, int timeout_ms, ctl_reply_fn fn, void *arg,
		  struct ctl_req **out)
{
	struct ctl_req *r;
	int rc;

	r = calloc(1, sizeof(*r));
	if (!r) {
		rc = -ENOMEM;
		goto out_close;
	}
	r->cap = 4096;
	r->buf = malloc(r->cap);
	if (!r->buf) {
		rc = -ENOMEM;
		goto out_close;
	}
	r->loop = loop;
	r->fn = fn;
	r->arg = arg;
	rc = ev_io_add(loop, &r->io, fd, EPOLLIN, req_ready, r);
	if (rc)
		goto out_close;
	ev_timer_init(&r->timer, req_timeout, r);
	rc = ev_timer_arm(loop, &r->timer, (uint64_t)timeout_ms);
	if (rc) {
		ev_io_del(loop, &r->io);
		goto out_close;
	}
	if (out)
		*out = r;
	return 0;

out_close:
	close(fd);
	if (r)
		free(r->buf);
	free(r);
	return rc;
}

void ctl_call_cancel(struct ctl_req *req)
{
	if (req)
		req_free(req);
}

int ctl_parse(const char *text, size_t len, json_t **answer)
{
	json_t *a = json_loadb(text, len, JSON_REJECT_DUPLICATES, NULL);
	json_t *ok = json_object_get(a, "ok");

	if (!json_is_object(a) || !json_is_boolean(ok) ||
	    (json_is_false(ok) && !json_is_string(json_object_get(a, "error")))) {
		json_decref(a);
		return -EPROTO;
	}
	*answer = a;
	return 0;
}

const char *ctl_error(const json_t *answer)
{
	const char *error;

	if (json_is_true(json_object_get(answer, "ok")))
		return NULL;
	error = json_string_value(json_object_get(answer, "error"));
	return error ? error : "not an answer (no \"ok\":true, no error message)";
}
