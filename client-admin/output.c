#include "client-admin/output.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

void table_init(struct table *t, size_t ncols, const char *const *head)
{
	size_t i;

	memset(t, 0, sizeof(*t));
	t->ncols = ncols > TABLE_MAX_COLS ? TABLE_MAX_COLS : ncols;
	for (i = 0; i < t->ncols; i++)
		t->head[i] = head[i];
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

/* The last column is not padded, so lines carry no trailing blanks. */
static void print_cell(FILE *out, const char *s, size_t width, int last)
{
	if (last)
		fprintf(out, "%s\n", s);
	else
		fprintf(out, "%-*s  ", (int)width, s);
}

void table_print(const struct table *t, FILE *out)
{
	size_t w[TABLE_MAX_COLS], r, c;

	for (c = 0; c < t->ncols; c++)
		w[c] = strlen(t->head[c]);
	for (r = 0; r < t->nrows; r++)
		for (c = 0; c < t->ncols; c++) {
			size_t len = strlen(t->cells[r * t->ncols + c]);
			if (len > w[c])
				w[c] = len;
		}
	for (c = 0; c < t->ncols; c++)
		print_cell(out, t->head[c], w[c], c + 1 == t->ncols);
	for (r = 0; r < t->nrows; r++)
		for (c = 0; c < t->ncols; c++)
			print_cell(out, t->cells[r * t->ncols + c], w[c], c + 1 == t->ncols);
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
