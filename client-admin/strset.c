#include "client-admin/strset.h"

#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

void strset_init(struct strset *s)
{
	memset(s, 0, sizeof(*s));
}

static size_t hash(const char *k)
{
	uint64_t h = 1469598103934665603ull;

	for (; *k; k++)
		h = (h ^ (unsigned char)*k) * 1099511628211ull;
	return (size_t)h;
}

static size_t find(const struct strset *s, const char *key)
{
	size_t i = hash(key) & (s->cap - 1);

	while (s->slot[i] && strcmp(s->slot[i], key) != 0)
		i = (i + 1) & (s->cap - 1);
	return i;
}

static int grow(struct strset *s)
{
	size_t cap = s->cap ? s->cap * 2 : 256, i;
	struct strset bigger = { calloc(cap, sizeof(char *)), calloc(cap, sizeof(unsigned)), cap, s->n };

	if (!bigger.slot || !bigger.tag) {
		free(bigger.slot);
		free(bigger.tag);
		return -ENOMEM;
	}
	for (i = 0; i < s->cap; i++)
		if (s->slot[i]) {
			size_t j = find(&bigger, s->slot[i]);
			bigger.slot[j] = s->slot[i];
			bigger.tag[j] = s->tag[i];
		}
	free(s->slot);
	free(s->tag);
	*s = bigger;
	return 0;
}

int strset_add(struct strset *s, const char *key, unsigned tag, unsigned *old_tag)
{
	size_t i;

	if ((s->n + 1) * 2 > s->cap && grow(s))
		return -ENOMEM;
	i = find(s, key);
	if (s->slot[i]) {
		if (old_tag)
			*old_tag = s->tag[i];
		return 0;
	}
	s->slot[i] = strdup(key);
	if (!s->slot[i])
		return -ENOMEM;
	s->tag[i] = tag;
	s->n++;
	return 1;
}

int strset_has(const struct strset *s, const char *key)
{
	return s->cap && s->slot[find(s, key)] != NULL;
}

void strset_free(struct strset *s)
{
	size_t i;

	for (i = 0; i < s->cap; i++)
		free(s->slot[i]);
	free(s->slot);
	free(s->tag);
	memset(s, 0, sizeof(*s));
}
