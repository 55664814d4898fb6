/* Test helper: sends one crafted DHCP request from port 68 (or any port with --sport) and
 * prints the replies that match its xid, one key=value per line, "---" between replies;
 * "none" when nothing came before the timeout.
 *   pxe_client -i IFACE [options]
 *   -m MAC            chaddr (default 52:54:00:00:00:01)
 *   -t TYPE           discover|request|inform|release|decline (default discover)
 *   --pxe ARCH        PXE ROM: option 60 "PXEClient:Arch:...", 93 = ARCH, 97 (UUID)
 *   --ipxe            iPXE: option 77 "iPXE" (and 60 PXEClient, 93 = 0)
 *   --req-ip IP       option 50          --server-id IP   option 54
 *   --ciaddr IP       ciaddr             --giaddr IP      giaddr
 *   --to IP[:PORT]    destination (default 255.255.255.255:67)
 *   --sport PORT      source port (default 68)
 *   --unicast         clear the broadcast flag
 *   --dora            DISCOVER, then REQUEST the offer; print the ACK
 *   --bad KIND        send a malformed packet: short, optlen, overload, many, magic, type
 *   --timeout MS      wait this long for replies (default 1500)
 *   --all             print every reply until the timeout, not just the first
 *   --xid N           transaction id
 *   --flood N         send N such requests at once, each from a random MAC (and xid), then
 *                     exit printing "sent=N" without waiting for replies */
#include <arpa/inet.h>
#include <errno.h>
#include <getopt.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "common/netaddr.h"
#include "pxe/dhcp_pkt.h"

struct opts {
	const char *iface;
	uint8_t mac[6];
	int type, arch, ipxe, unicast, dora, timeout_ms, sport, all;
	uint32_t req_ip, server_id, ciaddr, giaddr, xid;
	struct sockaddr_in to;
	const char *bad;
};

static void put32(uint8_t *p, uint32_t v)
{
	v = htonl(v);
	memcpy(p, &v, 4);
}

static size_t build(const struct opts *o, int type, uint8_t *p)
{
	size_t n = DHCP_MIN_LEN;

	memset(p, 0, DHCP_MAX_LEN);
	p[0] = BOOTREQUEST;
	p[1] = 1;
	p[2] = 6;
	p[4] = (uint8_t)(o->xid >> 24); p[5] = (uint8_t)(o->xid >> 16);
	p[6] = (uint8_t)(o->xid >> 8); p[7] = (uint8_t)o->xid;
	if (!o->unicast)
		p[10] = 0x80;
	put32(p + 12, o->ciaddr);
	put32(p + 24, o->giaddr);
	memcpy(p + DHCP_OFF_CHADDR, o->mac, 6);
	memcpy(p + DHCP_FIXED_LEN, "\x63\x82\x53\x63", 4);
#define OPT(code, len) (p[n++] = (code), p[n++] = (uint8_t)(len))
	OPT(OPT_MSG_TYPE, 1);
	p[n++] = (uint8_t)type;
	if (o->arch >= 0 || o->ipxe) {
		const char *vc = "PXEClient:Arch:00000:UNDI:002001";
		int arch = o->arch < 0 ? 0 : o->arch;

		OPT(OPT_VENDOR_CLASS, strlen(vc));
		memcpy(p + n, vc, strlen(vc));
		n += strlen(vc);
		OPT(OPT_CLIENT_ARCH, 2);
		p[n++] = (uint8_t)(arch >> 8);
		p[n++] = (uint8_t)arch;
		OPT(OPT_CLIENT_UUID, 17);
		p[n++] = 0;
		memset(p + n, 0x42, 16);
		n += 16;
	}
	if (o->ipxe) {
		OPT(OPT_USER_CLASS, 4);
		memcpy(p + n, "iPXE", 4);
		n += 4;
	}
	if (o->req_ip) {
		OPT(OPT_REQ_IP, 4);
		put32(p + n, o->req_ip);
		n += 4;
	}
	if (o->server_id) {
		OPT(OPT_SERVER_ID, 4);
		put32(p + n, o->server_id);
		n += 4;
	}
	OPT(OPT_PARAM_LIST, 4);
	p[n++] = 1; p[n++] = 3; p[n++] = 6; p[n++] = 67;
	p[n++] = OPT_END;
#undef OPT
	return n < DHCP_REPLY_MIN ? DHCP_REPLY_MIN : n;
}

/* Turns a good packet into one of the malformed kinds the server must drop and count. */
static size_t spoil(const char *kind, uint8_t *p, size_t n)
{
	size_t i;

	if (strcmp(kind, "short") == 0)
		return 200;
	if (strcmp(kind, "magic") == 0) {
		p[DHCP_FIXED_LEN] = 0;
		return n;
	}
	if (strcmp(kind, "optlen") == 0) {
		p[DHCP_MIN_LEN + 3] = OPT_VENDOR_CLASS;
		p[DHCP_MIN_LEN + 4] = 250;	/* runs past the end */
		return DHCP_MIN_LEN + 10;
	}
	if (strcmp(kind, "overload") == 0) {
		p[DHCP_MIN_LEN + 3] = OPT_OVERLOAD;
		p[DHCP_MIN_LEN + 4] = 1;
		p[DHCP_MIN_LEN + 5] = 9;	/* no such overload value */
		p[DHCP_MIN_LEN + 6] = OPT_END;
		return n;
	}
	if (strcmp(kind, "many") == 0) {
		for (i = DHCP_MIN_LEN + 3; i + 2 < DHCP_MAX_LEN; i += 2) {
			p[i] = OPT_HOSTNAME;
			p[i + 1] = 0;
		}
		return DHCP_MAX_LEN;
	}
	if (strcmp(kind, "type") == 0) {
		p[DHCP_MIN_LEN + 2] = 42;
		return n;
	}
	fprintf(stderr, "pxe_client: unknown --bad kind %s\n", kind);
	exit(2);
}

static void print_reply(const struct dhcp_msg *m)
{
	char ip[INET_ADDRSTRLEN], s[256];
	uint32_t v;
	size_t len;
	const uint8_t *d;

	printf("type=%s\n", dhcp_type_name(m->type));
	ipv4_format(m->yiaddr, ip);
	printf("yiaddr=%s\n", ip);
	ipv4_format(m->siaddr, ip);
	printf("siaddr=%s\n", ip);
	ipv4_format(m->ciaddr, ip);
	printf("ciaddr=%s\n", ip);
	printf("broadcast=%d\n", !!(m->flags & DHCP_FLAG_BROADCAST));
	snprintf(s, sizeof(s), "%.*s", DHCP_FILE_LEN, (const char *)m->buf + DHCP_OFF_FILE);
	printf("file=%s\n", s);
	if (dhcp_opt_u32(m, OPT_SERVER_ID, &v) == 0) {
		ipv4_format(v, ip);
		printf("server_id=%s\n", ip);
	}
	if (dhcp_opt_u32(m, OPT_LEASE_TIME, &v) == 0)
		printf("lease=%u\n", v);
	if (dhcp_opt_u32(m, OPT_T1, &v) == 0)
		printf("t1=%u\n", v);
	if (dhcp_opt_u32(m, OPT_SUBNET_MASK, &v) == 0) {
		ipv4_format(v, ip);
		printf("mask=%s\n", ip);
	}
	if (dhcp_opt_u32(m, OPT_ROUTER, &v) == 0) {
		ipv4_format(v, ip);
		printf("router=%s\n", ip);
	}
	if (dhcp_opt_str(m, OPT_HOSTNAME, s, sizeof(s)) >= 0)
		printf("hostname=%s\n", s);
	if (dhcp_opt_str(m, OPT_VENDOR_CLASS, s, sizeof(s)) >= 0)
		printf("vendor=%s\n", s);
	if (dhcp_opt_str(m, OPT_MESSAGE, s, sizeof(s)) >= 0)
		printf("message=%s\n", s);
	d = dhcp_opt_find(m, OPT_VENDOR, 3, &len);
	if (d)
		printf("pxe_discovery_control=%d\n", d[0] == 6 && d[1] == 1 ? d[2] : -1);
}

/* Waits for replies to our xid; keeps the last one in *last. Returns how many came. */
static int receive(int fd, const struct opts *o, int wait_all, uint8_t *keep, struct dhcp_msg *last)
{
	static uint8_t buf[DHCP_MAX_LEN + 1];
	struct timespec t0, t;
	int got = 0;

	clock_gettime(CLOCK_MONOTONIC, &t0);
	for (;;) {
		struct pollfd pfd = { .fd = fd, .events = POLLIN };
		struct dhcp_msg m;
		long left;
		ssize_t n;

		clock_gettime(CLOCK_MONOTONIC, &t);
		left = o->timeout_ms - ((t.tv_sec - t0.tv_sec) * 1000 +
					(t.tv_nsec - t0.tv_nsec) / 1000000);
		if (left <= 0 || poll(&pfd, 1, (int)left) <= 0)
			break;
		n = recv(fd, buf, sizeof(buf), 0);
		if (n < 0)
			break;
		/* Replies are BOOTREPLYs: turn the op around so the request parser reads them. */
		if (n > 0)
			buf[0] = BOOTREQUEST;
		if (dhcp_parse(buf, (size_t)n, &m) != DHCP_OK || m.xid != o->xid ||
		    memcmp(m.chaddr, o->mac, 6) != 0)
			continue;
		if (got++)
			printf("---\n");
		print_reply(&m);
		memcpy(keep, buf, (size_t)n);
		dhcp_parse(keep, (size_t)n, last);
		if (!wait_all)
			break;
	}
	return got;
}

int main(int argc, char **argv)
{
	static const struct option lo[] = {
		{ "pxe", required_argument, NULL, 'P' }, { "ipxe", no_argument, NULL, 'X' },
		{ "req-ip", required_argument, NULL, 'r' }, { "server-id", required_argument, NULL, 's' },
		{ "ciaddr", required_argument, NULL, 'C' }, { "giaddr", required_argument, NULL, 'g' },
		{ "to", required_argument, NULL, 'T' }, { "sport", required_argument, NULL, 'p' },
		{ "unicast", no_argument, NULL, 'u' }, { "dora", no_argument, NULL, 'd' },
		{ "bad", required_argument, NULL, 'b' }, { "timeout", required_argument, NULL, 'w' },
		{ "xid", required_argument, NULL, 'x' }, { "all", no_argument, NULL, 'a' },
		{ "flood", required_argument, NULL, 'F' },
		{ NULL, 0, NULL, 0 },
	};
	static const char *const types[] = { "", "discover", "", "request", "decline", "", "",
					     "release", "inform" };
	static uint8_t pkt[DHCP_MAX_LEN], keep[DHCP_MAX_LEN + 1];
	struct opts o = { .type = DHCPDISCOVER, .arch = -1, .timeout_ms = 1500, .sport = 68 };
	struct sockaddr_in me = { .sin_family = AF_INET };
	struct dhcp_msg offer;
	int c, fd, on = 1, i, got, flood = 0;
	size_t n;
	char *colon;

	mac_parse("52:54:00:00:00:01", o.mac);
	o.to.sin_family = AF_INET;
	o.to.sin_port = htons(67);
	o.to.sin_addr.s_addr = htonl(INADDR_BROADCAST);
	o.xid = (uint32_t)getpid() * 2654435761u;
	while ((c = getopt_long(argc, argv, "i:m:t:", lo, NULL)) != -1) {
		switch (c) {
		case 'i': o.iface = optarg; break;
		case 'm': if (mac_parse(optarg, o.mac)) return 2; break;
		case 't':
			for (i = 1; i <= DHCPINFORM; i++)
				if (strcmp(optarg, types[i]) == 0 && *types[i])
					o.type = i;
			break;
		case 'P': o.arch = atoi(optarg); break;
		case 'X': o.ipxe = 1; break;
		case 'r': if (ipv4_parse(optarg, &o.req_ip)) return 2; break;
		case 's': if (ipv4_parse(optarg, &o.server_id)) return 2; break;
		case 'C': if (ipv4_parse(optarg, &o.ciaddr)) return 2; break;
		case 'g': if (ipv4_parse(optarg, &o.giaddr)) return 2; break;
		case 'T': {
			uint32_t a;

			colon = strchr(optarg, ':');
			if (colon) {
				*colon = '\0';
				o.to.sin_port = htons((uint16_t)atoi(colon + 1));
			}
			if (ipv4_parse(optarg, &a))
				return 2;
			o.to.sin_addr.s_addr = htonl(a);
			break;
		}
		case 'p': o.sport = atoi(optarg); break;
		case 'u': o.unicast = 1; break;
		case 'd': o.dora = 1; break;
		case 'b': o.bad = optarg; break;
		case 'w': o.timeout_ms = atoi(optarg); break;
		case 'a': o.all = 1; break;
		case 'x': o.xid = (uint32_t)strtoul(optarg, NULL, 0); break;
		case 'F': flood = atoi(optarg); break;
		default: return 2;
		}
	}
	if (!o.iface) {
		fprintf(stderr, "usage: pxe_client -i IFACE [options] (see the source)\n");
		return 2;
	}
	fd = socket(AF_INET, SOCK_DGRAM, 0);
	me.sin_port = htons((uint16_t)o.sport);
	if (fd < 0 || setsockopt(fd, SOL_SOCKET, SO_BROADCAST, &on, sizeof(on)) ||
	    setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &on, sizeof(on)) ||
	    setsockopt(fd, SOL_SOCKET, SO_BINDTODEVICE, o.iface, (socklen_t)strlen(o.iface)) ||
	    bind(fd, (struct sockaddr *)&me, sizeof(me))) {
		perror("pxe_client: socket");
		return 1;
	}
	if (flood > 0) {
		FILE *r = fopen("/dev/urandom", "rb");

		for (i = 0; r && i < flood; i++) {
			if (fread(o.mac, 1, 6, r) != 6 || fread(&o.xid, 1, 4, r) != 4)
				break;
			o.mac[0] &= 0xfe;	/* unicast */
			n = build(&o, o.type, pkt);
			if (sendto(fd, pkt, n, 0, (struct sockaddr *)&o.to, sizeof(o.to)) < 0)
				break;
		}
		if (r)
			fclose(r);
		printf("sent=%d\n", i);
		close(fd);
		return i == flood ? 0 : 1;
	}
	if (o.dora)
		o.type = DHCPDISCOVER;
	n = build(&o, o.type, pkt);
	if (o.bad)
		n = spoil(o.bad, pkt, n);
	if (sendto(fd, pkt, n, 0, (struct sockaddr *)&o.to, sizeof(o.to)) < 0) {
		perror("pxe_client: sendto");
		return 1;
	}
	got = receive(fd, &o, o.all && !o.dora, keep, &offer);
	if (o.dora && got) {
		uint32_t sid = 0;

		printf("---\n");
		dhcp_opt_u32(&offer, OPT_SERVER_ID, &sid);
		o.server_id = sid;
		o.req_ip = offer.yiaddr;
		n = build(&o, DHCPREQUEST, pkt);
		if (sendto(fd, pkt, n, 0, (struct sockaddr *)&o.to, sizeof(o.to)) < 0) {
			perror("pxe_client: sendto");
			return 1;
		}
		got = receive(fd, &o, 0, keep, &offer);
	}
	if (!got)
		printf("none\n");
	close(fd);
	return 0;
}
