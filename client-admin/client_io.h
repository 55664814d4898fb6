/* Clients out: the listing (table or JSON) and CSV in the import format. */
#ifndef CLIENT_ADMIN_CLIENT_IO_H
#define CLIENT_ADMIN_CLIENT_IO_H

#include <stdio.h>

#include "client-admin/output.h"
#include "db/db.h"

/* The CSV header of import and export. */
#define CLIENT_CSV_HEADER "name,mac,ip,group,image,server,hot_standby,overlay"

/* Fills t with the clients whose keep[i] is set (all when keep is NULL): the columns a
 * person wants in the table, every field but the CHAP secrets in JSON. 0 or -ENOMEM; the
 * caller frees t. Neither the listing nor the CSV ever carries the secrets: only
 * `client show NAME --secrets` prints them. */
int clients_table(struct table *t, const struct db_client *c, size_t n, const char *keep);
void clients_print_csv(FILE *out, const struct db_client *c, size_t n, const char *keep);

#endif
