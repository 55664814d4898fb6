#include "pxe/bindings.h"

#include <string.h>

static unsigned mac_hash(const uint8_t mac[6])
{
	unsigned h = 2166136261u, i;

	for (i = 0; i < 6; i++)
		h = (h ^ mac[i]) * 16777619u;
	return h;
}

static struct pxe_binding *lookup(struct pxe_bindings *b, const uint8_t mac[6])
{
	unsigned h = mac_hash(mac), i;

	for (i = 0; i < PXE_BIND_PROBE; i++) {
		struct pxe_binding *e = &b->slot[(h + i) % PXE_BIND_SLOTS];

		if (e->used && memcmp(e->mac, mac, 6) == 0)
			return e;
	}
	return NULL;
}

void bindings_set(struct pxe_bindings *b, const uint8_t mac[6], uint32_t ip, time_t until)
{
	struct pxe_binding *e = lookup(b, mac), *victim = NULL;
	unsigned h = mac_hash(mac), i;

	/* An address belongs to one client at a time. */
	for (i = 0; i < PXE_BIND_SLOTS; i++)
		if (b->slot[i].used && b->slot[i].ip == ip && &b->slot[i] != e)
			b->slot[i].used = 0;
	for (i = 0; !e && i < PXE_BIND_PROBE; i++) {
		struct pxe_binding *s = &b->slot[(h + i) % PXE_BIND_SLOTS];

		if (!s->used) {
			e = s;
			break;
		}
		/* All probed slots taken: the one that expires first goes. */
		if (!victim || s->until < victim->until)
			victim = s;
	}
	if (!e)
		e = victim;
	memcpy(e->mac, mac, 6);
	e->ip = ip;
	e->until = until;
	e->used = 1;
}

void bindings_clear(struct pxe_bindings *b, const uint8_t mac[6])
{
	struct pxe_binding *e = lookup(b, mac);

	if (e)
		e->used = 0;
}

const struct pxe_binding *bindings_find(const struct pxe_bindings *b, const uint8_t mac[6],
					time_t now)
{
	const struct pxe_binding *e = lookup((struct pxe_bindings *)b, mac);

	return e && e->until > now ? e : NULL;
}
