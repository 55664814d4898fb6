/* A set of strings (names, MACs, IPs) for duplicate checks over tens of thousands of rows:
 * open addressing, FNV-1a, case-sensitive; callers fold case where the field needs it. */
#ifndef CLIENT_ADMIN_STRSET_H
#define CLIENT_ADMIN_STRSET_H

#include <stddef.h>

struct strset {
	char **slot;
	unsigned *tag;			/* caller's value for each entry (e.g. a line number) */
	size_t cap, n;
};

void strset_init(struct strset *s);
/* Adds key with tag. Returns 1 if added, 0 if present (then *old_tag is the stored tag),
 * -ENOMEM on failure. */
int strset_add(struct strset *s, const char *key, unsigned tag, unsigned *old_tag);
int strset_has(const struct strset *s, const char *key);
void strset_free(struct strset *s);

#endif
