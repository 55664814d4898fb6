/* pxed's answers without sockets: requests go into pxe_server_packet, the queued replies are
 * read from s->out before the flush. Covers what the namespace tests cannot easily reach:
 * relays (giaddr), unicast with an ARP entry, NAK routing, pool exhaustion, declines,
 * reservations, proxy ports, and leases across a restart. */
#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/ctlsock.h"
#include "common/log.h"
#include "pxe/pxe_server.h"
#include "tests/lib/tap.h"

static uint8_t pkt[DHCP_MAX_LEN];
static size_t pkt_len;
static struct pxe_server srv;
static struct pxe_conf conf;
static struct db *db;
static char dir[] = "/tmp/px-answer.XXXXXX";

static void put32(uint8_t *p, uint32_t v)
{
	v = htonl(v);
	memcpy(p, &v, 4);
}

/* A request from 52:54:00:00:00:<last>; opts: raw option bytes (without END). */
static void req(uint8_t type, uint8_t last, uint16_t flags, uint32_t ciaddr, uint32_t giaddr,
		const char *opts, size_t optlen)
{
	size_t n = DHCP_MIN_LEN;

	memset(pkt, 0, sizeof(pkt));
	pkt[0] = BOOTREQUEST;
	pkt[1] = 1;
	pkt[2] = 6;
	put32(pkt + 4, 0x1000u + last);
	pkt[10] = (uint8_t)(flags >> 8);
	put32(pkt + 12, ciaddr);
	put32(pkt + 24, giaddr);
	memcpy(pkt + DHCP_OFF_CHADDR, "\x52\x54\x00\x00\x00", 5);
	pkt[DHCP_OFF_CHADDR + 5] = last;
	put32(pkt + DHCP_FIXED_LEN, DHCP_MAGIC);
	pkt[n++] = OPT_MSG_TYPE;
	pkt[n++] = 1;
	pkt[n++] = type;
	memcpy(pkt + n, opts, optlen);
	n += optlen;
	pkt[n++] = OPT_END;
	pkt_len = n < 300 ? 300 : n;
}

/* Sends the request in; returns how many replies were queued and parses the first. */
static unsigned run(int port, struct dhcp_msg *out, struct pxe_outgoing *o)
{
	static uint8_t copy[DHCP_REPLY_MAX];
	struct sockaddr_in from = { .sin_family = AF_INET, .sin_port = htons(68) };
	unsigned n;

	from.sin_addr.s_addr = htonl(0x0a000063);
	pxe_server_packet(&srv, pkt, pkt_len, port, &from);
	n = srv.nout;
	if (n) {
		*o = srv.out[0];
		memcpy(copy, o->buf, o->len);
		copy[0] = BOOTREQUEST;
		dhcp_parse(copy, o->len, out);
	}
	pxe_server_flush(&srv);
	return n;
}

static uint32_t to_ip(const struct pxe_outgoing *o)
{
	return ntohl(o->to.sin_addr.s_addr);
}

#define PXE_BIOS "\x3c\x09PXEClient\x5d\x02\x00\x00"
#define REQ_IP(a) "\x32\x04\x0a\x00\x00" a
#define SID "\x36\x04\x0a\x00\x00\x01"
#define OPTS(s) s, sizeof(s) - 1

static void add_client(const char *name, const char *mac, const char *ip)
{
	struct db_client c;

	memset(&c, 0, sizeof(c));
	snprintf(c.name, sizeof(c.name), "%s", name);
	snprintf(c.mac, sizeof(c.mac), "%s", mac);
	snprintf(c.ip, sizeof(c.ip), "%s", ip);
	c.enabled = 1;
	c.overlay = DB_OVERLAY_PERSISTENT;
	db_client_insert(db, &c);
}

static void start(int mode)
{
	memset(&conf, 0, sizeof(conf));
	snprintf(conf.interface, sizeof(conf.interface), "lo");
	conf.mode = mode;
	conf.pool.first = 0x0a000064;	/* 10.0.0.100-10.0.0.102 */
	conf.pool.last = 0x0a000066;
	conf.subnet_mask = 0xffffff00;
	conf.router = 0x0a000001;
	conf.lease_time = 600;
	conf.offer_time = 60;
	conf.decline_time = 600;
	conf.service_address = 0x0a000001;
	conf.server_address = 0x0a000001;
	conf.http_port = 8069;
	snprintf(conf.tftp_root, sizeof(conf.tftp_root), "%s", dir);
	snprintf(conf.state_dir, sizeof(conf.state_dir), "%s", dir);
	snprintf(conf.bios_file, sizeof(conf.bios_file), "undionly.kpxe");
	snprintf(conf.efi_file, sizeof(conf.efi_file), "snponly.efi");
	snprintf(conf.vdiskd_ctl, sizeof(conf.vdiskd_ctl), "%s/none.sock", dir);
	snprintf(conf.standbyd_ctl, sizeof(conf.standbyd_ctl), "%s/none.sock", dir);
	pxe_server_init(&srv, &conf, db, NULL);
}

/* The control socket's `status` and `leases` answers (pxed.c adds tftpd, RA and HTTP). */
static void check_answers(void)
{
	json_t *st = json_pack("{s:b}", "ok", 1), *ls = json_pack("{s:b}", "ok", 1), *v, *e;
	static const char *const strings[] = { "mode", "interface", "server_address",
					       "service_address" };
	const char *k;
	size_t i, n_int = 0, n_other = 0, n_typed = 0;
	int found = 0;

	pxe_server_status(&srv, st);
	ok(ctl_error(st) == NULL, "status answer: ok");
	is_str(json_string_value(json_object_get(st, "mode")), "dhcp", "status: mode, a string");
	is_str(json_string_value(json_object_get(st, "server_address")), "10.0.0.1",
	       "status: server_address, a string");
	ok(!json_object_get(st, "node"), "status: no node configured, no node member");
	v = json_object_get(st, "leases_declined");
	ok(json_is_integer(v) && json_integer_value(v) == 1, "status: leases_declined 1, an int");
	v = json_object_get(st, "pool_exhausted");
	ok(json_is_integer(v) && json_integer_value(v) == (json_int_t)srv.c.pool_exhausted &&
	   srv.c.pool_exhausted > 0, "status: pool_exhausted as counted, an int");
	v = json_object_get(st, "malformed_no_magic");
	ok(json_is_integer(v) && json_integer_value(v) == 1, "status: malformed_no_magic 1");
	v = json_object_get(st, "tx_NAK");
	ok(json_is_integer(v) && json_integer_value(v) == (json_int_t)srv.c.replies[DHCPNAK] &&
	   srv.c.replies[DHCPNAK] > 0, "status: tx_NAK as counted");
	v = json_object_get(st, "tx_OFFER");
	ok(json_is_integer(v) && json_integer_value(v) == (json_int_t)srv.c.replies[DHCPOFFER],
	   "status: tx_OFFER as counted");
	ok(!json_object_get(st, "tx_DECLINE"), "status: no tx_ of a type a server never sends");
	v = json_object_get(st, "rx_DISCOVER");
	ok(json_is_integer(v) && json_integer_value(v) == (json_int_t)srv.c.by_type[DHCPDISCOVER],
	   "status: rx_DISCOVER as counted");
	json_object_foreach(st, k, v) {
		int is_string = 0;

		for (i = 0; i < sizeof(strings) / sizeof(strings[0]); i++)
			is_string |= strcmp(k, strings[i]) == 0;
		if (strcmp(k, "ok") == 0)
			continue;
		if (is_string ? json_is_string(v) : json_is_integer(v))
			n_int++;
		else {
			n_other++;
			diag("status member %s of the wrong type", k);
		}
	}
	ok(n_other == 0 && n_int > 40, "status: every counter an int, the rest strings (%zu)", n_int);
	json_decref(st);

	pxe_server_leases(&srv, ls);
	ok(ctl_error(ls) == NULL, "leases answer: ok");
	v = json_object_get(ls, "lease");
	ok(json_is_array(v) && json_array_size(v) == 2, "leases: an array of 2 (%zu)",
	   json_array_size(v));
	json_array_foreach(v, i, e) {
		const char *addr = json_string_value(json_object_get(e, "address"));
		const char *mac = json_string_value(json_object_get(e, "mac"));
		const char *state = json_string_value(json_object_get(e, "state"));
		json_t *x = json_object_get(e, "expires");

		if (json_object_size(e) != 4 || !addr || !mac || !state || !json_is_integer(x) ||
		    json_integer_value(x) <= 0 || json_integer_value(x) > 600)
			continue;
		n_typed++;
		if (strcmp(addr, "10.0.0.100") == 0 && strcmp(state, "declined") == 0)
			found |= 1;
		if (strcmp(addr, "10.0.0.101") == 0 && strcmp(mac, "52:54:00:00:00:05") == 0 &&
		    strcmp(state, "bound") == 0)
			found |= 2;
	}
	ok(n_typed == json_array_size(v), "leases: each {address, mac, state: strings, expires: "
	   "int, seconds left, at most the lease time}");
	ok(found & 1, "leases: PC001's declined 10.0.0.100");
	ok(found & 2, "leases: 10.0.0.101 bound to PC005's 52:54:00:00:00:05");
	json_decref(ls);
}

int main(void)
{
	struct dhcp_msg m;
	struct pxe_outgoing o;
	char path[64];
	uint32_t v;

	log_init("test", 0, LOG_EMERG);
	if (!mkdtemp(dir)) {
		skip_all("no temporary directory");
		return 0;
	}
	snprintf(path, sizeof(path), "%s/clients", dir);
	mkdir(path, 0755);
	snprintf(path, sizeof(path), "%s/db", dir);
	if (db_open(path, DB_OPEN_CREATE, &db, NULL)) {
		skip_all("cannot create a DB");
		return 0;
	}
	add_client("PC001", "52:54:00:00:00:01", "");
	add_client("PC002", "52:54:00:00:00:02", "");
	add_client("PC003", "52:54:00:00:00:03", "");
	add_client("PC004", "52:54:00:00:00:04", "10.0.0.102");
	add_client("PC005", "52:54:00:00:00:05", "");
	start(PXE_MODE_DHCP);

	req(DHCPDISCOVER, 1, DHCP_FLAG_BROADCAST, 0, 0, OPTS(PXE_BIOS));
	is_int(run(67, &m, &o), 1, "DISCOVER: one reply");
	is_int(m.type, DHCPOFFER, "an OFFER");
	is_int(m.yiaddr, 0x0a000064, "first pool address");
	is_int(to_ip(&o), 0xffffffff, "broadcast flag: broadcast");
	is_int(ntohs(o.to.sin_port), 68, "to port 68");
	is_str((const char *)m.buf + DHCP_OFF_FILE, "undionly.kpxe", "boot file");
	ok(!dhcp_opt_find(&m, OPT_IPXE_ENCAP, 1, NULL), "a PXE ROM gets no iPXE options");

	req(DHCPDISCOVER, 2, 0, 0, 0, OPTS(""));
	run(67, &m, &o);
	is_int(to_ip(&o), m.yiaddr, "no broadcast flag: unicast to the offered address");
	ok(o.set_arp && memcmp(o.arp_mac, "\x52\x54\x00\x00\x00\x02", 6) == 0,
	   "with an ARP entry for the client's MAC");
	is_int(m.yiaddr, 0x0a000065, "second address");
	is_int(m.siaddr, 0, "a plain client gets no next server");

	req(DHCPDISCOVER, 3, 0, 0, 0x0a0000fe, OPTS(""));
	is_int(run(67, &m, &o), 0, "pool exhausted (the last address is PC004's reservation)");
	is_int(srv.c.pool_exhausted, 1, "counted");
	req(DHCPDISCOVER, 4, 0, 0, 0x0a0000fe, OPTS(""));
	run(67, &m, &o);
	is_int(m.yiaddr, 0x0a000066, "the reservation goes to its owner");
	is_int(to_ip(&o), 0x0a0000fe, "relayed: to giaddr");
	is_int(ntohs(o.to.sin_port), 67, "on port 67");
	req(DHCPDISCOVER, 4, 0, 0, 0x0a0000fe, OPTS("\x52\x06\x01\x04port"));
	run(67, &m, &o);
	{
		size_t l = 0;
		const uint8_t *d = dhcp_opt_find(&m, OPT_RELAY_INFO, 1, &l);

		ok(d && l == 6 && memcmp(d, "\x01\x04port", 6) == 0,
		   "the relay's option 82 comes back unchanged");
	}
	req(DHCPDISCOVER, 4, 0, 0, 0x0b0000fe, OPTS(""));
	is_int(run(67, &m, &o), 0, "relay from another subnet: no answer");
	is_int(srv.c.wrong_subnet, 1, "counted");

	req(DHCPREQUEST, 1, DHCP_FLAG_BROADCAST, 0, 0, OPTS(PXE_BIOS SID REQ_IP("\x64")));
	run(67, &m, &o);
	is_int(m.type, DHCPACK, "SELECTING REQUEST: ACK");
	is_int(dhcp_opt_u32(&m, OPT_LEASE_TIME, &v) == 0 ? v : 0, 600, "lease time");
	is_int(dhcp_opt_u32(&m, OPT_T2, &v) == 0 ? v : 0, 525, "T2 = 7/8");
	is_int(srv.c.boots, 1, "the PXE ROM's boot is recorded at the flush");
	req(DHCPREQUEST, 1, 0, 0x0a000064, 0, OPTS(""));
	run(67, &m, &o);
	is_int(m.type, DHCPACK, "RENEWING: ACK");
	is_int(to_ip(&o), 0x0a000064, "unicast to ciaddr");
	req(DHCPREQUEST, 2, 0, 0, 0x0a0000fe, OPTS(REQ_IP("\x64")));
	run(67, &m, &o);
	is_int(m.type, DHCPNAK, "INIT-REBOOT for someone else's address: NAK");
	is_int(to_ip(&o), 0x0a0000fe, "relayed NAK to the relay");
	ok(m.flags & DHCP_FLAG_BROADCAST, "with the broadcast bit for the relay");
	req(DHCPREQUEST, 2, 0, 0, 0, OPTS(REQ_IP("\x66")));
	run(67, &m, &o);
	is_int(m.type, DHCPNAK, "asking for another client's reservation: NAK");
	is_int(to_ip(&o), 0xffffffff, "an unrelayed NAK is broadcast");
	req(DHCPREQUEST, 2, 0, 0, 0, OPTS("\x36\x04\x0a\x00\x00\x09" REQ_IP("\x65")));
	is_int(run(67, &m, &o), 0, "REQUEST for another server: silence");
	req(DHCPDISCOVER, 5, DHCP_FLAG_BROADCAST, 0, 0, OPTS(""));
	run(67, &m, &o);
	is_int(m.yiaddr, 0x0a000065, "PC002's abandoned offer went back to the pool");

	req(DHCPDECLINE, 1, 0, 0, 0, OPTS(SID REQ_IP("\x64")));
	is_int(run(67, &m, &o), 0, "DECLINE: no reply");
	is_int(leases_count(&srv.leases, LEASE_DECLINED, time(NULL)), 1, "address marked declined");
	req(DHCPDISCOVER, 1, DHCP_FLAG_BROADCAST, 0, 0, OPTS(""));
	is_int(run(67, &m, &o), 0, "and not offered again: pool exhausted for PC001");

	req(DHCPINFORM, 5, 0, 0x0a000065, 0, OPTS(""));
	run(67, &m, &o);
	ok(m.type == DHCPACK && m.yiaddr == 0, "INFORM: ACK without an address");
	ok(dhcp_opt_find(&m, OPT_LEASE_TIME, 4, NULL) == NULL, "and without a lease time");
	is_int(to_ip(&o), 0x0a000065, "to ciaddr");

	req(DHCPREQUEST, 4, 0, 0, 0, OPTS(SID REQ_IP("\x66")));
	run(67, &m, &o);
	is_int(m.type, DHCPACK, "PC004 binds its reservation");
	req(DHCPRELEASE, 4, 0, 0x0a000066, 0, OPTS(SID));
	is_int(run(67, &m, &o), 0, "RELEASE: no reply");
	is_int(leases_count(&srv.leases, LEASE_BOUND, time(NULL)), 0, "nothing bound after release");

	req(DHCPDISCOVER, 9, DHCP_FLAG_BROADCAST, 0, 0, OPTS(PXE_BIOS));
	is_int(run(67, &m, &o), 0, "unknown MAC: silence");
	is_int(srv.c.unknown, 1, "counted");
	pkt[DHCP_FIXED_LEN] = 0;
	is_int(run(67, &m, &o), 0, "bad magic: silence");
	is_int(srv.c.bad[DHCP_E_MAGIC], 1, "counted under its reason");

	/* iPXE: its script, unless the admin's iqn_prefix would break the script's syntax. */
	req(DHCPREQUEST, 5, 0, 0x0a000065, 0, OPTS("\x4d\x04iPXE"));
	run(67, &m, &o);
	is_str((const char *)m.buf + DHCP_OFF_FILE, "http://10.0.0.1:8069/ipxe/52-54-00-00-00-05.ipxe",
	       "iPXE gets its script's URL on pxed's HTTP server");
	{
		const struct pxe_binding *b = bindings_find(&srv.bindings, m.chaddr, time(NULL));
		char f[128];

		ok(m.type == DHCPACK && b && b->ip == 0x0a000065,
		   "the ACK binds the client's script to the address it gave");
		snprintf(f, sizeof(f), "%s/clients/52-54-00-00-00-05.ipxe", dir);
		ok(access(f, F_OK) != 0, "no script file is written (it would hold the secrets)");
	}
	{
		size_t len = 0;
		const uint8_t *e = dhcp_opt_find(&m, OPT_IPXE_ENCAP, 3, &len);

		ok(e && len == 3 && e[0] == 176 && e[1] == 1 && e[2] == 1,
		   "and iPXE's no-pxedhcp: no 3 s wait for a ProxyDHCP offer");
	}
	db_setting_set(db, "iqn_prefix", "iqn.x; shell");
	add_client("PC006", "52:54:00:00:00:06", "10.0.0.50");
	req(DHCPDISCOVER, 6, DHCP_FLAG_BROADCAST, 0, 0, OPTS("\x4d\x04iPXE"));
	is_int(run(67, &m, &o), 0, "an initiator name with script syntax: no boot");
	is_int(srv.c.script_errors, 1, "counted as a script error");

	check_answers();

	/* A restart keeps the declined address away. */
	pxe_server_close(&srv);
	start(PXE_MODE_DHCP);
	is_int(leases_count(&srv.leases, LEASE_DECLINED, time(NULL)), 1,
	       "after a restart the declined address is still declined");
	pxe_server_close(&srv);

	/* proxyDHCP */
	start(PXE_MODE_PROXY);
	req(DHCPDISCOVER, 1, DHCP_FLAG_BROADCAST, 0, 0, OPTS(PXE_BIOS));
	run(67, &m, &o);
	ok(m.type == DHCPOFFER && m.yiaddr == 0, "proxy: OFFER without an address");
	is_int(m.siaddr, 0x0a000001, "proxy: next server");
	is_int(o.sock, PXE_SOCK_DHCP, "from port 67");
	req(DHCPDISCOVER, 1, DHCP_FLAG_BROADCAST, 0, 0, OPTS(""));
	is_int(run(67, &m, &o), 0, "proxy: a plain client is left alone");
	req(DHCPREQUEST, 1, 0, 0x0a000063, 0, OPTS(PXE_BIOS));
	is_int(run(67, &m, &o), 0, "proxy: a REQUEST on port 67 is the DHCP server's");
	run(PXE_PROXY_PORT, &m, &o);
	is_int(m.type, DHCPACK, "proxy: REQUEST on 4011 gets an ACK");
	is_int(o.sock, PXE_SOCK_PROXY, "from port 4011");
	is_int(to_ip(&o), 0x0a000063, "back to the sender");
	{
		const struct pxe_binding *b = bindings_find(&srv.bindings, m.chaddr, time(NULL));

		ok(b && b->ip == 0x0a000063,
		   "proxy: the 4011 REQUEST's source is where the client's script is served");
	}
	req(DHCPDISCOVER, 1, DHCP_FLAG_BROADCAST, 0, 0, OPTS("\x3c\x09PXEClient\x5d\x02\x00\x0b"));
	is_int(run(67, &m, &o), 0, "proxy: no iPXE build for ARM64: silence");
	pxe_server_close(&srv);

	db_close(db);
	snprintf(path, sizeof(path), "rm -rf %s", dir);
	ok(system(path) == 0, "temporary files removed");
	return done_testing();
}
