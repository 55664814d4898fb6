#include "client-admin/output.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

void table_init(struct table *t, size_t ncols, const struct column *cols)
{
	memset(t, 0, sizeof(*t));
	t->ncols = ncols > TABLE_MAX_COLS ? TABLE_MAX_COLS : ncols;
	t->cols = cols;
}

int table_add(struct table *t, const char *const *row)
{
	size_t i;

	if (t->nrows == t->cap) {
		size_t cap = t->cap ? t->cap * 2 : 64;
		char **cells = realloc(t->cells, cap * t->ncols * sizeof(*cells));
		if (!cells)
			return -ENOMEM;
		t->cells = cells;
		t->cap = cap;
	}
	for (i = 0; i < t->ncols; i++) {
		char *s = strdup(row[i] ? row[i] : "");
		if (!s) {
			while (i--)
				free(t->cells[t->nrows * t->ncols + i]);
			return -ENOMEM;
		}
		t->cells[t->nrows * t->ncols + i] = s;
	}
	t->nrows++;
	return 0;
}

static const char *shown(const char *cell)
{
	return *cell ? cell : "-";
}

/* The last shown column is not padded, so lines carry no trailing blanks. */
static void print_row(const struct table *t, const size_t *w, const char *const *cells,
		      FILE *out)
{
	size_t c, last = 0;

	for (c = 0; c < t->ncols; c++)
		if (t->cols[c].head)
			last = c;
	for (c = 0; c < t->ncols; c++) {
		if (!t->cols[c].head)
			continue;
		if (c == last)
			fprintf(out, "%s\n", cells[c]);
		else
			fprintf(out, "%-*s  ", (int)w[c], cells[c]);
	}
}

void table_print_record(const struct table *t, size_t r, FILE *out)
{
	size_t c;
	int first = 1;

	fputc('{', out);
	for (c = 0; c < t->ncols; c++) {
		const char *cell = t->cells[r * t->ncols + c];
		if (!t->cols[c].key)
			continue;
		fprintf(out, "%s\"%s\":", first ? "" : ",", t->cols[c].key);
		if (t->cols[c].raw)
			fputs(*cell ? cell : "null", out);
		else
			json_string(out, cell);
		first = 0;
	}
	fputc('}', out);
}

static void print_json(const struct table *t, FILE *out)
{
	size_t r;

	fputc('[', out);
	for (r = 0; r < t->nrows; r++) {
		fputs(r ? ",\n  " : "\n  ", out);
		table_print_record(t, r, out);
	}
	fputs(t->nrows ? "\n]\n" : "]\n", out);
}

void table_print(const struct table *t, int json, FILE *out)
{
	const char *row[TABLE_MAX_COLS];
	size_t w[TABLE_MAX_COLS], r, c;

	if (json) {
		print_json(t, out);
		return;
	}
	for (c = 0; c < t->ncols; c++) {
		w[c] = t->cols[c].head ? strlen(t->cols[c].head) : 0;
		for (r = 0; r < t->nrows; r++) {
			size_t len = strlen(shown(t->cells[r * t->ncols + c]));
			if (len > w[c])
				w[c] = len;
		}
		row[c] = t->cols[c].head;
	}
	print_row(t, w, row, out);
	for (r = 0; r < t->nrows; r++) {
		for (c = 0; c < t->ncols; c++)
			row[c] = shown(t->cells[r * t->ncols + c]);
		print_row(t, w, row, out);
	}
}

void table_free(struct table *t)
{
	size_t i;

	for (i = 0; i < t->nrows * t->ncols; i++)
		free(t->cells[i]);
	free(t->cells);
	t->cells = NULL;
	t->nrows = t->cap = 0;
}

void json_string(FILE *out, const char *s)
{
	fputc('"', out);
	for (; *s; s++) {
		unsigned char ch = (unsigned char)*s;
		if (ch == '"' || ch == '\\')
			fprintf(out, "\\%c", ch);
		else if (ch == '\n')
			fputs("\\n", out);
		else if (ch == '\t')
			fputs("\\t", out);
		else if (ch < 0x20)
			fprintf(out, "\\u%04x", ch);
		else
			fputc(ch, out);
	}
	fputc('"', out);
}
