/* Listings: the same rows as an aligned table for people or a JSON array for programs. */
#ifndef CLIENT_ADMIN_OUTPUT_H
#define CLIENT_ADMIN_OUTPUT_H

#include <jansson.h>
#include <stdio.h>

#define TABLE_MAX_COLS 20

/* head: the table's column title, NULL for a JSON-only column; key: the JSON member name,
 * NULL for a table-only column; raw: the JSON value is written as is (numbers, true/false)
 * instead of as a string. An empty cell shows as "-" in the table. */
struct column {
	const char *head;
	const char *key;
	int raw;
};

/* A table collects every row first so columns can be as wide as their widest cell.
 * Cells are copied; the table owns them. */
struct table {
	size_t ncols, nrows, cap;
	const struct column *cols;
	char **cells;			/* nrows * ncols */
};

void table_init(struct table *t, size_t ncols, const struct column *cols);
/* Appends a row of ncols strings; -ENOMEM on failure. */
int table_add(struct table *t, const char *const *row);
/* Prints the table, or the JSON array when json is set. */
void table_print(const struct table *t, int json, FILE *out);
/* Row r as one JSON object (NULL when out of memory): the columns with a key, in order,
 * a raw cell as a number, true or false, an empty raw cell as null. */
json_t *table_record_json(const struct table *t, size_t r);
void table_free(struct table *t);

/* A value of a text answer as JSON: a whole decimal integer (as JSON writes one) as a
 * number, else a string (bytes that are not UTF-8 become U+FFFD: a daemon's answer is text,
 * not trusted to be well formed). NULL when out of memory. */
json_t *json_text_value(const char *s, size_t len);
/* v on one line (members in their order), then a newline; 0, or -EIO. */
int json_print(FILE *out, const json_t *v);

#endif
