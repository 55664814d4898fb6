/* haresources: "NODE res1 res2 ...", one resource group, resources written NAME::ARG::ARG.
 * NODE is the preferred node; resources start left to right and stop right to left. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/netaddr.h"
#include "standby/cfgline.h"
#include "standby/config.h"

static int valid_script_name(const char *s)
{
	if (!*s || strcmp(s, ".") == 0 || strcmp(s, "..") == 0)
		return 0;
	for (; *s; s++)
		if (!((*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z') ||
		      (*s >= '0' && *s <= '9') || *s == '.' || *s == '_' || *s == '-'))
			return 0;
	return 1;
}

/* ADDR[/PREFIX[/IF[/BROADCAST]]], as Heartbeat's IPaddr takes it; BROADCAST follows from
 * the prefix here and is only checked. */
static int parse_ipaddr(struct cfg_reader *r, struct cfg_err *err, char *spec,
			struct ha_resource *res)
{
	char *parts[5], *save = NULL, *t;
	int n = 0;
	uint32_t bcast;

	for (t = strtok_r(spec, "/", &save); t && n < 5; t = strtok_r(NULL, "/", &save))
		parts[n++] = t;
	if (n == 0 || n > 4)
		return cfg_fail(r, err, "IPaddr wants ADDR[/PREFIX[/IF]]");
	if (ipv4_parse(parts[0], &res->addr) || res->addr == 0 || (res->addr >> 28) >= 0xe)
		return cfg_fail(r, err, "IPaddr '%.40s' is not a unicast IPv4 address", parts[0]);
	if (n > 1) {
		char *end;
		unsigned long p = strtoul(parts[1], &end, 10);

		if (*end || end == parts[1] || p < 1 || p > 32)
			return cfg_fail(r, err, "IPaddr prefix '%.40s': want 1 to 32", parts[1]);
		res->prefix = (unsigned)p;
	}
	if (n > 2) {
		if (strlen(parts[2]) >= IF_NAMESIZE)
			return cfg_fail(r, err, "IPaddr interface '%.40s' is not an interface name",
					parts[2]);
		strcpy(res->ifname, parts[2]);	/* length checked above */
	}
	if (n > 3 && ipv4_parse(parts[3], &bcast))
		return cfg_fail(r, err, "IPaddr broadcast '%.40s' is not an IPv4 address", parts[3]);
	return 0;
}

static int parse_resource(struct cfg_reader *r, struct cfg_err *err, const char *word,
			  struct ha_resource *res)
{
	const char *sep = strstr(word, "::");
	size_t nlen = sep ? (size_t)(sep - word) : strlen(word);
	char spec[CFG_LINE_MAX];
	uint32_t bare;

	memset(res, 0, sizeof(*res));
	if (nlen == 0 || nlen >= sizeof(res->name))
		return cfg_fail(r, err, "resource name in '%.40s' must be 1 to %zu characters", word,
				sizeof(res->name) - 1);
	memcpy(res->name, word, nlen);
	res->name[nlen] = '\0';
	if (sep) {
		const char *a = sep + 2;
		size_t o = 0;

		if (strlen(a) >= sizeof(res->arg))
			return cfg_fail(r, err, "resource arguments longer than %zu bytes",
					sizeof(res->arg) - 1);
		while (*a) {
			if (a[0] == ':' && a[1] == ':') {
				res->arg[o++] = ' ';
				a += 2;
			} else
				res->arg[o++] = *a++;
		}
		res->arg[o] = '\0';
	}
	/* Heartbeat takes a bare address as shorthand for IPaddr::ADDR. */
	if (!sep && strchr(word, '.') && strlen(word) < sizeof(spec)) {
		char *slash;

		strcpy(spec, word);
		slash = strchr(spec, '/');
		if (slash)
			*slash = '\0';
		if (ipv4_parse(spec, &bare) == 0) {
			strcpy(spec, word);
			strcpy(res->arg, word);
			snprintf(res->name, sizeof(res->name), "IPaddr");
			res->kind = HA_RES_IPADDR;
			return parse_ipaddr(r, err, spec, res);
		}
	}
	if (strcmp(res->name, "IPaddr") == 0 || strcmp(res->name, "IPaddr2") == 0) {
		if (!sep || !*res->arg)
			return cfg_fail(r, err, "%s wants ::ADDR[/PREFIX[/IF]]", res->name);
		if (strchr(res->arg, ' '))
			return cfg_fail(r, err, "%s takes one argument", res->name);
		res->kind = HA_RES_IPADDR;
		strcpy(spec, res->arg);	/* arg is shorter than spec */
		return parse_ipaddr(r, err, spec, res);
	}
	if (strcmp(res->name, "vdiskd") == 0) {
		res->kind = HA_RES_VDISKD;
		if (*res->arg && (res->arg[0] != '/' || strchr(res->arg, ' ')))
			return cfg_fail(r, err, "vdiskd::ARG must be an absolute socket path");
		return 0;
	}
	if (strcmp(res->name, "pxed") == 0) {
		res->kind = HA_RES_PXED;
		if (*res->arg && res->arg[0] != '/')
			return cfg_fail(r, err, "pxed::ARG must be an absolute command path");
		return 0;
	}
	if (!valid_script_name(res->name))
		return cfg_fail(r, err, "'%.40s' is not a resource script name", res->name);
	res->kind = HA_RES_LSB;
	return 0;
}

int ha_resources_parse(struct ha_resources *hr, const char *fname, const char *buf, size_t len,
		       struct cfg_err *err)
{
	struct cfg_reader r;
	unsigned group_line = 0;
	int rc;

	memset(hr, 0, sizeof(*hr));
	hr->ipaddr_idx = -1;
	cfg_reader_init(&r, fname, buf, len);
	while ((rc = cfg_next(&r, err)) == 1) {
		int i;

		if (group_line)
			return cfg_fail(&r, err, "second resource group (first on line %u): standbyd "
					"runs one group", group_line);
		group_line = r.lineno;
		if (strlen(r.words[0]) >= HA_NAME_MAX)
			return cfg_fail(&r, err, "node name '%.40s' longer than %d", r.words[0],
					HA_NAME_MAX - 1);
		strcpy(hr->node, r.words[0]);	/* length checked above */
		if (r.nwords - 1 > HA_MAX_RES)
			return cfg_fail(&r, err, "more than %d resources", HA_MAX_RES);
		for (i = 1; i < r.nwords; i++) {
			struct ha_resource *res = &hr->res[hr->nres];
			unsigned j;

			rc = parse_resource(&r, err, r.words[i], res);
			if (rc)
				return rc;
			for (j = 0; j < hr->nres; j++)
				if (res->kind == HA_RES_IPADDR && hr->res[j].kind == HA_RES_IPADDR &&
				    hr->res[j].addr == res->addr)
					return cfg_fail(&r, err, "address %.40s listed twice",
							r.words[i]);
			if (res->kind == HA_RES_IPADDR && hr->ipaddr_idx < 0)
				hr->ipaddr_idx = (int)hr->nres;
			hr->nres++;
		}
	}
	if (rc)
		return rc;
	if (!group_line) {
		snprintf(err->msg, sizeof(err->msg), "%.300s: no resource group line", fname);
		return -EINVAL;
	}
	return 0;
}
