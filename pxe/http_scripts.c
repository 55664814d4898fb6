#include "pxe/http_scripts.h"

#include <arpa/inet.h>
#include <errno.h>
#include <net/if_arp.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>

#include <microhttpd.h>

#include "common/ctlsock.h"
#include "common/netaddr.h"
#include "pxe/ipxe_script.h"
#include "pxe/pxe_server.h"

#define HTTP_CONNECTIONS    64
#define HTTP_PER_ADDRESS    4
#define HTTP_IDLE_S         10
#define HTTP_CONN_MEMORY    (16 << 10)
#define HTTP_EVENT_REPEAT_S 60

static const char *const verdict_names[] = {
	[SCRIPT_SERVE] = "served",
	[SCRIPT_BAD_PATH] = "not a script path",
	[SCRIPT_NO_BINDING] = "no address given to that MAC lately",
	[SCRIPT_WRONG_ADDRESS] = "asked from another address than the one given to that MAC",
	[SCRIPT_WRONG_NEIGHBOR] = "the asking address is held by another MAC",
};

const char *script_verdict_name(enum script_verdict v)
{
	return (unsigned)v < sizeof(verdict_names) / sizeof(verdict_names[0]) ? verdict_names[v] :
									       "?";
}

enum script_verdict script_access(const char *path, uint32_t peer, const uint8_t *neigh,
				  const struct pxe_bindings *b, time_t now, uint8_t mac[6])
{
	const struct pxe_binding *e;

	if (ipxe_script_path_parse(path, mac))
		return SCRIPT_BAD_PATH;
	e = bindings_find(b, mac, now);
	if (!e)
		return SCRIPT_NO_BINDING;
	if (e->ip != peer)
		return SCRIPT_WRONG_ADDRESS;
	if (!neigh || memcmp(neigh, mac, 6) != 0)
		return SCRIPT_WRONG_NEIGHBOR;
	return SCRIPT_SERVE;
}

/* The MAC the kernel has for ip on the client interface (a completed ARP entry). To have
 * answered the TCP handshake the kernel needed one, so for an honest client it is there. */
static int neighbour_mac(const struct pxe_http *h, uint32_t ip, uint8_t mac[6])
{
	struct arpreq req;
	struct sockaddr_in *pa = (struct sockaddr_in *)(void *)&req.arp_pa;

	memset(&req, 0, sizeof(req));
	pa->sin_family = AF_INET;
	pa->sin_addr.s_addr = htonl(ip);
	snprintf(req.arp_dev, sizeof(req.arp_dev), "%s", h->srv->conf->interface);
	if (ioctl(h->fd, SIOCGARP, &req) < 0 || !(req.arp_flags & ATF_COM))
		return -ENOENT;
	memcpy(mac, req.arp_ha.sa_data, 6);
	return 0;
}

/* The script text lives in one of these, so the free callback can wipe it: it holds the
 * client's secrets. */
struct secret_text {
	char text[IPXE_SCRIPT_MAX];	/* first: MHD hands back this address */
	size_t len;
};

static void secret_text_free(void *cls)
{
	struct secret_text *t = cls;

	explicit_bzero(t, sizeof(*t));
	free(t);
}

static enum MHD_Result respond(struct MHD_Connection *conn, unsigned status, const char *body)
{
	struct MHD_Response *r = MHD_create_response_from_buffer(strlen(body), (void *)body,
								 MHD_RESPMEM_PERSISTENT);
	enum MHD_Result ret;

	if (!r)
		return MHD_NO;
	MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE, "text/plain");
	ret = MHD_queue_response(conn, status, r);
	MHD_destroy_response(r);
	return ret;
}

static void refused(struct pxe_http *h, enum script_verdict v, const uint8_t mac[6],
		    uint32_t peer)
{
	struct pxe_server *s = h->srv;
	char ip[INET_ADDRSTRLEN], m[MAC_STRLEN];
	time_t now = time(NULL);

	ipv4_format(peer, ip);
	mac_format(mac, m);
	log_limited(&h->rl, LOG_WARNING, "http: script of %s refused to %s: %s", m, ip,
		    script_verdict_name(v));
	/* What the admin must see, but a flood must not turn into a DB write per request. */
	h->refused_since_event++;
	if (h->event_time && now - h->event_time < HTTP_EVENT_REPEAT_S)
		return;
	if (db_event_add(s->db, "warning", "pxed", "iPXE script of %s refused to %s (%s); %llu "
			 "script requests refused since the last such event", m, ip,
			 script_verdict_name(v), (unsigned long long)h->refused_since_event))
		s->c.db_errors++;
	h->event_time = now;
	h->refused_since_event = 0;
}

/* Renders the client's script from the DB as it is now. */
static int render(struct pxe_http *h, const struct db_client *c, struct secret_text *t)
{
	struct pxe_server *s = h->srv;
	char target[DB_IQN_MAX] = "", mutual[16] = "";
	int n;

	if (db_setting_get(s->db, "target_iqn", target, sizeof(target)) || !ipxe_iqn_valid(target))
		snprintf(target, sizeof(target), "%s", IPXE_DEFAULT_TARGET);
	/* chap_mutual off: one-way CHAP only, for a target that cannot answer mutual CHAP
	 * (iPXE with reverse credentials insists on it). */
	db_setting_get(s->db, "chap_mutual", mutual, sizeof(mutual));
	n = ipxe_script_render(c, s->conf->service_address, target, strcmp(mutual, "off") != 0,
			       t->text, sizeof(t->text));
	if (n < 0)
		return n;
	t->len = (size_t)n;
	return 0;
}

static enum MHD_Result on_request(void *cls, struct MHD_Connection *conn, const char *url,
				  const char *method, const char *version,
				  const char *upload_data, size_t *upload_data_size, void **con_cls)
{
	static int first;
	struct pxe_http *h = cls;
	struct pxe_server *s = h->srv;
	const union MHD_ConnectionInfo *ci;
	const struct sockaddr_in *sin;
	uint8_t mac[6] = { 0 }, neigh[6];
	char macs[MAC_STRLEN], ip[INET_ADDRSTRLEN], name[DB_NAME_MAX];
	enum script_verdict v;
	struct db_client c;
	struct secret_text *t;
	struct MHD_Response *r;
	enum MHD_Result ret;
	uint32_t peer;
	int rc;

	(void)version;
	(void)upload_data;
	if (!*con_cls) {
		/* First call: headers only. Anything but GET/HEAD is refused before a body. */
		*con_cls = &first;
		h->c.requests++;
		if (strcmp(method, MHD_HTTP_METHOD_GET) && strcmp(method, MHD_HTTP_METHOD_HEAD)) {
			h->c.bad_method++;
			return respond(conn, MHD_HTTP_METHOD_NOT_ALLOWED, "method not allowed\n");
		}
		return MHD_YES;
	}
	if (*upload_data_size) {
		*upload_data_size = 0;	/* a GET with a body: ignored */
		return MHD_YES;
	}
	ci = MHD_get_connection_info(conn, MHD_CONNECTION_INFO_CLIENT_ADDRESS);
	if (!ci || !ci->client_addr || ci->client_addr->sa_family != AF_INET) {
		h->c.errors++;
		return respond(conn, MHD_HTTP_FORBIDDEN, "forbidden\n");
	}
	sin = (const struct sockaddr_in *)(const void *)ci->client_addr;
	peer = ntohl(sin->sin_addr.s_addr);
	v = script_access(url, peer, neighbour_mac(h, peer, neigh) == 0 ? neigh : NULL,
			  &s->bindings, time(NULL), mac);
	switch (v) {
	case SCRIPT_SERVE:
		break;
	case SCRIPT_BAD_PATH:
		h->c.not_found++;
		return respond(conn, MHD_HTTP_NOT_FOUND, "not found\n");
	default:
		if (v == SCRIPT_NO_BINDING)
			h->c.refused_binding++;
		else if (v == SCRIPT_WRONG_ADDRESS)
			h->c.refused_address++;
		else
			h->c.refused_neighbor++;
		refused(h, v, mac, peer);
		return respond(conn, MHD_HTTP_FORBIDDEN, "forbidden\n");
	}
	mac_format(mac, macs);
	rc = db_client_by_mac(s->db, macs, &c);
	if (rc == -ENOENT) {
		h->c.not_found++;
		return respond(conn, MHD_HTTP_NOT_FOUND, "not found\n");
	}
	if (rc == 0 && !c.enabled) {
		h->c.disabled++;
		explicit_bzero(&c, sizeof(c));
		return respond(conn, MHD_HTTP_FORBIDDEN, "forbidden\n");
	}
	t = rc ? NULL : malloc(sizeof(*t));
	if (!t || (rc = render(h, &c, t))) {
		h->c.errors++;
		s->c.script_errors++;
		log_limited(&s->rl_db, LOG_ERR, "http: cannot make the script of %s: %s", macs,
			    rc ? (rc == -EINVAL ? "a field has characters a script cannot carry" :
				  db_errmsg(s->db)) : "out of memory");
		explicit_bzero(&c, sizeof(c));
		free(t);
		return respond(conn, MHD_HTTP_INTERNAL_SERVER_ERROR, "error\n");
	}
	snprintf(name, sizeof(name), "%s", c.name);
	explicit_bzero(&c, sizeof(c));
	r = MHD_create_response_from_buffer_with_free_callback(t->len, t->text, secret_text_free);
	if (!r) {
		secret_text_free(t);
		return MHD_NO;
	}
	MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE, "text/plain");
	MHD_add_response_header(r, MHD_HTTP_HEADER_CACHE_CONTROL, "no-store");
	ret = MHD_queue_response(conn, MHD_HTTP_OK, r);
	MHD_destroy_response(r);
	h->c.served++;
	ipv4_format(peer, ip);
	log_info("http: iPXE script of %s (%s) served to %s", name, macs, ip);
	return ret;
}

static void mhd_log(void *cls, const char *fmt, va_list ap)
{
	struct pxe_http *h = cls;
	char msg[256];

	vsnprintf(msg, sizeof(msg), fmt, ap);
	msg[strcspn(msg, "\n")] = '\0';
	log_limited(&h->rl, LOG_WARNING, "http: %s", msg);
}

static void reschedule(struct pxe_http *h)
{
	MHD_UNSIGNED_LONG_LONG ms;

	if (MHD_get_timeout(h->mhd, &ms) == MHD_YES)
		ev_timer_arm(h->loop, &h->timer, ms);
	else
		ev_timer_cancel(h->loop, &h->timer);
}

static void on_epoll(struct ev_io *io, uint32_t events)
{
	struct pxe_http *h = io->arg;

	(void)events;
	MHD_run(h->mhd);
	reschedule(h);
}

static void on_timer(struct ev_timer *t)
{
	struct pxe_http *h = t->arg;

	MHD_run(h->mhd);
	reschedule(h);
}

static int listen_socket(struct pxe_http *h)
{
	const struct pxe_conf *conf = h->srv->conf;
	struct sockaddr_in sa = { .sin_family = AF_INET };
	int fd, on = 1, rc;

	sa.sin_port = htons((uint16_t)conf->http_port);
	sa.sin_addr.s_addr = htonl(conf->service_address);
	fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	/* The client LAN only, like DHCP: never the HA link. */
	if (setsockopt(fd, SOL_SOCKET, SO_BINDTODEVICE, conf->interface,
		       (socklen_t)strlen(conf->interface)) ||
	    setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &on, sizeof(on)) ||
	    bind(fd, (struct sockaddr *)&sa, sizeof(sa)) || listen(fd, HTTP_CONNECTIONS)) {
		rc = -errno;
		close(fd);
		return rc;
	}
	h->fd = fd;
	return 0;
}

int pxe_http_start(struct pxe_http *h, struct pxe_server *srv, struct evloop *loop)
{
	const union MHD_DaemonInfo *info;
	char ip[INET_ADDRSTRLEN];
	int rc;

	memset(h, 0, sizeof(*h));
	h->srv = srv;
	h->loop = loop;
	h->fd = -1;
	h->io.fd = -1;
	h->rl = (struct log_ratelimit)LOG_RATELIMIT_INIT(10);
	ev_timer_init(&h->timer, on_timer, h);
	ipv4_format(srv->conf->service_address, ip);
	rc = listen_socket(h);
	if (rc) {
		log_err("http: cannot listen on %s:%d: %s", ip, srv->conf->http_port, strerror(-rc));
		return rc;
	}
	h->mhd = MHD_start_daemon(MHD_USE_EPOLL | MHD_USE_ERROR_LOG, 0, NULL, NULL, on_request, h,
				  MHD_OPTION_EXTERNAL_LOGGER, mhd_log, h,
				  MHD_OPTION_LISTEN_SOCKET, h->fd,
				  MHD_OPTION_CONNECTION_LIMIT, (unsigned)HTTP_CONNECTIONS,
				  MHD_OPTION_PER_IP_CONNECTION_LIMIT, (unsigned)HTTP_PER_ADDRESS,
				  MHD_OPTION_CONNECTION_TIMEOUT, (unsigned)HTTP_IDLE_S,
				  MHD_OPTION_CONNECTION_MEMORY_LIMIT, (size_t)HTTP_CONN_MEMORY,
				  MHD_OPTION_END);
	if (!h->mhd) {
		log_err("http: libmicrohttpd did not start");
		rc = -EIO;
		goto out_close;
	}
	info = MHD_get_daemon_info(h->mhd, MHD_DAEMON_INFO_EPOLL_FD);
	if (!info) {
		rc = -EIO;
		goto out_stop;
	}
	rc = ev_io_add(loop, &h->io, info->epoll_fd, EPOLLIN, on_epoll, h);
	if (rc)
		goto out_stop;
	/* MHD puts its listening socket into its epoll set in its first run. */
	MHD_run(h->mhd);
	reschedule(h);
	log_notice("http: iPXE scripts on %s:%d, each only to its own client", ip,
		   srv->conf->http_port);
	return 0;

out_stop:
	log_err("http: cannot watch libmicrohttpd's descriptors: %s", strerror(-rc));
	MHD_stop_daemon(h->mhd);
	h->mhd = NULL;
out_close:
	close(h->fd);
	h->fd = -1;
	return rc;
}

void pxe_http_stop(struct pxe_http *h)
{
	if (!h->mhd)
		return;
	ev_timer_cancel(h->loop, &h->timer);
	if (h->io.fd >= 0)
		ev_io_del(h->loop, &h->io);
	MHD_stop_daemon(h->mhd);	/* closes the listening socket too */
	h->mhd = NULL;
	h->fd = -1;
}

void pxe_http_status(const struct pxe_http *h, json_t *answer)
{
	const struct pxe_http_counters *c = &h->c;

	ctl_set(answer, "http", json_string(h->mhd ? "listening" : "off"));
	ctl_set_count(answer, "http_requests", c->requests);
	ctl_set_count(answer, "http_scripts_served", c->served);
	ctl_set_count(answer, "http_refused_no_binding", c->refused_binding);
	ctl_set_count(answer, "http_refused_address", c->refused_address);
	ctl_set_count(answer, "http_refused_neighbour", c->refused_neighbor);
	ctl_set_count(answer, "http_refused_disabled", c->disabled);
	ctl_set_count(answer, "http_not_found", c->not_found);
	ctl_set_count(answer, "http_bad_method", c->bad_method);
	ctl_set_count(answer, "http_errors", c->errors);
}
