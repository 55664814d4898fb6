/* What each request gets (RFC 2131 4.3, PXE 2.1 for proxyDHCP), queued as a reply for the
 * batch's flush. */
#include <errno.h>
#include <string.h>

#include "common/netaddr.h"
#include "pxe/ipxe_script.h"
#include "pxe/pxe_server.h"

/* PXE 2.1 vendor option 43, sub-option 6 (PXE_DISCOVERY_CONTROL) = 8: boot the file named in
 * this offer, no boot server discovery, no menu. */
static const uint8_t pxe_vendor_opts[] = { 6, 1, 8, 255 };

static struct pxe_outgoing *queue(struct pxe_server *s)
{
	if (s->nout == PXE_BATCH)
		return NULL;
	return &s->out[s->nout++];
}

/* The file a client boots next; NULL for a plain DHCP client or a ROM we have no iPXE for.
 * For iPXE it is the URL of its script on our HTTP server (the script itself, with its
 * secrets, is made only when the client asks from the address it was given). Returns
 * -errno when the client cannot be given a script. */
static int boot_file(struct pxe_server *s, const struct dhcp_msg *m, const struct pxe_class *cls,
		     const struct db_client *c, const char **file, char url[IPXE_URL_MAX])
{
	int rc;

	*file = NULL;
	if (cls->kind == PXE_KIND_ROM) {
		*file = pxe_rom_file(cls->arch, s->conf->bios_file, s->conf->efi_file);
		if (!*file) {
			char mac[MAC_STRLEN];

			s->c.no_boot_file++;
			mac_format(m->chaddr, mac);
			log_limited(&s->rl_pool, LOG_WARNING,
				    "dhcp: no iPXE build for client architecture %d (%s)",
				    cls->arch, mac);
		}
		return 0;
	}
	if (cls->kind != PXE_KIND_IPXE)
		return 0;
	/* The IQN follows the admin's iqn_prefix setting: it must not carry script syntax. */
	if (!ipxe_iqn_valid(c->iqn)) {
		s->c.script_errors++;
		log_limited(&s->rl_db, LOG_ERR, "ipxe: %s's initiator name '%.64s' has characters "
			    "an iPXE script cannot carry; not booted", c->name, c->iqn);
		return -EINVAL;
	}
	rc = ipxe_script_url(url, IPXE_URL_MAX, s->conf->service_address,
			     (unsigned)s->conf->http_port, m->chaddr);
	if (rc < 0) {
		s->c.script_errors++;
		return rc;
	}
	*file = url;
	return 0;
}

/* Options every answer to a known client carries in dhcp mode. */
static void lan_options(struct pxe_server *s, struct dhcp_reply *r, const struct db_client *c)
{
	const struct pxe_conf *conf = s->conf;
	uint8_t dns[4 * PXE_MAX_DNS];
	unsigned i;

	dhcp_reply_opt_u32(r, OPT_SUBNET_MASK, conf->subnet_mask);
	if (conf->router)
		dhcp_reply_opt_u32(r, OPT_ROUTER, conf->router);
	for (i = 0; i < conf->dns.n; i++) {
		uint32_t a = conf->dns.addr[i];

		dns[4 * i] = (uint8_t)(a >> 24);
		dns[4 * i + 1] = (uint8_t)(a >> 16);
		dns[4 * i + 2] = (uint8_t)(a >> 8);
		dns[4 * i + 3] = (uint8_t)a;
	}
	if (conf->dns.n)
		dhcp_reply_opt(r, OPT_DNS, dns, 4 * conf->dns.n);
	dhcp_reply_opt_str(r, OPT_HOSTNAME, c->name);
}

static void lease_options(struct dhcp_reply *r, uint32_t secs)
{
	dhcp_reply_opt_u32(r, OPT_LEASE_TIME, secs);
	dhcp_reply_opt_u32(r, OPT_T1, secs / 2);
	dhcp_reply_opt_u32(r, OPT_T2, (uint32_t)((uint64_t)secs * 7 / 8));
}

/* RFC 2131 4.1: where a reply from port 67 goes. */
static void route(struct pxe_server *s, const struct dhcp_msg *m, struct pxe_outgoing *o,
		  uint8_t type, uint32_t yiaddr)
{
	uint32_t to;

	o->sock = PXE_SOCK_DHCP;
	o->to.sin_family = AF_INET;
	o->to.sin_port = htons(68);
	if (m->giaddr) {
		to = m->giaddr;
		o->to.sin_port = htons(67);
	} else if (type == DHCPNAK) {
		to = INADDR_BROADCAST;
	} else if (m->ciaddr) {
		to = m->ciaddr;
	} else if ((m->flags & DHCP_FLAG_BROADCAST) || !yiaddr) {
		to = INADDR_BROADCAST;
	} else {
		/* The client cannot answer ARP yet: an ARP entry lets us unicast to it. */
		to = yiaddr;
		memcpy(o->arp_mac, m->chaddr, 6);
		o->set_arp = 1;
	}
	(void)s;
	o->to.sin_addr.s_addr = htonl(to);
}

/* RFC 3046 2.2: a relay agent's option 82 comes back unchanged, last, so the relay can
 * route the reply and strip it. */
static void relay_info(const struct dhcp_msg *m, struct dhcp_reply *r)
{
	size_t len;
	const uint8_t *d;

	if (!m->giaddr)
		return;
	d = dhcp_opt_find(m, OPT_RELAY_INFO, 1, &len);
	if (d)
		dhcp_reply_opt(r, OPT_RELAY_INFO, d, len);
}

static void send_reply(struct pxe_server *s, const struct dhcp_msg *m, struct dhcp_reply *r,
		       uint8_t type, uint32_t yiaddr, const struct sockaddr_in *proxy_to)
{
	struct pxe_outgoing *o = queue(s);

	if (!o)
		return;
	memset(o, 0, offsetof(struct pxe_outgoing, buf));
	relay_info(m, r);
	if (proxy_to) {
		o->sock = PXE_SOCK_PROXY;
		o->to = *proxy_to;
	} else {
		route(s, m, o, type, yiaddr);
	}
	o->len = dhcp_reply_finish(r);
	memcpy(o->buf, r->buf, o->len);
	s->c.replies[type]++;
}

static void nak(struct pxe_server *s, const struct dhcp_msg *m, const char *why)
{
	struct dhcp_reply r;

	dhcp_reply_init(&r, m, DHCPNAK);
	/* RFC 2131 4.3.2: a relayed NAK asks the relay to broadcast it. */
	if (m->giaddr)
		r.buf[10] |= DHCP_FLAG_BROADCAST >> 8;
	dhcp_reply_opt_u32(&r, OPT_SERVER_ID, s->server_id);
	dhcp_reply_opt_str(&r, OPT_MESSAGE, why);
	send_reply(s, m, &r, DHCPNAK, 0, NULL);
}

static int skip_reserved(uint32_t ip, void *arg)
{
	return pxe_reserved(arg, ip);
}

/* The address this client may have now: its reservation, the one it holds or held, the one
 * it asks for, or a free one. 0 when there is none. */
static uint32_t pick_address(struct pxe_server *s, const struct dhcp_msg *m,
			     const struct db_client *c, time_t now)
{
	struct lease *l;
	uint32_t ip;

	if (c->ip[0] && ipv4_parse(c->ip, &ip) == 0) {
		l = leases_slot(&s->leases, ip);
		return !l || leases_usable(l, m->chaddr, now) ? ip : 0;
	}
	pxe_reserved_refresh(s);
	l = leases_by_mac(&s->leases, m->chaddr, now);
	if (l && leases_usable(l, m->chaddr, now) && !pxe_reserved(s, leases_ip(&s->leases, l)))
		return leases_ip(&s->leases, l);
	if (dhcp_opt_u32(m, OPT_REQ_IP, &ip) == 0) {
		l = leases_slot(&s->leases, ip);
		if (l && leases_usable(l, m->chaddr, now) && !pxe_reserved(s, ip))
			return ip;
	}
	l = leases_alloc(&s->leases, m->chaddr, now, skip_reserved, s);
	return l ? leases_ip(&s->leases, l) : 0;
}

/* Whether the client may have ip now (a REQUEST's address). */
static int address_ok(struct pxe_server *s, const struct dhcp_msg *m, const struct db_client *c,
		      uint32_t ip, time_t now)
{
	struct lease *l;
	uint32_t mine;

	if (c->ip[0] && ipv4_parse(c->ip, &mine) == 0)
		return ip == mine &&
		       (!(l = leases_slot(&s->leases, ip)) || leases_usable(l, m->chaddr, now));
	l = leases_slot(&s->leases, ip);
	pxe_reserved_refresh(s);
	return l && leases_usable(l, m->chaddr, now) && !pxe_reserved(s, ip);
}

/* iPXE's own options (175), with no-pxedhcp (176) = 1: an iPXE that got an offer without
 * PXE options waits about 3 s for a ProxyDHCP offer before it requests it (measured in the
 * lab: 3.05 s between our offer and its request). In dhcp mode we are the only PXE server
 * of the LAN, so there is none to wait for. */
static const uint8_t ipxe_no_pxedhcp[] = { 176, 1, 1 };

/* An OFFER or ACK in dhcp mode. lease 0: INFORM (no address, no lease time). */
static void answer_lan(struct pxe_server *s, const struct dhcp_msg *m, const struct pxe_class *cls,
		       const struct db_client *c, uint8_t type, uint32_t yiaddr, uint32_t lease)
{
	char name[IPXE_URL_MAX];
	const char *file;
	struct dhcp_reply r;

	if (boot_file(s, m, cls, c, &file, name))
		return;
	/* From this ACK on, the client's script is served to yiaddr (pxe/bindings.h). */
	if (type == DHCPACK && yiaddr)
		bindings_set(&s->bindings, m->chaddr, yiaddr, time(NULL) + PXE_BIND_WINDOW_S);
	dhcp_reply_init(&r, m, type);
	dhcp_reply_set_addr(&r, DHCP_OFF_YIADDR, yiaddr);
	if (type == DHCPACK && !lease)
		dhcp_reply_set_addr(&r, DHCP_OFF_CIADDR, m->ciaddr);
	dhcp_reply_opt_u32(&r, OPT_SERVER_ID, s->server_id);
	if (lease)
		lease_options(&r, lease);
	lan_options(s, &r, c);
	if (cls->kind == PXE_KIND_IPXE)
		dhcp_reply_opt(&r, OPT_IPXE_ENCAP, ipxe_no_pxedhcp, sizeof(ipxe_no_pxedhcp));
	if (file) {
		dhcp_reply_set_addr(&r, DHCP_OFF_SIADDR, s->conf->service_address);
		dhcp_reply_set_file(&r, file);
	}
	send_reply(s, m, &r, type, yiaddr, NULL);
	if (cls->kind == PXE_KIND_ROM && type == DHCPACK)
		pxe_client_booted(s, m, c);
}

static void dhcp_discover(struct pxe_server *s, const struct dhcp_msg *m,
			  const struct pxe_class *cls, const struct db_client *c, time_t now)
{
	uint32_t ip = pick_address(s, m, c, now);
	struct lease *l;
	char mac[MAC_STRLEN];

	if (!ip) {
		s->c.pool_exhausted++;
		mac_format(m->chaddr, mac);
		log_limited(&s->rl_pool, LOG_WARNING, "dhcp: no free address for %s (%s)",
			    c->name, mac);
		return;
	}
	l = leases_slot(&s->leases, ip);
	if (l)
		leases_offer(&s->leases, l, m->chaddr, now + s->conf->offer_time);
	answer_lan(s, m, cls, c, DHCPOFFER, ip, (uint32_t)s->conf->lease_time);
}

static void dhcp_request(struct pxe_server *s, const struct dhcp_msg *m,
			 const struct pxe_class *cls, const struct db_client *c, time_t now)
{
	uint32_t sid, ip = 0;
	struct lease *l;

	if (dhcp_opt_u32(m, OPT_SERVER_ID, &sid) == 0) {
		/* SELECTING */
		if (sid != s->server_id) {
			/* The client took another server's offer: ours is free again. */
			l = leases_by_mac(&s->leases, m->chaddr, now);
			if (l && l->state == LEASE_OFFERED)
				l->expires = 1;
			s->c.ignored++;
			return;
		}
		if (dhcp_opt_u32(m, OPT_REQ_IP, &ip))
			ip = m->ciaddr;
	} else if (dhcp_opt_u32(m, OPT_REQ_IP, &ip) == 0) {
		/* INIT-REBOOT */
	} else if (m->ciaddr) {
		/* RENEWING (unicast) or REBINDING (broadcast) */
		ip = m->ciaddr;
	}
	if (!ip) {
		s->c.ignored++;
		return;
	}
	if (!address_ok(s, m, c, ip, now)) {
		nak(s, m, "address not available to this client");
		return;
	}
	l = leases_slot(&s->leases, ip);
	if (l)
		leases_bind(&s->leases, l, m->chaddr, now + s->conf->lease_time);
	answer_lan(s, m, cls, c, DHCPACK, ip, (uint32_t)s->conf->lease_time);
}

static int ours(struct pxe_server *s, const struct dhcp_msg *m)
{
	uint32_t sid;

	return dhcp_opt_u32(m, OPT_SERVER_ID, &sid) || sid == s->server_id;
}

static void dhcp_decline(struct pxe_server *s, const struct dhcp_msg *m,
			 const struct db_client *c, time_t now)
{
	char ip_s[INET_ADDRSTRLEN];
	struct lease *l;
	uint32_t ip;

	if (!ours(s, m) || dhcp_opt_u32(m, OPT_REQ_IP, &ip))
		return;
	l = leases_slot(&s->leases, ip);
	if (!l || memcmp(l->mac, m->chaddr, 6) != 0)
		return;
	leases_decline(&s->leases, l, now + s->conf->decline_time);
	ipv4_format(ip, ip_s);
	pxe_client_event(s, m->chaddr, "warning",
			 "%s declined %s: another host uses that address", c->name, ip_s);
}

static void dhcp_release(struct pxe_server *s, const struct dhcp_msg *m, time_t now)
{
	struct lease *l = leases_slot(&s->leases, m->ciaddr);

	if (ours(s, m) && l && memcmp(l->mac, m->chaddr, 6) == 0 && l->state == LEASE_BOUND &&
	    l->expires > now) {
		leases_release(&s->leases, l);
		bindings_clear(&s->bindings, m->chaddr);
	}
}

/* proxyDHCP: boot information only, never an address (the café's router leases). */
static void proxy_answer(struct pxe_server *s, const struct dhcp_msg *m,
			 const struct pxe_class *cls, const struct db_client *c,
			 const struct sockaddr_in *to)
{
	char name[IPXE_URL_MAX];
	const char *file;
	struct dhcp_reply r;
	uint8_t type = to ? DHCPACK : DHCPOFFER;

	if (boot_file(s, m, cls, c, &file, name) || !file)
		return;
	/* The ProxyDHCP REQUEST (port 4011) comes from the address the LAN's server gave the
	 * client: its script is served there. */
	if (to && to->sin_addr.s_addr != htonl(INADDR_ANY))
		bindings_set(&s->bindings, m->chaddr, ntohl(to->sin_addr.s_addr),
			     time(NULL) + PXE_BIND_WINDOW_S);
	dhcp_reply_init(&r, m, type);
	/* iPXE skips the ProxyDHCP REQUEST when the offer already names a next server and a
	 * file (dhcp.c, dhcp_has_pxeopts): its offer names neither, so it asks on port 4011
	 * from the address the LAN's server gave it, and that is where its script is served. */
	if (type == DHCPACK || cls->kind != PXE_KIND_IPXE) {
		dhcp_reply_set_addr(&r, DHCP_OFF_SIADDR, s->conf->service_address);
		dhcp_reply_set_file(&r, file);
	}
	dhcp_reply_opt_u32(&r, OPT_SERVER_ID, s->server_id);
	dhcp_reply_opt_str(&r, OPT_VENDOR_CLASS, "PXEClient");
	dhcp_reply_opt(&r, OPT_VENDOR, pxe_vendor_opts, sizeof(pxe_vendor_opts));
	send_reply(s, m, &r, type, 0, to);
	if (cls->kind == PXE_KIND_ROM)
		pxe_client_booted(s, m, c);
}

void pxe_server_packet(struct pxe_server *s, const uint8_t *buf, size_t len, int port,
		       const struct sockaddr_in *from)
{
	struct dhcp_msg m;
	struct pxe_class cls;
	struct db_client c;
	char src[INET_ADDRSTRLEN];
	enum dhcp_err e;
	time_t now = time(NULL);
	int proxy = s->conf->mode == PXE_MODE_PROXY;

	s->c.received++;
	e = dhcp_parse(buf, len, &m);
	if (e) {
		s->c.bad[e]++;
		s->c.malformed++;
		ipv4_format(ntohl(from->sin_addr.s_addr), src);
		log_limited(&s->rl_bad, LOG_WARNING, "dhcp: dropped a malformed packet from %s: %s",
			    src, dhcp_err_name(e));
		return;
	}
	s->c.by_type[m.type]++;
	pxe_classify(&m, &cls);
	if (m.giaddr && (m.giaddr & s->conf->subnet_mask) !=
			(s->conf->pool.first & s->conf->subnet_mask) && !proxy) {
		/* One pool, one subnet: a relay from another subnet needs another server. */
		s->c.wrong_subnet++;
		return;
	}
	if (proxy) {
		int want = port == PXE_PROXY_PORT ? (m.type == DHCPREQUEST || m.type == DHCPINFORM)
						  : m.type == DHCPDISCOVER;
		/* Plain clients and the DHCP conversation itself belong to the LAN's server. */
		if (cls.kind == PXE_KIND_PLAIN || !want) {
			s->c.ignored++;
			return;
		}
	}
	if (pxe_client_lookup(s, &m, &cls, &c))
		return;
	if (proxy) {
		proxy_answer(s, &m, &cls, &c, port == PXE_PROXY_PORT ? from : NULL);
		return;
	}
	switch (m.type) {
	case DHCPDISCOVER:
		dhcp_discover(s, &m, &cls, &c, now);
		break;
	case DHCPREQUEST:
		dhcp_request(s, &m, &cls, &c, now);
		break;
	case DHCPDECLINE:
		dhcp_decline(s, &m, &c, now);
		break;
	case DHCPRELEASE:
		dhcp_release(s, &m, now);
		break;
	case DHCPINFORM:
		answer_lan(s, &m, &cls, &c, DHCPACK, 0, 0);
		break;
	default:
		s->c.ignored++;	/* OFFER, ACK, NAK: servers' messages */
	}
}
