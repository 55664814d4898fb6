/* authkeys: "auth N" picks the key heartbeats are signed with; "N ALG [KEY]" defines key N.
 * Heartbeat's format, kept so that admins can reuse their file, plus "ship N": the key of DB
 * shipping, which heartbeats never use. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/log.h"
#include "standby/cfgline.h"
#include "standby/config.h"

const char *ha_auth_alg_name(enum ha_auth_alg alg)
{
	switch (alg) {
	case HA_AUTH_CRC: return "crc";
	case HA_AUTH_MD5: return "md5";
	case HA_AUTH_SHA1: return "sha1";
	case HA_AUTH_SHA256: return "sha256";
	case HA_AUTH_NONE: break;
	}
	return "none";
}

static int parse_index(const char *s, unsigned *out)
{
	char *end;
	unsigned long v = strtoul(s, &end, 10);

	if (*end || end == s || s[0] == '-' || s[0] == '+' || v < 1 || v >= HA_MAX_KEYS)
		return -EINVAL;
	*out = (unsigned)v;
	return 0;
}

/* "auth N" or "ship N": which key signs heartbeats, which one DB shipping. */
static int parse_selector(struct cfg_reader *r, struct cfg_err *err, unsigned *idx,
			  unsigned *line)
{
	const char *what = r->words[0];

	if (r->nwords != 2 || parse_index(r->words[1], idx))
		return cfg_fail(r, err, "want '%s N' with N from 1 to %d", what, HA_MAX_KEYS - 1);
	if (*line)
		return cfg_fail(r, err, "second %s line (first on line %u)", what, *line);
	*line = r->lineno;
	return 0;
}

/* "N sha256|sha1|md5 KEY" or "N crc" into ak->keys[N]. */
static int parse_key(struct cfg_reader *r, struct cfg_err *err, struct ha_authkeys *ak)
{
	struct ha_key *k;
	unsigned idx;
	size_t klen;

	if (parse_index(r->words[0], &idx))
		return cfg_fail(r, err, "want 'auth N', 'ship N' or 'N sha256|sha1|md5|crc KEY', "
				"not '%.40s'", r->words[0]);
	k = &ak->keys[idx];
	if (k->alg != HA_AUTH_NONE)
		return cfg_fail(r, err, "key %u defined twice", idx);
	k->line = r->lineno;
	if (r->nwords < 2)
		return cfg_fail(r, err, "key %u has no method", idx);
	if (strcmp(r->words[1], "crc") == 0) {
		if (r->nwords != 2)
			return cfg_fail(r, err, "crc takes no key");
		k->alg = HA_AUTH_CRC;
		return 0;
	}
	if (strcmp(r->words[1], "sha256") == 0)
		k->alg = HA_AUTH_SHA256;
	else if (strcmp(r->words[1], "sha1") == 0)
		k->alg = HA_AUTH_SHA1;
	else if (strcmp(r->words[1], "md5") == 0)
		k->alg = HA_AUTH_MD5;
	else
		return cfg_fail(r, err, "unknown method '%.40s' (want sha256, sha1, md5 or crc)",
				r->words[1]);
	/* A key with blanks would be split by the reader; Heartbeat's keys are one word. */
	if (r->nwords != 3)
		return cfg_fail(r, err, "%s wants exactly one key word", r->words[1]);
	klen = strlen(r->words[2]);
	if (klen > HA_KEY_MAX)
		return cfg_fail(r, err, "key longer than %d bytes", HA_KEY_MAX);
	memcpy(k->key, r->words[2], klen);
	k->keylen = klen;
	return 0;
}

/* The ship key is DB shipping's alone: heartbeats travel the LAN, where a weak or leaked
 * heartbeat key must not also let someone replace the standby's database. */
static int check_ship(struct cfg_reader *r, struct cfg_err *err, const struct ha_authkeys *ak)
{
	const struct ha_key *k = &ak->keys[ak->ship];
	unsigned i;

	if (k->alg == HA_AUTH_NONE)
		return cfg_fail(r, err, "ship %u names a key that is not defined", ak->ship);
	if (ak->ship == ak->active)
		return cfg_fail(r, err, "ship %u names the heartbeat key (auth %u): DB shipping "
				"needs a key of its own", ak->ship, ak->active);
	if (k->alg == HA_AUTH_CRC)
		return cfg_fail(r, err, "ship %u names a crc key: DB shipping needs an HMAC key "
				"(sha256)", ak->ship);
	for (i = 1; i < HA_MAX_KEYS; i++)
		if (i != ak->ship && ak->keys[i].alg != HA_AUTH_NONE &&
		    ak->keys[i].keylen == k->keylen && memcmp(ak->keys[i].key, k->key, k->keylen) == 0)
			return cfg_fail(r, err, "ship %u: key %u has the same secret as heartbeat key "
					"%u; DB shipping needs a secret of its own", ak->ship,
					ak->ship, i);
	return 0;
}

int ha_authkeys_parse(struct ha_authkeys *ak, const char *fname, const char *buf, size_t len,
		      struct cfg_err *err)
{
	struct cfg_reader r;
	unsigned auth_line = 0, ship_line = 0;
	int rc;

	memset(ak, 0, sizeof(*ak));
	cfg_reader_init(&r, fname, buf, len);
	while ((rc = cfg_next(&r, err)) == 1) {
		if (strcmp(r.words[0], "auth") == 0)
			rc = parse_selector(&r, err, &ak->active, &auth_line);
		else if (strcmp(r.words[0], "ship") == 0)
			rc = parse_selector(&r, err, &ak->ship, &ship_line);
		else
			rc = parse_key(&r, err, ak);
		if (rc)
			return rc;
	}
	if (rc)
		return rc;
	r.lineno = auth_line;
	if (!auth_line) {
		r.lineno = r.next_lineno > 1 ? r.next_lineno - 1 : 1;
		return cfg_fail(&r, err, "no 'auth N' line");
	}
	if (ak->keys[ak->active].alg == HA_AUTH_NONE)
		return cfg_fail(&r, err, "auth %u names a key that is not defined", ak->active);
	r.lineno = ship_line;
	return ship_line ? check_ship(&r, err, ak) : 0;
}

/* Every listed key is checked, not only the active one: a packet signed with any listed
 * HMAC key is accepted (key rotation), so a short one beside a strong one is a way in. */
static int key_weak(const struct ha_key *k)
{
	return k->alg == HA_AUTH_CRC || (k->alg != HA_AUTH_NONE && k->keylen < HA_KEY_MIN);
}

static void describe(const struct ha_key *k, char *buf, size_t len)
{
	if (k->alg == HA_AUTH_CRC)
		snprintf(buf, len, "crc, which authenticates nothing");
	else
		snprintf(buf, len, "%zu byte%s", k->keylen, k->keylen == 1 ? "" : "s");
}

unsigned ha_authkeys_weak(const struct ha_authkeys *ak)
{
	unsigned i, n = 0;

	for (i = 1; i < HA_MAX_KEYS; i++)
		n += (unsigned)key_weak(&ak->keys[i]);
	return n;
}

int ha_authkeys_policy(const struct ha_authkeys *ak, const char *akname, const char *cfname,
		       unsigned insecure_line, struct cfg_err *err)
{
	char what[48];
	unsigned i;

	for (i = 1; i < HA_MAX_KEYS; i++) {
		const struct ha_key *k = &ak->keys[i];

		if (!key_weak(k))
			continue;
		describe(k, what, sizeof(what));
		if (!insecure_line) {
			snprintf(err->msg, sizeof(err->msg), "%.300s:%u: key %u is %s: anyone on the "
				 "links could forge heartbeats; use 'N sha256 KEY' with %d bytes or "
				 "more (openssl rand -hex 32), or force it with 'insecure_auth yes' "
				 "in ha.cf", akname, k->line, i, what, HA_KEY_MIN);
			return -EINVAL;
		}
		log_warn("%s:%u: insecure_auth yes: %s:%u: key %u is %s: accepted, INSECURE: "
			 "heartbeats signed with it can be forged, and a forged one can move the "
			 "role", cfname, insecure_line, akname, k->line, i, what);
	}
	return 0;
}
