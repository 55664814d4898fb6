/* ha.cf: a keyword table with ranges, as keepalived and Redis keep theirs, so every directive
 * is checked the same way and the unknown ones are named. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/log.h"
#include "common/netaddr.h"
#include "standby/cfgline.h"
#include "standby/config.h"

#define TIME_MIN_MS 10u
#define TIME_MAX_MS 3600000u

void ha_cf_defaults(struct ha_cf *cf)
{
	memset(cf, 0, sizeof(*cf));
	/* Heartbeat's documented defaults; warntime and initdead follow deadtime unless set. */
	cf->keepalive_ms = 2000;
	cf->deadtime_ms = 30000;
	cf->udpport = 694;
	cf->auto_failback = 1;
	snprintf(cf->cluster, sizeof(cf->cluster), "vdisk");
	cf->probe_ms = 100;
	cf->monitor_ms = 2000;
	cf->tickle_acks = 1;
	cf->realtime = 1;
}

int ha_parse_time_ms(const char *s, unsigned *ms)
{
	unsigned long whole = 0, frac = 0, scale = 1;
	const char *p = s;
	int digits = 0;

	for (; *p >= '0' && *p <= '9'; p++, digits++) {
		whole = whole * 10 + (unsigned long)(*p - '0');
		if (whole > TIME_MAX_MS)
			return -EINVAL;
	}
	if (*p == '.') {
		for (p++; *p >= '0' && *p <= '9'; p++, digits++)
			if (scale < 1000) {
				frac = frac * 10 + (unsigned long)(*p - '0');
				scale *= 10;
			}
	}
	if (!digits)
		return -EINVAL;
	if (strcmp(p, "ms") == 0) {
		if (frac)
			return -EINVAL;	/* sub-millisecond precision means nothing here */
		*ms = (unsigned)whole;
		return 0;
	}
	if (*p && strcmp(p, "s") != 0)
		return -EINVAL;
	if (whole > TIME_MAX_MS / 1000)
		return -EINVAL;
	*ms = (unsigned)(whole * 1000 + frac * 1000 / scale);
	return 0;
}

static int parse_name(struct cfg_reader *r, struct cfg_err *err, const char *s, char *out,
		      const char *what)
{
	size_t n = strlen(s);

	if (n == 0 || n >= HA_NAME_MAX)
		return cfg_fail(r, err, "%s '%.40s' must be 1 to %d characters", what, s,
				HA_NAME_MAX - 1);
	memcpy(out, s, n + 1);
	return 0;
}

static int parse_ifname(struct cfg_reader *r, struct cfg_err *err, const char *s, char *out)
{
	size_t n = strlen(s);

	if (n == 0 || n >= IF_NAMESIZE || strchr(s, '/'))
		return cfg_fail(r, err, "'%.40s' is not an interface name", s);
	memcpy(out, s, n + 1);
	return 0;
}

static int add_link(struct ha_cf *cf, struct cfg_reader *r, struct cfg_err *err,
		    enum ha_link_kind kind, const char *ifname, uint32_t addr)
{
	struct ha_link *l;
	int rc;

	if (cf->nlinks == HA_MAX_LINKS)
		return cfg_fail(r, err, "more than %d heartbeat links", HA_MAX_LINKS);
	l = &cf->links[cf->nlinks];
	rc = parse_ifname(r, err, ifname, l->ifname);
	if (rc)
		return rc;
	l->kind = kind;
	l->addr = addr;
	l->line = r->lineno;
	cf->nlinks++;
	return 0;
}

static int want_args(struct cfg_reader *r, struct cfg_err *err, int min, int max)
{
	int n = r->nwords - 1;

	if (n < min || n > max) {
		if (min == max)
			return cfg_fail(r, err, "%s takes %d argument%s, not %d", r->words[0], min,
					min == 1 ? "" : "s", n);
		return cfg_fail(r, err, "%s takes %d to %d arguments, not %d", r->words[0], min,
				max, n);
	}
	return 0;
}

static int d_time(struct ha_cf *cf, struct cfg_reader *r, struct cfg_err *err)
{
	unsigned ms, *slot, *line;
	const char *k = r->words[0];
	int rc = want_args(r, err, 1, 1);

	if (rc)
		return rc;
	if (ha_parse_time_ms(r->words[1], &ms) || ms < TIME_MIN_MS || ms > TIME_MAX_MS)
		return cfg_fail(r, err, "%s '%.40s': want a time from 10ms to 3600s (\"2\", \"1.5\", "
				"\"500ms\")", k, r->words[1]);
	if (strcmp(k, "keepalive") == 0)
		slot = &cf->keepalive_ms, line = &cf->keepalive_line;
	else if (strcmp(k, "warntime") == 0)
		slot = &cf->warntime_ms, line = &cf->warntime_line;
	else if (strcmp(k, "deadtime") == 0)
		slot = &cf->deadtime_ms, line = &cf->deadtime_line;
	else if (strcmp(k, "initdead") == 0)
		slot = &cf->initdead_ms, line = &cf->initdead_line;
	else if (strcmp(k, "probe_wait") == 0)
		slot = &cf->probe_ms, line = NULL;
	else
		slot = &cf->monitor_ms, line = NULL;
	*slot = ms;
	if (line)
		*line = r->lineno;
	return 0;
}

static int d_udpport(struct ha_cf *cf, struct cfg_reader *r, struct cfg_err *err)
{
	char *end;
	unsigned long v;
	int rc = want_args(r, err, 1, 1);

	if (rc)
		return rc;
	v = strtoul(r->words[1], &end, 10);
	if (*end || end == r->words[1] || v < 1 || v > 65535)
		return cfg_fail(r, err, "udpport '%.40s': want 1 to 65535", r->words[1]);
	cf->udpport = (unsigned)v;
	return 0;
}

static int d_bcast(struct ha_cf *cf, struct cfg_reader *r, struct cfg_err *err)
{
	int i, rc = want_args(r, err, 1, CFG_WORDS_MAX - 1);

	for (i = 1; !rc && i < r->nwords; i++)
		rc = add_link(cf, r, err, HA_LINK_BCAST, r->words[i], 0);
	return rc;
}

static int d_ucast(struct ha_cf *cf, struct cfg_reader *r, struct cfg_err *err)
{
	uint32_t a;
	int rc = want_args(r, err, 2, 2);

	if (rc)
		return rc;
	if (ipv4_parse(r->words[2], &a) || a == 0 || a == 0xffffffffu)
		return cfg_fail(r, err, "ucast '%.40s' is not a unicast IPv4 address", r->words[2]);
	return add_link(cf, r, err, HA_LINK_UCAST, r->words[1], a);
}

/* mcast IF GROUP PORT TTL LOOP: heartbeat's form; the port must agree with udpport since one
 * socket per link serves both directions, TTL and LOOP are accepted as Heartbeat allows. */
static int d_mcast(struct ha_cf *cf, struct cfg_reader *r, struct cfg_err *err)
{
	uint32_t a;
	char *end;
	unsigned long port, ttl, loop;
	int rc = want_args(r, err, 5, 5);

	if (rc)
		return rc;
	if (ipv4_parse(r->words[2], &a) || (a >> 28) != 0xe)
		return cfg_fail(r, err, "mcast group '%.40s' is not an IPv4 multicast address",
				r->words[2]);
	port = strtoul(r->words[3], &end, 10);
	if (*end || end == r->words[3] || port < 1 || port > 65535)
		return cfg_fail(r, err, "mcast port '%.40s': want 1 to 65535", r->words[3]);
	ttl = strtoul(r->words[4], &end, 10);
	if (*end || end == r->words[4] || ttl < 1 || ttl > 255)
		return cfg_fail(r, err, "mcast ttl '%.40s': want 1 to 255", r->words[4]);
	loop = strtoul(r->words[5], &end, 10);
	if (*end || end == r->words[5] || loop > 1)
		return cfg_fail(r, err, "mcast loop '%.40s': want 0 or 1", r->words[5]);
	if (port != cf->udpport)
		return cfg_fail(r, err, "mcast port %lu differs from udpport %u (put udpport first)",
				port, cf->udpport);
	return add_link(cf, r, err, HA_LINK_MCAST, r->words[1], a);
}

static int d_node(struct ha_cf *cf, struct cfg_reader *r, struct cfg_err *err)
{
	int i, rc = want_args(r, err, 1, CFG_WORDS_MAX - 1);

	for (i = 1; !rc && i < r->nwords; i++) {
		unsigned j;

		if (cf->nnodes == 2)
			return cfg_fail(r, err, "node %.40s: standbyd pairs exactly two nodes",
					r->words[i]);
		for (j = 0; j < cf->nnodes; j++)
			if (strcmp(cf->nodes[j], r->words[i]) == 0)
				return cfg_fail(r, err, "node %.40s listed twice", r->words[i]);
		rc = parse_name(r, err, r->words[i], cf->nodes[cf->nnodes], "node name");
		if (!rc)
			cf->nnodes++;
	}
	return rc;
}

static int d_ping(struct ha_cf *cf, struct cfg_reader *r, struct cfg_err *err)
{
	int i, rc = want_args(r, err, 1, CFG_WORDS_MAX - 1);

	for (i = 1; !rc && i < r->nwords; i++) {
		uint32_t a;

		if (ipv4_parse(r->words[i], &a) || a == 0)
			return cfg_fail(r, err, "ping '%.40s' is not an IPv4 address", r->words[i]);
		if (cf->nping == HA_MAX_PING)
			return cfg_fail(r, err, "more than %d ping nodes", HA_MAX_PING);
		cf->ping[cf->nping++] = a;
	}
	return rc;
}

/* on/yes/true -> 1, off/no/false -> 0, else -1. */
static int onoff(const char *w)
{
	if (strcmp(w, "on") == 0 || strcmp(w, "yes") == 0 || strcmp(w, "true") == 0)
		return 1;
	if (strcmp(w, "off") == 0 || strcmp(w, "no") == 0 || strcmp(w, "false") == 0)
		return 0;
	return -1;
}

static int d_auto_failback(struct ha_cf *cf, struct cfg_reader *r, struct cfg_err *err)
{
	int rc = want_args(r, err, 1, 1), v;

	if (rc)
		return rc;
	v = onoff(r->words[1]);
	if (v < 0 && strcmp(r->words[1], "legacy") == 0) {
		log_warn("%s:%u: auto_failback legacy is treated as off", r->fname, r->lineno);
		v = 0;
	}
	if (v < 0)
		return cfg_fail(r, err, "auto_failback '%.40s': want on or off", r->words[1]);
	cf->auto_failback = v;
	return 0;
}

static int d_tickle_acks(struct ha_cf *cf, struct cfg_reader *r, struct cfg_err *err)
{
	int rc = want_args(r, err, 1, 1), v;

	if (rc)
		return rc;
	v = onoff(r->words[1]);
	if (v < 0)
		return cfg_fail(r, err, "tickle_acks '%.40s': want on or off", r->words[1]);
	cf->tickle_acks = v;
	return 0;
}

/* Heartbeat's realtime: heartbeats go out and are read on time however busy the machine. */
static int d_realtime(struct ha_cf *cf, struct cfg_reader *r, struct cfg_err *err)
{
	int rc = want_args(r, err, 1, 1), v;

	if (rc)
		return rc;
	v = onoff(r->words[1]);
	if (v < 0)
		return cfg_fail(r, err, "realtime '%.40s': want on or off", r->words[1]);
	cf->realtime = v;
	return 0;
}

/* Lets authkeys hold crc or keys under HA_KEY_MIN bytes, warned about at every load. */
static int d_insecure_auth(struct ha_cf *cf, struct cfg_reader *r, struct cfg_err *err)
{
	int rc = want_args(r, err, 1, 1), v;

	if (rc)
		return rc;
	v = onoff(r->words[1]);
	if (v < 0)
		return cfg_fail(r, err, "insecure_auth '%.40s': want yes or no", r->words[1]);
	cf->insecure_auth = v ? r->lineno : 0;
	return 0;
}

static int d_path(struct ha_cf *cf, struct cfg_reader *r, struct cfg_err *err)
{
	char *dst = strcmp(r->words[0], "logfile") == 0 ? cf->logfile : cf->debugfile;
	int rc = want_args(r, err, 1, 1);

	if (rc)
		return rc;
	if (strlen(r->words[1]) >= HA_PATH_MAX)
		return cfg_fail(r, err, "%s path longer than %d bytes", r->words[0], HA_PATH_MAX - 1);
	strcpy(dst, r->words[1]);	/* length checked above */
	return 0;
}

static int d_cluster(struct ha_cf *cf, struct cfg_reader *r, struct cfg_err *err)
{
	int rc = want_args(r, err, 1, 1);

	return rc ? rc : parse_name(r, err, r->words[1], cf->cluster, "cluster name");
}

typedef int (*directive_fn)(struct ha_cf *, struct cfg_reader *, struct cfg_err *);

static const struct directive {
	const char *name;
	directive_fn fn;	/* NULL: Heartbeat knows it, standbyd ignores it with a warning */
} directives[] = {
	{ "keepalive", d_time }, { "warntime", d_time }, { "deadtime", d_time },
	{ "initdead", d_time }, { "udpport", d_udpport }, { "bcast", d_bcast },
	{ "ucast", d_ucast }, { "mcast", d_mcast }, { "node", d_node }, { "ping", d_ping },
	{ "auto_failback", d_auto_failback }, { "logfile", d_path }, { "debugfile", d_path },
	{ "realtime", d_realtime },
	/* standbyd extensions */
	{ "cluster", d_cluster }, { "probe_wait", d_time }, { "monitor_interval", d_time },
	{ "tickle_acks", d_tickle_acks }, { "insecure_auth", d_insecure_auth },
	/* Heartbeat directives with no meaning here */
	{ "hopfudge", NULL }, { "respawn", NULL }, { "apiauth", NULL }, { "crm", NULL },
	{ "pacemaker", NULL }, { "ping_group", NULL }, { "serial", NULL }, { "baud", NULL },
	{ "logfacility", NULL }, { "use_logd", NULL }, { "stonith", NULL },
	{ "stonith_host", NULL }, { "watchdog", NULL }, { "compression", NULL },
	{ "compression_threshold", NULL }, { "traditional_compression", NULL },
	{ "msgfmt", NULL }, { "debug", NULL }, { "autojoin", NULL },
	{ "uuidfrom", NULL }, { "coredumps", NULL }, { "conn_logd_time", NULL },
	{ "hbgenmethod", NULL }, { "max_rexmit_delay", NULL }, { "rtprio", NULL },
	{ "deadping", NULL }, { "nice_failback", NULL }, { "ucast_nic", NULL },
	{ "bcast_nic", NULL }, { "register_to_apphbd", NULL }, { "node_ordering", NULL },
};

int ha_cf_parse(struct ha_cf *cf, const char *fname, const char *buf, size_t len,
		struct cfg_err *err)
{
	struct cfg_reader r;
	int rc;

	cfg_reader_init(&r, fname, buf, len);
	while ((rc = cfg_next(&r, err)) == 1) {
		size_t i;

		for (i = 0; i < sizeof(directives) / sizeof(directives[0]); i++)
			if (strcmp(directives[i].name, r.words[0]) == 0)
				break;
		if (i == sizeof(directives) / sizeof(directives[0]))
			return cfg_fail(&r, err, "unknown directive '%.40s'", r.words[0]);
		if (!directives[i].fn) {
			log_warn("%s:%u: directive '%s' is not implemented by standbyd; ignored",
				 fname, r.lineno, r.words[0]);
			continue;
		}
		rc = directives[i].fn(cf, &r, err);
		if (rc)
			return rc;
	}
	return rc;
}

static int check_fail(struct cfg_err *err, const char *fname, unsigned line, const char *what)
{
	if (line)
		snprintf(err->msg, sizeof(err->msg), "%.300s:%u: %s", fname, line, what);
	else
		snprintf(err->msg, sizeof(err->msg), "%.300s: %s", fname, what);
	return -EINVAL;
}

int ha_cf_finish(struct ha_cf *cf, const char *fname, struct cfg_err *err)
{
	unsigned dead_line = cf->deadtime_line ? cf->deadtime_line : cf->keepalive_line;
	unsigned i, j;

	if (!cf->warntime_line)
		cf->warntime_ms = cf->deadtime_ms / 2 > cf->keepalive_ms ? cf->deadtime_ms / 2
									 : cf->deadtime_ms;
	if (!cf->initdead_line)
		cf->initdead_ms = cf->deadtime_ms * 2;

	if (cf->deadtime_ms <= cf->keepalive_ms)
		return check_fail(err, fname, dead_line, "deadtime must be above keepalive");
	if (cf->deadtime_ms < 2 * cf->keepalive_ms)
		log_warn("%s:%u: deadtime is under twice keepalive: one lost packet kills the peer",
			 fname, dead_line);
	if (cf->warntime_line && cf->warntime_ms > cf->deadtime_ms)
		return check_fail(err, fname, cf->warntime_line, "warntime must not be above deadtime");
	if (cf->warntime_line && cf->warntime_ms <= cf->keepalive_ms)
		return check_fail(err, fname, cf->warntime_line, "warntime must be above keepalive");
	if (cf->initdead_line && cf->initdead_ms < cf->deadtime_ms)
		return check_fail(err, fname, cf->initdead_line, "initdead must not be below deadtime");
	if (cf->probe_ms >= cf->deadtime_ms)
		return check_fail(err, fname, 0, "probe_wait must be below deadtime");
	if (cf->nlinks == 0)
		return check_fail(err, fname, 0, "no heartbeat link (bcast, ucast or mcast)");
	if (cf->nnodes != 2)
		return check_fail(err, fname, 0, "want two node lines, one per server of the pair");
	for (i = 0; i < cf->nlinks; i++)
		for (j = 0; j < i; j++)
			if (cf->links[i].kind == cf->links[j].kind &&
			    cf->links[i].addr == cf->links[j].addr &&
			    strcmp(cf->links[i].ifname, cf->links[j].ifname) == 0)
				return check_fail(err, fname, cf->links[i].line,
						  "the same link is configured twice");
	return 0;
}
