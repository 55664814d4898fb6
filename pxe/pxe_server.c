#include "pxe/pxe_server.h"

#include <errno.h>
#include <ifaddrs.h>
#include <net/if.h>
#include <net/if_arp.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>

#include "common/ctlsock.h"
#include "common/netaddr.h"

#define VDISKD_TIMEOUT_MS 1000
/* A boot storm of 300 clients arrives at once: the kernel must hold it while we work. */
#define PXE_RCVBUF (4 << 20)

static int iface_addr(const char *ifname, uint32_t *out)
{
	struct ifaddrs *ifa, *i;
	int rc = -EADDRNOTAVAIL;

	if (getifaddrs(&ifa))
		return -errno;
	for (i = ifa; i; i = i->ifa_next)
		if (i->ifa_addr && i->ifa_addr->sa_family == AF_INET &&
		    strcmp(i->ifa_name, ifname) == 0) {
			*out = ntohl(((struct sockaddr_in *)(void *)i->ifa_addr)->sin_addr.s_addr);
			rc = 0;
			break;
		}
	freeifaddrs(ifa);
	return rc;
}

int pxe_server_init(struct pxe_server *s, const struct pxe_conf *conf, struct db *db,
		    struct evloop *loop)
{
	struct pxe_pool none = { 0, 0 };
	unsigned skipped;
	int rc;

	memset(s, 0, sizeof(*s));
	s->conf = conf;
	s->db = db;
	s->loop = loop;
	s->io[0].fd = s->io[1].fd = -1;
	s->rl_bad = (struct log_ratelimit)LOG_RATELIMIT_INIT(10);
	s->rl_unknown = (struct log_ratelimit)LOG_RATELIMIT_INIT(10);
	s->rl_pool = (struct log_ratelimit)LOG_RATELIMIT_INIT(10);
	s->rl_db = (struct log_ratelimit)LOG_RATELIMIT_INIT(10);
	s->rl_refuse = (struct log_ratelimit)LOG_RATELIMIT_INIT(10);
	s->rl_send = (struct log_ratelimit)LOG_RATELIMIT_INIT(10);
	s->rl_vdiskd = (struct log_ratelimit)LOG_RATELIMIT_INIT(30);
	s->server_id = conf->server_address;
	rc = leases_init(&s->leases, conf->mode == PXE_MODE_DHCP ? &conf->pool : &none,
			 conf->state_dir);
	if (rc) {
		log_err("leases: %s", strerror(-rc));
		return rc;
	}
	if (conf->mode != PXE_MODE_DHCP)
		return 0;
	rc = leases_load(&s->leases, time(NULL), &skipped);
	if (rc) {
		log_err("leases: cannot read %s: %s", s->leases.path, strerror(-rc));
		leases_free(&s->leases);
		return rc;
	}
	if (skipped)
		log_warn("leases: %u lines of %s skipped (unreadable or outside the pool)",
			 skipped, s->leases.path);
	log_info("leases: %zu bound from %s", leases_count(&s->leases, LEASE_BOUND, time(NULL)),
		 s->leases.path);
	return 0;
}

static void send_one(struct pxe_server *s, struct pxe_outgoing *o)
{
	int fd = s->io[o->sock].fd;
	char to[INET_ADDRSTRLEN];

	if (o->set_arp) {
		struct arpreq req;
		struct sockaddr_in *pa = (struct sockaddr_in *)(void *)&req.arp_pa;

		memset(&req, 0, sizeof(req));
		pa->sin_family = AF_INET;
		pa->sin_addr = o->to.sin_addr;
		req.arp_ha.sa_family = ARPHRD_ETHER;
		memcpy(req.arp_ha.sa_data, o->arp_mac, 6);
		req.arp_flags = ATF_COM;
		snprintf(req.arp_dev, sizeof(req.arp_dev), "%s", s->conf->interface);
		/* Without the entry the unicast would wait on an ARP the client cannot answer. */
		if (ioctl(fd, SIOCSARP, &req) < 0)
			o->to.sin_addr.s_addr = htonl(INADDR_BROADCAST);
	}
	if (sendto(fd, o->buf, o->len, 0, (struct sockaddr *)&o->to, sizeof(o->to)) < 0) {
		s->c.send_errors++;
		ipv4_format(ntohl(o->to.sin_addr.s_addr), to);
		log_limited(&s->rl_send, LOG_WARNING, "dhcp: sending to %s: %s", to,
			    strerror(errno));
		return;
	}
	s->c.sent++;
}

static void record_boots(struct pxe_server *s)
{
	unsigned i;
	int rc;

	rc = db_begin(s->db);
	for (i = 0; !rc && i < s->nboots; i++)
		rc = db_client_boot(s->db, s->boots[i].id);
	if (!rc)
		rc = db_commit(s->db);
	else
		db_rollback(s->db);
	if (rc) {
		s->c.db_errors++;
		log_limited(&s->rl_db, LOG_ERR, "db: cannot record %u boots: %s", s->nboots,
			    db_errmsg(s->db));
	}
	s->c.boots += s->nboots;
}

static void reset_overlays(struct pxe_server *s)
{
	char req[DB_NAME_MAX + 32];
	json_t *answer;
	unsigned i;
	int rc, hung = 0;

	for (i = 0; i < s->nboots; i++) {
		if (!s->boots[i].reset)
			continue;
		if (hung) {
			log_warn("vdiskd hung: overlay of %s not reset", s->boots[i].name);
			continue;
		}
		snprintf(req, sizeof(req), "overlay-reset %s", s->boots[i].name);
		answer = NULL;
		rc = ctl_call(s->conf->vdiskd_ctl, req, VDISKD_TIMEOUT_MS, &answer);
		/* One timeout per batch at most: a hung vdiskd must not hold a whole boot storm
		 * for a second per client. */
		if (rc == -ETIMEDOUT)
			hung = 1;
		if (rc) {
			log_limited(&s->rl_vdiskd, LOG_WARNING,
				    "vdiskd at %s: %s; overlay of %s not reset", s->conf->vdiskd_ctl,
				    strerror(-rc), s->boots[i].name);
		} else if (ctl_error(answer)) {
			log_warn("vdiskd refused overlay-reset %s: %.200s", s->boots[i].name,
				 ctl_error(answer));
		} else {
			s->c.overlay_resets++;
			log_info("overlay of %s reset for its PXE boot", s->boots[i].name);
		}
		json_decref(answer);
	}
}

void pxe_server_flush(struct pxe_server *s)
{
	unsigned i;
	int rc;

	if (s->leases.dirty) {
		rc = leases_save(&s->leases, time(NULL));
		/* Refusing every ACK would stop the whole room from booting; the leases are
		 * still in memory, and a lease the client asks for again is granted again. */
		if (rc)
			log_limited(&s->rl_db, LOG_ERR, "leases: cannot write %s: %s",
				    s->leases.path, strerror(-rc));
	}
	if (s->nboots) {
		record_boots(s);
		reset_overlays(s);
		s->nboots = 0;
	}
	for (i = 0; i < s->nout; i++)
		if (s->io[s->out[i].sock].fd >= 0)
			send_one(s, &s->out[i]);
	s->nout = 0;
}

static void readable(struct ev_io *io, uint32_t events)
{
	struct pxe_server *s = io->arg;
	uint8_t buf[DHCP_MAX_LEN + 1];
	struct sockaddr_in from;
	socklen_t fromlen;
	int port = io == &s->io[PXE_SOCK_PROXY] ? PXE_PROXY_PORT : 67;
	unsigned n;

	(void)events;
	for (n = 0; n < PXE_BATCH; n++) {
		ssize_t len;

		fromlen = sizeof(from);
		/* One byte more than we accept: a longer datagram shows as DHCP_E_LONG. */
		len = recvfrom(io->fd, buf, sizeof(buf), MSG_DONTWAIT, (struct sockaddr *)&from,
			       &fromlen);
		if (len < 0)
			break;
		pxe_server_packet(s, buf, (size_t)len, port, &from);
	}
	pxe_server_flush(s);
}

static int open_socket(struct pxe_server *s, int port, int *out)
{
	struct sockaddr_in sa = { .sin_family = AF_INET, .sin_port = htons((uint16_t)port) };
	int fd, on = 1, rcv = PXE_RCVBUF, rc;

	fd = socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	/* Bound to the client LAN only: DHCP must never answer on the HA link. */
	if (setsockopt(fd, SOL_SOCKET, SO_BINDTODEVICE, s->conf->interface,
		       (socklen_t)strlen(s->conf->interface)) ||
	    setsockopt(fd, SOL_SOCKET, SO_BROADCAST, &on, sizeof(on)) ||
	    setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &on, sizeof(on)))
		goto out_errno;
	if (setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &rcv, sizeof(rcv)))
		setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &rcv, sizeof(rcv));
	if (bind(fd, (struct sockaddr *)&sa, sizeof(sa)))
		goto out_errno;
	*out = fd;
	return 0;

out_errno:
	rc = -errno;
	close(fd);
	return rc;
}

int pxe_server_listen(struct pxe_server *s)
{
	int ports[2] = { 67, PXE_PROXY_PORT }, i, fd = -1, rc;
	char ip[INET_ADDRSTRLEN];

	s->ifindex = (int)if_nametoindex(s->conf->interface);
	if (!s->ifindex) {
		log_err("interface %s: %s", s->conf->interface, strerror(errno));
		return -ENODEV;
	}
	if (!s->server_id) {
		rc = iface_addr(s->conf->interface, &s->server_id);
		if (rc) {
			log_err("interface %s has no IPv4 address to use as server identifier "
				"(set server_address)", s->conf->interface);
			return rc;
		}
	}
	for (i = 0; i < 2; i++) {
		if (i == PXE_SOCK_PROXY && s->conf->mode != PXE_MODE_PROXY)
			break;
		rc = open_socket(s, ports[i], &fd);
		if (!rc) {
			rc = ev_io_add(s->loop, &s->io[i], fd, EPOLLIN, readable, s);
			if (rc) {
				close(fd);
				s->io[i].fd = -1;
			}
		}
		if (rc) {
			log_err("udp port %d on %s: %s", ports[i], s->conf->interface,
				strerror(-rc));
			pxe_server_close(s);
			return rc;
		}
	}
	ipv4_format(s->server_id, ip);
	log_notice("%s server on %s (%s)",
		   s->conf->mode == PXE_MODE_PROXY ? "proxyDHCP" : "DHCP", s->conf->interface, ip);
	return 0;
}

void pxe_server_close(struct pxe_server *s)
{
	int i;

	for (i = 0; i < 2; i++)
		if (s->io[i].fd >= 0) {
			ev_io_del(s->loop, &s->io[i]);
			close(s->io[i].fd);
			s->io[i].fd = -1;
		}
	leases_free(&s->leases);
	free(s->reserved);
	s->reserved = NULL;
}

void pxe_server_status(struct pxe_server *s, json_t *answer)
{
	const struct pxe_counters *c = &s->c;
	char ip[INET_ADDRSTRLEN], key[48];
	time_t now = time(NULL);
	int i;

	ctl_set(answer, "mode", json_string(s->conf->mode == PXE_MODE_PROXY ? "proxy" : "dhcp"));
	ctl_set(answer, "interface", ctl_text(s->conf->interface));
	ipv4_format(s->server_id, ip);
	ctl_set(answer, "server_address", json_string(ip));
	ipv4_format(s->conf->service_address, ip);
	ctl_set(answer, "service_address", json_string(ip));
	/* no node configured: no member (the text said "-") */
	if (*s->conf->node)
		ctl_set(answer, "node", ctl_text(s->conf->node));
	ctl_set_count(answer, "leases_bound", leases_count(&s->leases, LEASE_BOUND, now));
	ctl_set_count(answer, "leases_offered", leases_count(&s->leases, LEASE_OFFERED, now));
	ctl_set_count(answer, "leases_declined", leases_count(&s->leases, LEASE_DECLINED, now));
	ctl_set_count(answer, "received", c->received);
	ctl_set_count(answer, "sent", c->sent);
	ctl_set_count(answer, "send_errors", c->send_errors);
	ctl_set_count(answer, "malformed", c->malformed);
	for (i = 1; i < DHCP_E_COUNT; i++) {
		snprintf(key, sizeof(key), "malformed_%s", dhcp_err_name(i));
		ctl_set_count(answer, key, c->bad[i]);
	}
	for (i = DHCPDISCOVER; i <= DHCPINFORM; i++) {
		snprintf(key, sizeof(key), "rx_%s", dhcp_type_name(i));
		ctl_set_count(answer, key, c->by_type[i]);
	}
	/* What a server sends, 0 too (the text left out the types never sent); no other type
	 * is ever sent, but would show. */
	for (i = DHCPDISCOVER; i <= DHCPINFORM; i++) {
		if (i != DHCPOFFER && i != DHCPACK && i != DHCPNAK && !c->replies[i])
			continue;
		snprintf(key, sizeof(key), "tx_%s", dhcp_type_name(i));
		ctl_set_count(answer, key, c->replies[i]);
	}
	ctl_set_count(answer, "unknown_clients", c->unknown);
	ctl_set_count(answer, "refused", c->refused);
	ctl_set_count(answer, "takeover_answers", c->takeovers);
	ctl_set_count(answer, "auto_registered", c->auto_registered);
	ctl_set_count(answer, "auto_register_refused_rate", c->autoreg_refused_rate);
	ctl_set_count(answer, "auto_register_refused_total", c->autoreg_refused_total);
	ctl_set_count(answer, "pool_exhausted", c->pool_exhausted);
	ctl_set_count(answer, "no_boot_file", c->no_boot_file);
	ctl_set_count(answer, "wrong_subnet", c->wrong_subnet);
	ctl_set_count(answer, "ignored", c->ignored);
	ctl_set_count(answer, "boots", c->boots);
	ctl_set_count(answer, "overlay_resets", c->overlay_resets);
	ctl_set_count(answer, "script_errors", c->script_errors);
	ctl_set_count(answer, "db_errors", c->db_errors);
}

void pxe_server_leases(struct pxe_server *s, json_t *answer)
{
	static const char *const names[] = { "free", "offered", "bound", "declined" };
	char mac[MAC_STRLEN], ip[INET_ADDRSTRLEN];
	json_t *list = json_array();
	time_t now = time(NULL);
	size_t i;

	/* After a failed ctl_set the answer is an error and ctl_push leaves list alone. */
	ctl_set(answer, "lease", list);
	for (i = 0; i < s->leases.n; i++) {
		const struct lease *l = &s->leases.slots[i];

		if (l->state == LEASE_FREE || l->expires <= now)
			continue;
		mac_format(l->mac, mac);
		ipv4_format(leases_ip(&s->leases, l), ip);
		ctl_push(answer, list, json_pack("{s:s,s:s,s:s,s:I}", "address", ip, "mac", mac,
						 "state", names[l->state],
						 "expires", (json_int_t)(l->expires - now)));
	}
}
