/* Who a request comes from, and whether this server answers it. */
#include <errno.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "common/ctlsock.h"
#include "common/netaddr.h"
#include "pxe/pxe_server.h"

#define STANDBY_REFRESH_MS 1000
#define STANDBY_TIMEOUT_MS 500

static struct pxe_seen *seen_get(struct pxe_server *s, const uint8_t mac[6])
{
	unsigned h = 2166136261u, i, probe;
	struct pxe_seen *victim = NULL;

	for (i = 0; i < 6; i++)
		h = (h ^ mac[i]) * 16777619u;
	/* A short probe: when all slots are taken, the one with the oldest event goes. */
	for (probe = 0; probe < 8; probe++) {
		struct pxe_seen *e = &s->seen[(h + probe) % PXE_SEEN_SLOTS];

		if (e->used && memcmp(e->mac, mac, 6) == 0)
			return e;
		if (!e->used) {
			victim = e;
			break;
		}
		if (!victim || e->event_time < victim->event_time)
			victim = e;
	}
	memset(victim, 0, sizeof(*victim));
	memcpy(victim->mac, mac, 6);
	victim->used = 1;
	return victim;
}

void pxe_client_event(struct pxe_server *s, const uint8_t mac[6], const char *level,
		      const char *fmt, ...)
{
	struct pxe_seen *e = seen_get(s, mac);
	time_t now = time(NULL);
	unsigned hash = 2166136261u;
	char msg[400], *p;
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	/* A client retries every few seconds while it gets silence: one event per reason. */
	for (p = msg; *p; p++)
		hash = (hash ^ (unsigned char)*p) * 16777619u;
	if (e->event_hash == hash && now - e->event_time < PXE_EVENT_REPEAT_S)
		return;
	e->event_hash = hash;
	e->event_time = now;
	log_msg(strcmp(level, "info") == 0 ? LOG_INFO : LOG_WARNING, "%s", msg);
	if (db_event_add(s->db, level, "pxed", "%s", msg)) {
		s->c.db_errors++;
		log_limited(&s->rl_db, LOG_ERR, "db: cannot add event: %s", db_errmsg(s->db));
	}
}

void pxe_reserved_refresh(struct pxe_server *s)
{
	struct db_client *all = NULL;
	size_t n = 0, i, k = 0;
	uint32_t *ips;
	int64_t seq;

	if (db_change_seq(s->db, &seq))
		return;
	if (s->reserved_loaded && seq == s->reserved_seq)
		return;
	if (db_client_all(s->db, &all, &n)) {
		s->c.db_errors++;
		log_limited(&s->rl_db, LOG_ERR, "db: cannot list clients: %s", db_errmsg(s->db));
		return;
	}
	ips = calloc(n ? n : 1, sizeof(*ips));
	if (!ips) {
		free(all);
		return;
	}
	for (i = 0; i < n; i++)
		if (all[i].ip[0] && ipv4_parse(all[i].ip, &ips[k]) == 0)
			k++;
	free(all);
	free(s->reserved);
	s->reserved = ips;
	s->nreserved = k;
	s->reserved_seq = seq;
	s->reserved_loaded = 1;
}

int pxe_reserved(struct pxe_server *s, uint32_t ip)
{
	size_t i;

	for (i = 0; i < s->nreserved; i++)
		if (s->reserved[i] == ip)
			return 1;
	return 0;
}

static const struct standby_status *standby_view(struct pxe_server *s)
{
	uint64_t now = ev_now_ms();
	json_t *answer = NULL;
	int rc;

	if (s->sb_ms && now - s->sb_ms < STANDBY_REFRESH_MS)
		return s->sb_ok ? &s->sb : NULL;
	s->sb_ms = now;
	rc = ctl_call(s->conf->standbyd_ctl, "status", STANDBY_TIMEOUT_MS, &answer);
	if (rc == 0)
		rc = standby_parse(answer, &s->sb);
	json_decref(answer);
	s->sb_ok = rc == 0;
	if (rc)
		log_limited(&s->rl_refuse, LOG_WARNING, "standbyd at %s: %s",
			    s->conf->standbyd_ctl, rc == -EPROTO ? "unreadable status" : strerror(-rc));
	return s->sb_ok ? &s->sb : NULL;
}

/* An integer setting within [min, max], or def when unset or not a number. */
static long setting_long(struct db *db, const char *key, long def, long min, long max)
{
	char buf[32], *end;
	long v;

	if (db_setting_get(db, key, buf, sizeof(buf)) || !buf[0])
		return def;
	v = strtol(buf, &end, 10);
	return (*end || v < min || v > max) ? def : v;
}

/* One event per cap and minute, however many MACs the cap turns away. */
static void cap_event(struct pxe_server *s, time_t *last, time_t now, const char *mac,
		      const char *fmt, long cap)
{
	char what[200];

	s->autoreg_refused_since_event++;
	if (*last && now - *last < PXE_AUTOREG_EVENT_S)
		return;
	snprintf(what, sizeof(what), fmt, cap);
	log_warn("auto-registration: %s; %s and %llu unknown MACs not registered since the last "
		 "such event", what, mac, (unsigned long long)s->autoreg_refused_since_event - 1);
	if (db_event_add(s->db, "warning", "pxed", "auto-registration stopped: %s; %s and %llu "
			 "other unknown MACs not registered since the last such event", what, mac,
			 (unsigned long long)s->autoreg_refused_since_event - 1))
		s->c.db_errors++;
	*last = now;
	s->autoreg_refused_since_event = 0;
}

/* Whether the caps let one more client be registered now (issue 16, item 7: 300 random-MAC
 * DISCOVERs made 300 clients and starved DHCP). Cheap when refusing: the per-minute count
 * is in memory, and the total is counted in the DB only when the DB changed. */
static int autoreg_allowed(struct pxe_server *s, const char *mac, time_t now)
{
	long per_minute = setting_long(s->db, "auto_register_per_minute", PXE_AUTOREG_PER_MINUTE,
				       0, 100000);
	long max = setting_long(s->db, "auto_register_max", PXE_AUTOREG_MAX, 0, 1000000);
	int64_t seq = -1, n;

	if (now - s->autoreg_window >= 60 || now < s->autoreg_window) {
		s->autoreg_window = now;
		s->autoreg_in_window = 0;
	}
	if (s->autoreg_in_window >= (unsigned long)per_minute) {
		s->c.autoreg_refused_rate++;
		cap_event(s, &s->autoreg_rate_event, now, mac,
			  "%ld clients registered within a minute (auto_register_per_minute)",
			  per_minute);
		return 0;
	}
	if (db_change_seq(s->db, &seq) == 0 && s->autoreg_full && seq == s->autoreg_full_seq) {
		s->c.autoreg_refused_total++;
		cap_event(s, &s->autoreg_total_event, now, mac,
			  "%ld auto-registered clients in the database (auto_register_max); delete "
			  "them or clear their auto_registered flag", max);
		return 0;
	}
	s->autoreg_full = 0;
	if (db_client_count_auto(s->db, &n)) {
		s->c.db_errors++;
		return 0;
	}
	if (n >= max) {
		s->autoreg_full = 1;
		s->autoreg_full_seq = seq;
		s->c.autoreg_refused_total++;
		cap_event(s, &s->autoreg_total_event, now, mac,
			  "%ld auto-registered clients in the database (auto_register_max); delete "
			  "them or clear their auto_registered flag", max);
		return 0;
	}
	return 1;
}

static int auto_register(struct pxe_server *s, const char *mac, struct db_client *c)
{
	char on[16] = "", prefix[DB_NAME_MAX] = "PC", group[DB_NAME_MAX] = "";
	struct db_group g;
	int rc;

	if (db_setting_get(s->db, "auto_register", on, sizeof(on)) || strcmp(on, "on") != 0)
		return -ENOENT;
	if (!autoreg_allowed(s, mac, time(NULL)))
		return -ENOENT;
	db_setting_get(s->db, "auto_register_prefix", prefix, sizeof(prefix));
	db_setting_get(s->db, "auto_register_group", group, sizeof(group));
	memset(c, 0, sizeof(*c));
	rc = db_client_next_name(s->db, *prefix ? prefix : "PC", c->name);
	if (rc)
		goto out_err;
	snprintf(c->mac, sizeof(c->mac), "%s", mac);
	if (*group) {
		snprintf(c->group, sizeof(c->group), "%s", group);
		if (db_group_by_name(s->db, group, &g) == 0)
			snprintf(c->image, sizeof(c->image), "%s", g.image);
	}
	c->overlay = DB_OVERLAY_RESTORE;
	c->enabled = 1;
	c->auto_registered = 1;
	rc = db_client_insert(s->db, c);
	if (rc)
		goto out_err;
	s->autoreg_in_window++;
	s->c.auto_registered++;
	return 0;

out_err:
	s->c.db_errors++;
	log_limited(&s->rl_db, LOG_ERR, "auto-registration of %s failed: %s", mac,
		    db_errmsg(s->db));
	return rc;
}

int pxe_client_lookup(struct pxe_server *s, const struct dhcp_msg *m,
		      const struct pxe_class *cls, struct db_client *out)
{
	const struct standby_status *st = NULL;
	enum redirect_verdict v;
	char mac[MAC_STRLEN], why[300];
	int rc;

	mac_format(m->chaddr, mac);
	rc = db_client_by_mac(s->db, mac, out);
	if (rc == -ENOENT && cls->kind != PXE_KIND_PLAIN) {
		rc = auto_register(s, mac, out);
		if (rc == 0)
			pxe_client_event(s, m->chaddr, "info",
					 "auto-registered %s as %s%s%s", mac, out->name,
					 *out->group ? " in group " : "", out->group);
	}
	if (rc == -ENOENT) {
		s->c.unknown++;
		log_limited(&s->rl_unknown, LOG_NOTICE, "dhcp: %s from unknown %s %s not answered",
			    dhcp_type_name(m->type), pxe_kind_name(cls->kind), mac);
		return rc;
	}
	if (rc) {
		s->c.db_errors++;
		log_limited(&s->rl_db, LOG_ERR, "db: looking up %s: %s", mac, db_errmsg(s->db));
		return rc;
	}
	if (!out->enabled) {
		s->c.refused++;
		pxe_client_event(s, m->chaddr, "warning",
				 "%s (%s) is disabled: its boot request is not answered", out->name,
				 mac);
		return -EPERM;
	}
	if (*s->conf->node && *out->server && strcmp(out->server, s->conf->node) != 0)
		st = standby_view(s);
	v = redirect_decide(s->conf->node, out, st, why, sizeof(why));
	if (v == REDIRECT_REFUSE) {
		s->c.refused++;
		pxe_client_event(s, m->chaddr, "warning", "%s", why);
		return -EPERM;
	}
	if (v == REDIRECT_TAKEOVER) {
		s->c.takeovers++;
		pxe_client_event(s, m->chaddr, "info", "%s", why);
	}
	return 0;
}

void pxe_client_booted(struct pxe_server *s, const struct dhcp_msg *m,
		       const struct db_client *c)
{
	struct pxe_seen *e = seen_get(s, m->chaddr);
	struct pxe_boot *b;

	/* A ROM keeps its xid through one DISCOVER/REQUEST exchange and its retries; a new
	 * xid is a new boot, even seconds after the last one. */
	if (e->has_boot && e->boot_xid == m->xid)
		return;
	if (s->nboots == PXE_BATCH)
		return;	/* cannot happen: at most one per packet of the batch */
	e->has_boot = 1;
	e->boot_xid = m->xid;
	b = &s->boots[s->nboots++];
	b->id = c->id;
	snprintf(b->name, sizeof(b->name), "%s", c->name);
	b->reset = c->overlay == DB_OVERLAY_RESTORE;
}
