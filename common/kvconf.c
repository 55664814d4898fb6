#include "common/kvconf.h"

#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/netaddr.h"

/* Longer lines are an error, not a silent split: no key or value we read comes near it. */
#define KV_LINE_MAX 1024

static int parse_bool(const char *v, int *out)
{
	static const char *const yes[] = { "on", "yes", "true", "1" };
	static const char *const no[] = { "off", "no", "false", "0" };
	size_t i;

	for (i = 0; i < sizeof(yes) / sizeof(yes[0]); i++) {
		if (strcasecmp(v, yes[i]) == 0) {
			*out = 1;
			return 0;
		}
		if (strcasecmp(v, no[i]) == 0) {
			*out = 0;
			return 0;
		}
	}
	return -EINVAL;
}

int kvconf_set(const struct kv_key *k, const char *value, void *conf, char *err, size_t errlen)
{
	char *field = (char *)conf + k->offset, *end;
	long l;
	int i;

	switch (k->type) {
	case KV_STR:
		if (strlen(value) >= k->size) {
			snprintf(err, errlen, "value longer than %zu bytes", k->size - 1);
			return -EINVAL;
		}
		strcpy(field, value);
		return 0;
	case KV_INT:
		errno = 0;
		l = strtol(value, &end, 10);
		if (!*value || *end || errno) {
			snprintf(err, errlen, "'%s' is not a whole number", value);
			return -EINVAL;
		}
		if (l < k->min || l > k->max) {
			snprintf(err, errlen, "%ld is out of range %ld..%ld", l, k->min, k->max);
			return -EINVAL;
		}
		*(int *)(void *)field = (int)l;
		return 0;
	case KV_BOOL:
		if (parse_bool(value, (int *)(void *)field)) {
			snprintf(err, errlen, "'%s' is not on or off", value);
			return -EINVAL;
		}
		return 0;
	case KV_IPV4:
		if (ipv4_parse(value, (uint32_t *)(void *)field)) {
			snprintf(err, errlen, "'%s' is not an IPv4 address", value);
			return -EINVAL;
		}
		return 0;
	case KV_ENUM:
		for (i = 0; k->choices[i]; i++)
			if (strcmp(value, k->choices[i]) == 0) {
				*(int *)(void *)field = i;
				return 0;
			}
		snprintf(err, errlen, "'%s' is not one of:", value);
		for (i = 0; k->choices[i]; i++) {
			size_t n = strlen(err);
			snprintf(err + n, errlen - n, " %s", k->choices[i]);
		}
		return -EINVAL;
	case KV_CUSTOM:
		return k->parse(value, field, err, errlen);
	}
	snprintf(err, errlen, "key has no type");
	return -EINVAL;
}

static char *trim(char *s)
{
	char *e;

	while (isspace((unsigned char)*s))
		s++;
	e = s + strlen(s);
	while (e > s && isspace((unsigned char)e[-1]))
		*--e = '\0';
	return s;
}

static const struct kv_key *find_key(const struct kv_key *keys, size_t nkeys, const char *name)
{
	size_t i;

	for (i = 0; i < nkeys; i++)
		if (strcmp(keys[i].name, name) == 0)
			return &keys[i];
	return NULL;
}

int kvconf_load(const struct kv_key *keys, size_t nkeys, const char *path, void *conf,
		unsigned char *seen, char *err, size_t errlen)
{
	char line[KV_LINE_MAX + 2], why[256];
	unsigned char *set;
	unsigned lineno = 0;
	FILE *f;
	size_t i;
	int rc = 0;

	for (i = 0; i < nkeys; i++) {
		if (keys[i].def && kvconf_set(&keys[i], keys[i].def, conf, why, sizeof(why))) {
			snprintf(err, errlen, "built-in default of %s: %s", keys[i].name, why);
			return -EINVAL;
		}
	}
	set = calloc(nkeys ? nkeys : 1, 1);
	if (!set)
		return -ENOMEM;
	f = fopen(path, "re");
	if (!f) {
		rc = -errno;
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		goto out_free;
	}
	while (fgets(line, sizeof(line), f)) {
		char *key, *value, *eq;
		const struct kv_key *k;

		lineno++;
		if (!strchr(line, '\n') && !feof(f)) {
			snprintf(err, errlen, "%s:%u: line longer than %d bytes", path, lineno,
				 KV_LINE_MAX);
			rc = -EINVAL;
			goto out_close;
		}
		key = trim(line);
		if (!*key || *key == '#')
			continue;
		eq = strchr(key, '=');
		if (!eq) {
			snprintf(err, errlen, "%s:%u: expected 'key = value'", path, lineno);
			rc = -EINVAL;
			goto out_close;
		}
		*eq = '\0';
		key = trim(key);
		value = trim(eq + 1);
		k = find_key(keys, nkeys, key);
		if (!k) {
			snprintf(err, errlen, "%s:%u: unknown key '%s'", path, lineno, key);
			rc = -EINVAL;
			goto out_close;
		}
		if (set[k - keys]) {
			snprintf(err, errlen, "%s:%u: %s set twice", path, lineno, key);
			rc = -EINVAL;
			goto out_close;
		}
		set[k - keys] = 1;
		if (kvconf_set(k, value, conf, why, sizeof(why))) {
			snprintf(err, errlen, "%s:%u: %s: %s", path, lineno, key, why);
			rc = -EINVAL;
			goto out_close;
		}
	}
	if (ferror(f)) {
		rc = -EIO;
		snprintf(err, errlen, "%s: read error", path);
		goto out_close;
	}
	if (seen)
		memcpy(seen, set, nkeys);

out_close:
	fclose(f);
out_free:
	free(set);
	return rc;
}
