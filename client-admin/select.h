/* Batch selection of clients: --all, --group G, --name GLOB, --range PC001-PC080,
 * --mac M[,M...], --ip-range A-B. Criteria combine with AND. */
#ifndef CLIENT_ADMIN_SELECT_H
#define CLIENT_ADMIN_SELECT_H

#include <stddef.h>
#include <stdint.h>

#include "db/db.h"

#define SELECT_MAX_MACS 256

struct selection {
	int any;			/* some criterion was given (--all counts) */
	int all;
	char group[DB_NAME_MAX];
	char glob[DB_NAME_MAX];
	int has_range;
	char range_prefix[DB_NAME_MAX];
	unsigned long range_lo, range_hi;
	size_t nmacs;
	char macs[SELECT_MAX_MACS][DB_MAC_MAX];
	int has_ip_range;
	uint32_t ip_lo, ip_hi;
};

/* Adds one criterion; opt is the option name without dashes ("range", "mac", ...).
 * Returns 0, or -EINVAL with a message naming the problem in err. */
int selection_add(struct selection *sel, const char *opt, const char *value,
		  char *err, size_t errlen);
int selection_match(const struct selection *sel, const struct db_client *c);

#endif
