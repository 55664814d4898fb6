#include "pxe/pxe_conf.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "common/kvconf.h"
#include "common/netaddr.h"

static const char *const modes[] = { "dhcp", "proxy", NULL };

static int parse_pool(const char *value, void *field, char *err, size_t errlen)
{
	struct pxe_pool *p = field;
	char first[INET_ADDRSTRLEN + 1];
	const char *dash = strchr(value, '-');
	size_t n = dash ? (size_t)(dash - value) : 0;

	if (!dash || n >= sizeof(first)) {
		snprintf(err, errlen, "'%s' is not FIRST-LAST", value);
		return -EINVAL;
	}
	memcpy(first, value, n);
	first[n] = '\0';
	if (ipv4_parse(first, &p->first) || ipv4_parse(dash + 1, &p->last)) {
		snprintf(err, errlen, "'%s' is not FIRST-LAST (two IPv4 addresses)", value);
		return -EINVAL;
	}
	if (p->first > p->last) {
		snprintf(err, errlen, "first address after the last");
		return -EINVAL;
	}
	if (p->last - p->first >= PXE_POOL_MAX) {
		snprintf(err, errlen, "more than %d addresses", PXE_POOL_MAX);
		return -EINVAL;
	}
	return 0;
}

static int parse_dns(const char *value, void *field, char *err, size_t errlen)
{
	struct pxe_dns *d = field;
	char buf[256], *tok, *save = NULL;

	if (strlen(value) >= sizeof(buf)) {
		snprintf(err, errlen, "list too long");
		return -EINVAL;
	}
	strcpy(buf, value);
	d->n = 0;
	for (tok = strtok_r(buf, ", \t", &save); tok; tok = strtok_r(NULL, ", \t", &save)) {
		if (d->n == PXE_MAX_DNS) {
			snprintf(err, errlen, "more than %d servers", PXE_MAX_DNS);
			return -EINVAL;
		}
		if (ipv4_parse(tok, &d->addr[d->n])) {
			snprintf(err, errlen, "'%s' is not an IPv4 address", tok);
			return -EINVAL;
		}
		d->n++;
	}
	return 0;
}

#define F(m) KV_FIELD(struct pxe_conf, m)
#define S(m) sizeof(((struct pxe_conf *)0)->m)
static const struct kv_key keys[] = {
	{ "interface",       KV_STR,    F(interface),       S(interface),    0, 0, NULL, NULL, NULL },
	{ "mode",            KV_ENUM,   F(mode),            0, 0, 0, "dhcp", modes, NULL },
	{ "pool",            KV_CUSTOM, F(pool),            0, 0, 0, NULL, NULL, parse_pool },
	{ "subnet_mask",     KV_IPV4,   F(subnet_mask),     0, 0, 0, "255.255.255.0", NULL, NULL },
	{ "router",          KV_IPV4,   F(router),          0, 0, 0, NULL, NULL, NULL },
	{ "dns",             KV_CUSTOM, F(dns),             0, 0, 0, NULL, NULL, parse_dns },
	{ "lease_time",      KV_INT,    F(lease_time),      0, 120, 7 * 86400, "3600", NULL, NULL },
	{ "offer_time",      KV_INT,    F(offer_time),      0, 5, 600, "60", NULL, NULL },
	{ "decline_time",    KV_INT,    F(decline_time),    0, 10, 86400, "600", NULL, NULL },
	{ "service_address", KV_IPV4,   F(service_address), 0, 0, 0, NULL, NULL, NULL },
	{ "server_address",  KV_IPV4,   F(server_address),  0, 0, 0, NULL, NULL, NULL },
	{ "tftp_root",       KV_STR,    F(tftp_root),       S(tftp_root),    0, 0, "/srv/tftp", NULL, NULL },
	{ "tftp",            KV_BOOL,   F(tftp),            0, 0, 0, "on", NULL, NULL },
	{ "tftpd",           KV_STR,    F(tftpd),           S(tftpd),        0, 0, "/usr/sbin/in.tftpd", NULL, NULL },
	{ "tftp_user",       KV_STR,    F(tftp_user),       S(tftp_user),    0, 0, "tftp", NULL, NULL },
	{ "user",            KV_STR,    F(user),            S(user),         0, 0, "", NULL, NULL },
	{ "ipxe_dir",        KV_STR,    F(ipxe_dir),        S(ipxe_dir),     0, 0, "/usr/lib/ipxe", NULL, NULL },
	{ "bios_file",       KV_STR,    F(bios_file),       S(bios_file),    0, 0, "undionly.kpxe", NULL, NULL },
	{ "efi_file",        KV_STR,    F(efi_file),        S(efi_file),     0, 0, "snponly.efi", NULL, NULL },
	{ "state_dir",       KV_STR,    F(state_dir),       S(state_dir),    0, 0, "/var/lib/vdisk/pxed", NULL, NULL },
	{ "ctl_socket",      KV_STR,    F(ctl_socket),      S(ctl_socket),   0, 0, "/run/vdisk/pxed.sock", NULL, NULL },
	{ "vdiskd_ctl",      KV_STR,    F(vdiskd_ctl),      S(vdiskd_ctl),   0, 0, "/run/vdisk/vdiskd.sock", NULL, NULL },
	{ "standbyd_ctl",    KV_STR,    F(standbyd_ctl),    S(standbyd_ctl), 0, 0, "/run/vdisk/standbyd.sock", NULL, NULL },
	{ "node",            KV_STR,    F(node),            S(node),         0, 0, "", NULL, NULL },
	{ "router_advert",   KV_BOOL,   F(router_advert),   0, 0, 0, "on", NULL, NULL },
	{ "http_port",       KV_INT,    F(http_port),       0, 1, 65535, "8069", NULL, NULL },
};
#undef F
#undef S
#define NKEYS (sizeof(keys) / sizeof(keys[0]))

static int key_index(const char *name)
{
	size_t i;

	for (i = 0; i < NKEYS; i++)
		if (strcmp(keys[i].name, name) == 0)
			return (int)i;
	return -1;
}

/* Checks that need several keys, after the whole file is read. */
static int check(const char *path, const struct pxe_conf *c, const unsigned char *seen,
		 char *err, size_t errlen)
{
	uint32_t m = c->subnet_mask;

	if (!seen[key_index("interface")] || !*c->interface) {
		snprintf(err, errlen, "%s: interface is required", path);
		return -EINVAL;
	}
	if (!seen[key_index("service_address")]) {
		snprintf(err, errlen, "%s: service_address is required", path);
		return -EINVAL;
	}
	/* A netmask is ones then zeros. */
	if (m == 0 || (~m & (~m + 1)) != 0) {
		snprintf(err, errlen, "%s: subnet_mask is not a netmask", path);
		return -EINVAL;
	}
	if (c->mode == PXE_MODE_DHCP) {
		if (!seen[key_index("pool")]) {
			snprintf(err, errlen, "%s: mode dhcp needs a pool", path);
			return -EINVAL;
		}
		if (c->service_address >= c->pool.first && c->service_address <= c->pool.last) {
			snprintf(err, errlen, "%s: service_address lies inside the pool", path);
			return -EINVAL;
		}
		if ((c->pool.first & m) != (c->pool.last & m)) {
			snprintf(err, errlen, "%s: pool spans more than one subnet_mask network",
				 path);
			return -EINVAL;
		}
	}
	return 0;
}

int pxe_conf_load(const char *path, struct pxe_conf *c, char *err, size_t errlen)
{
	unsigned char seen[NKEYS];
	int rc;

	memset(c, 0, sizeof(*c));
	rc = kvconf_load(keys, NKEYS, path, c, seen, err, errlen);
	if (rc)
		return rc;
	return check(path, c, seen, err, errlen);
}
