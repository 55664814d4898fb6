#include "client-admin/select.h"

#include <ctype.h>
#include <errno.h>
#include <fnmatch.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "common/netaddr.h"

/* Splits NAME into a non-empty prefix and a run of 1..9 trailing digits. */
static int split_numbered(const char *name, char *prefix, size_t plen, unsigned long *num)
{
	size_t len = strlen(name), d = len;

	while (d > 0 && isdigit((unsigned char)name[d - 1]))
		d--;
	if (d == len || d == 0 || len - d > 9 || d >= plen)
		return -EINVAL;
	memcpy(prefix, name, d);
	prefix[d] = '\0';
	*num = strtoul(name + d, NULL, 10);
	return 0;
}

static int parse_range(struct selection *sel, const char *v, char *err, size_t errlen)
{
	char lo[DB_NAME_MAX], hi[DB_NAME_MAX], p2[DB_NAME_MAX];
	const char *dash = strchr(v, '-');

	if (!dash || strchr(dash + 1, '-') || (size_t)(dash - v) >= sizeof(lo) ||
	    strlen(dash + 1) >= sizeof(hi)) {
		snprintf(err, errlen, "--range '%s': expected FIRST-LAST, e.g. PC001-PC080", v);
		return -EINVAL;
	}
	memcpy(lo, v, (size_t)(dash - v));
	lo[dash - v] = '\0';
	strcpy(hi, dash + 1);
	if (split_numbered(lo, sel->range_prefix, sizeof(sel->range_prefix), &sel->range_lo) ||
	    split_numbered(hi, p2, sizeof(p2), &sel->range_hi)) {
		snprintf(err, errlen, "--range '%s': both ends need a name prefix and a number, "
			 "e.g. PC001-PC080", v);
		return -EINVAL;
	}
	if (strcasecmp(sel->range_prefix, p2) != 0) {
		snprintf(err, errlen, "--range '%s': the two ends have different prefixes", v);
		return -EINVAL;
	}
	if (sel->range_lo > sel->range_hi) {
		snprintf(err, errlen, "--range '%s': the first end is after the last", v);
		return -EINVAL;
	}
	sel->has_range = 1;
	return 0;
}

static int parse_macs(struct selection *sel, const char *v, char *err, size_t errlen)
{
	const char *p = v;

	for (;;) {
		const char *comma = strchr(p, ',');
		size_t len = comma ? (size_t)(comma - p) : strlen(p);
		char one[32];

		if (len == 0 || len >= sizeof(one)) {
			snprintf(err, errlen, "--mac '%s': empty or overlong entry", v);
			return -EINVAL;
		}
		memcpy(one, p, len);
		one[len] = '\0';
		if (sel->nmacs == SELECT_MAX_MACS) {
			snprintf(err, errlen, "--mac: at most %d addresses", SELECT_MAX_MACS);
			return -EINVAL;
		}
		if (mac_canonical(one, sel->macs[sel->nmacs])) {
			snprintf(err, errlen, "--mac: '%s' is not a MAC address", one);
			return -EINVAL;
		}
		sel->nmacs++;
		if (!comma)
			return 0;
		p = comma + 1;
	}
}

static int parse_ip_range(struct selection *sel, const char *v, char *err, size_t errlen)
{
	char lo[INET_ADDRSTRLEN], hi[INET_ADDRSTRLEN];
	const char *dash = strchr(v, '-');

	if (!dash || (size_t)(dash - v) >= sizeof(lo) || strlen(dash + 1) >= sizeof(hi))
		goto bad;
	memcpy(lo, v, (size_t)(dash - v));
	lo[dash - v] = '\0';
	strcpy(hi, dash + 1);
	if (ipv4_parse(lo, &sel->ip_lo) || ipv4_parse(hi, &sel->ip_hi))
		goto bad;
	if (sel->ip_lo > sel->ip_hi) {
		snprintf(err, errlen, "--ip-range '%s': the first address is after the last", v);
		return -EINVAL;
	}
	sel->has_ip_range = 1;
	return 0;
bad:
	snprintf(err, errlen, "--ip-range '%s': expected A.B.C.D-A.B.C.D", v);
	return -EINVAL;
}

static int copy_value(char *dst, size_t len, const char *opt, const char *v,
		      char *err, size_t errlen)
{
	if (!*v || strlen(v) >= len) {
		snprintf(err, errlen, "--%s: empty or longer than %zu characters", opt, len - 1);
		return -EINVAL;
	}
	strcpy(dst, v);
	return 0;
}

int selection_add(struct selection *sel, const char *opt, const char *value,
		  char *err, size_t errlen)
{
	int rc;

	if (strcmp(opt, "all") == 0) {
		sel->all = 1;
		rc = 0;
	} else if (!value) {
		snprintf(err, errlen, "--%s needs a value", opt);
		return -EINVAL;
	} else if (strcmp(opt, "group") == 0) {
		rc = copy_value(sel->group, sizeof(sel->group), opt, value, err, errlen);
	} else if (strcmp(opt, "name") == 0) {
		rc = copy_value(sel->glob, sizeof(sel->glob), opt, value, err, errlen);
	} else if (strcmp(opt, "range") == 0) {
		rc = parse_range(sel, value, err, errlen);
	} else if (strcmp(opt, "mac") == 0) {
		rc = parse_macs(sel, value, err, errlen);
	} else if (strcmp(opt, "ip-range") == 0) {
		rc = parse_ip_range(sel, value, err, errlen);
	} else {
		snprintf(err, errlen, "unknown selection --%s", opt);
		return -EINVAL;
	}
	if (rc == 0)
		sel->any = 1;
	return rc;
}

static int range_match(const struct selection *sel, const char *name)
{
	char prefix[DB_NAME_MAX];
	unsigned long num;

	if (split_numbered(name, prefix, sizeof(prefix), &num))
		return 0;
	return strcasecmp(prefix, sel->range_prefix) == 0 && num >= sel->range_lo &&
	       num <= sel->range_hi;
}

int selection_match(const struct selection *sel, const struct db_client *c)
{
	size_t i;

	if (sel->group[0] && strcmp(sel->group, c->group) != 0)
		return 0;
	if (sel->glob[0] && fnmatch(sel->glob, c->name, FNM_CASEFOLD) != 0)
		return 0;
	if (sel->has_range && !range_match(sel, c->name))
		return 0;
	if (sel->nmacs) {
		for (i = 0; i < sel->nmacs; i++)
			if (strcmp(sel->macs[i], c->mac) == 0)
				break;
		if (i == sel->nmacs)
			return 0;
	}
	if (sel->has_ip_range) {
		uint32_t ip;
		if (!c->ip[0] || ipv4_parse(c->ip, &ip) || ip < sel->ip_lo || ip > sel->ip_hi)
			return 0;
	}
	return 1;
}
