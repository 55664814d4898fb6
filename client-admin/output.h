/* Listings for people (aligned tables) and for programs (JSON). */
#ifndef CLIENT_ADMIN_OUTPUT_H
#define CLIENT_ADMIN_OUTPUT_H

#include <stdio.h>

#define TABLE_MAX_COLS 12

/* A table collects every row first so columns can be as wide as their widest cell.
 * Cells are copied; the table owns them. */
struct table {
	size_t ncols, nrows, cap;
	const char *head[TABLE_MAX_COLS];
	char **cells;			/* nrows * ncols */
};

void table_init(struct table *t, size_t ncols, const char *const *head);
/* Appends a row of ncols strings; -ENOMEM on failure. */
int table_add(struct table *t, const char *const *row);
void table_print(const struct table *t, FILE *out);
void table_free(struct table *t);

/* JSON: a string with every character that needs it escaped. */
void json_string(FILE *out, const char *s);

#endif
