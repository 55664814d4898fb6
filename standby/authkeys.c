/* authkeys: "auth N" picks the key heartbeats are signed with; "N ALG [KEY]" defines key N.
 * Heartbeat's format, kept so that admins can reuse their file. */
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

int ha_authkeys_parse(struct ha_authkeys *ak, const char *fname, const char *buf, size_t len,
		      struct cfg_err *err)
{
	struct cfg_reader r;
	unsigned auth_line = 0;
	int rc;

	memset(ak, 0, sizeof(*ak));
	cfg_reader_init(&r, fname, buf, len);
	while ((rc = cfg_next(&r, err)) == 1) {
		struct ha_key *k;
		unsigned idx;
		size_t klen;

		if (strcmp(r.words[0], "auth") == 0) {
			if (r.nwords != 2 || parse_index(r.words[1], &idx))
				return cfg_fail(&r, err, "want 'auth N' with N from 1 to %d",
						HA_MAX_KEYS - 1);
			if (auth_line)
				return cfg_fail(&r, err, "second auth line (first on line %u)",
						auth_line);
			ak->active = idx;
			auth_line = r.lineno;
			continue;
		}
		if (parse_index(r.words[0], &idx))
			return cfg_fail(&r, err, "want 'auth N' or 'N sha256|sha1|md5|crc KEY', "
					"not '%.40s'", r.words[0]);
		k = &ak->keys[idx];
		if (k->alg != HA_AUTH_NONE)
			return cfg_fail(&r, err, "key %u defined twice", idx);
		k->line = r.lineno;
		if (r.nwords < 2)
			return cfg_fail(&r, err, "key %u has no method", idx);
		if (strcmp(r.words[1], "crc") == 0) {
			if (r.nwords != 2)
				return cfg_fail(&r, err, "crc takes no key");
			k->alg = HA_AUTH_CRC;
			continue;
		}
		if (strcmp(r.words[1], "sha256") == 0)
			k->alg = HA_AUTH_SHA256;
		else if (strcmp(r.words[1], "sha1") == 0)
			k->alg = HA_AUTH_SHA1;
		else if (strcmp(r.words[1], "md5") == 0)
			k->alg = HA_AUTH_MD5;
		else
			return cfg_fail(&r, err, "unknown method '%.40s' (want sha256, sha1, md5 or "
					"crc)", r.words[1]);
		/* A key with blanks would be split by the reader; Heartbeat's keys are one word. */
		if (r.nwords != 3)
			return cfg_fail(&r, err, "%s wants exactly one key word", r.words[1]);
		klen = strlen(r.words[2]);
		if (klen > HA_KEY_MAX)
			return cfg_fail(&r, err, "key longer than %d bytes", HA_KEY_MAX);
		memcpy(k->key, r.words[2], klen);
		k->keylen = klen;
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
	return 0;
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
