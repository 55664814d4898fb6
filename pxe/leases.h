/* The address pool and its leases: one slot per pool address, so the table's size comes
 * from the configuration, never from clients. Bound and declined addresses are kept in a
 * leases file in the state directory, rewritten atomically, so they survive a restart (the
 * DB has no leases table: leases change far more often than admin data).
 *
 * Times are wall-clock unix seconds because they outlive the process. */
#ifndef PXE_LEASES_H
#define PXE_LEASES_H

#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include "pxe/pxe_conf.h"

enum lease_state { LEASE_FREE = 0, LEASE_OFFERED, LEASE_BOUND, LEASE_DECLINED };

struct lease {
	uint8_t mac[6];			/* holder, or last holder of a free slot (a hint) */
	uint8_t state;			/* enum lease_state */
	time_t expires;
};

struct lease_table {
	struct pxe_pool pool;
	struct lease *slots;		/* pool.last - pool.first + 1 of them */
	size_t n;
	int dirty;			/* bound/declined set changed since the last save */
	char path[PXE_PATH_MAX + 16];
};

/* Returns 0 or -ENOMEM / -ENAMETOOLONG. The file is state_dir/leases. */
int leases_init(struct lease_table *t, const struct pxe_pool *pool, const char *state_dir);
void leases_free(struct lease_table *t);

/* The slot of ip, or NULL when ip is outside the pool. */
struct lease *leases_slot(struct lease_table *t, uint32_t ip);
uint32_t leases_ip(const struct lease_table *t, const struct lease *l);
/* The slot held (offered, bound) by mac now, or else the one it held last. NULL if none. */
struct lease *leases_by_mac(struct lease_table *t, const uint8_t mac[6], time_t now);
/* Whether mac may have slot l now: it is its own, free, or expired. */
int leases_usable(const struct lease *l, const uint8_t mac[6], time_t now);

/* A free address for mac: never-used slots first, then the longest expired. skip(ip, arg)
 * lets the caller veto addresses (static reservations). NULL when the pool is exhausted. */
struct lease *leases_alloc(struct lease_table *t, const uint8_t mac[6], time_t now,
			   int (*skip)(uint32_t ip, void *arg), void *arg);

void leases_offer(struct lease_table *t, struct lease *l, const uint8_t mac[6], time_t until);
void leases_bind(struct lease_table *t, struct lease *l, const uint8_t mac[6], time_t until);
void leases_release(struct lease_table *t, struct lease *l);
void leases_decline(struct lease_table *t, struct lease *l, time_t until);

/* Counts slots in a state that have not expired. */
size_t leases_count(const struct lease_table *t, enum lease_state s, time_t now);

/* Reads the leases file; a missing file is an empty table. Lines that do not parse or lie
 * outside the pool are skipped and counted in *skipped. Returns 0 or a negative errno. */
int leases_load(struct lease_table *t, time_t now, unsigned *skipped);
/* Writes bound and declined leases to a temporary file, fsyncs and renames it over the
 * leases file; clears dirty. Returns 0 or a negative errno (the old file stays). */
int leases_save(struct lease_table *t, time_t now);

#endif
