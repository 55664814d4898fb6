/* A reader for the small `key = value` files daemons take (-c FILE), driven by a table of
 * keys with their type, range and default, as keepalived's keyword table and Redis's typed
 * config table are. Every error names FILE:LINE and the key, so `--check-config` can point
 * an admin at the line to fix.
 *
 * File syntax: one `key = value` per line; blank lines and lines starting with '#' are
 * ignored; whitespace around key and value is trimmed; a key may appear once. */
#ifndef COMMON_KVCONF_H
#define COMMON_KVCONF_H

#include <stddef.h>
#include <stdint.h>

enum kv_type {
	KV_STR,		/* char[size]; too long is an error, never a silent cut */
	KV_INT,		/* int, decimal, within [min, max] */
	KV_BOOL,	/* int 0/1: on/off, yes/no, true/false, 1/0 */
	KV_IPV4,	/* uint32_t, host byte order, dotted quad */
	KV_ENUM,	/* int: index of the value in choices */
	KV_CUSTOM,	/* parse() fills the field */
};

/* Custom parser: returns 0, or -EINVAL with a reason (no key, no line) written to err. */
typedef int (*kv_parse_fn)(const char *value, void *field, char *err, size_t errlen);

struct kv_key {
	const char *name;
	enum kv_type type;
	size_t offset;			/* of the field in the caller's config struct */
	size_t size;			/* KV_STR: size of the char array */
	long min, max;			/* KV_INT */
	const char *def;		/* default, read as if it came from the file; NULL: none */
	const char *const *choices;	/* KV_ENUM: NULL-terminated */
	kv_parse_fn parse;		/* KV_CUSTOM */
};

#define KV_FIELD(type, member) offsetof(type, member)

/* Applies every default, then reads path into conf. seen (may be NULL) receives one flag per
 * key: 1 if the file set it. Returns 0; -EINVAL with "FILE:LINE: ..." in err for bad content;
 * or a negative errno if the file cannot be read. conf is only partly filled on error. */
int kvconf_load(const struct kv_key *keys, size_t nkeys, const char *path, void *conf,
		unsigned char *seen, char *err, size_t errlen);

/* Parses one value for key k into conf (what kvconf_load does per line). */
int kvconf_set(const struct kv_key *k, const char *value, void *conf, char *err, size_t errlen);

#endif
