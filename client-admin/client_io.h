/* Clients out: the human table, JSON, and CSV in the import format. */
#ifndef CLIENT_ADMIN_CLIENT_IO_H
#define CLIENT_ADMIN_CLIENT_IO_H

#include <stdio.h>

#include "db/db.h"

/* The CSV header of import and export. */
#define CLIENT_CSV_HEADER "name,mac,ip,group,image,server,hot_standby,overlay"

/* Prints the clients whose keep[i] is set (all when keep is NULL). 0 or -ENOMEM. */
int clients_print_table(FILE *out, const struct db_client *c, size_t n, const char *keep);
void clients_print_json(FILE *out, const struct db_client *c, size_t n, const char *keep);
void clients_print_csv(FILE *out, const struct db_client *c, size_t n, const char *keep);
void client_print_json(FILE *out, const struct db_client *c);

#endif
