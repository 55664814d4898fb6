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

/* A whole decimal integer as JSON writes one (an optional '-', digits without a leading
 * zero, nothing else) in s[0..len): "0012" or a hex generation that happens to be all
 * digits stays text. */
static int is_integer(const char *s, size_t len, long long *v)
{
	size_t sign = len && *s == '-';
	char buf[24], *end;

	if (len <= sign || len >= sizeof(buf) || strspn(s + sign, "0123456789") != len - sign ||
	    (s[sign] == '0' && len - sign > 1))
		return 0;
	memcpy(buf, s, len);
	buf[len] = '\0';
	errno = 0;
	*v = strtoll(buf, &end, 10);
	return errno == 0 && *end == '\0';
}

/* s[0..len) as a JSON string; bytes that are not UTF-8 (or a NUL) become U+FFFD. */
static json_t *text_string(const char *s, size_t len)
{
	char *fixed;
	json_t *j;
	size_t i, o;

	j = json_stringn(s, len);
	if (j)
		return j;
	/* not UTF-8 (or a NUL): each byte past ASCII becomes U+FFFD */
	fixed = malloc(len * 3 + 1);
	if (!fixed)
		return NULL;
	for (i = o = 0; i < len; i++) {
		if ((unsigned char)s[i] < 0x80 && s[i]) {
			fixed[o++] = s[i];
		} else {
			memcpy(fixed + o, "\xef\xbf\xbd", 3);
			o += 3;
		}
	}
	j = json_stringn(fixed, o);
	free(fixed);
	return j;
}

json_t *json_text_value(const char *s, size_t len)
{
	long long v;

	return is_integer(s, len, &v) ? json_integer(v) : text_string(s, len);
}

static json_t *raw_value(const char *cell)
{
	if (!*cell)
		return json_null();
	if (strcmp(cell, "true") == 0)
		return json_true();
	if (strcmp(cell, "false") == 0)
		return json_false();
	return json_text_value(cell, strlen(cell));
}

json_t *table_record_json(const struct table *t, size_t r)
{
	json_t *o = json_object();
	size_t c;

	for (c = 0; o && c < t->ncols; c++) {
		const char *cell = t->cells[r * t->ncols + c];

		if (!t->cols[c].key)
			continue;
		if (json_object_set_new(o, t->cols[c].key, t->cols[c].raw ? raw_value(cell)
					: text_string(cell, strlen(cell)))) {
			json_decref(o);
			o = NULL;
		}
	}
	return o;
}

/* every JSON vdiskctl writes: compact, members in the order they were set */
#define JSON_OUT (JSON_COMPACT | JSON_PRESERVE_ORDER)

int json_print(FILE *out, const json_t *v)
{
	if (!v || json_dumpf(v, out, JSON_OUT) || fputc('\n', out) == EOF)
		return -EIO;
	return 0;
}

/* One row a line, so a listing can be read (and grepped) row by row. */
static void print_json(const struct table *t, FILE *out)
{
	size_t r;

	fputc('[', out);
	for (r = 0; r < t->nrows; r++) {
		json_t *o = table_record_json(t, r);

		fputs(r ? ",\n  " : "\n  ", out);
		if (!o || json_dumpf(o, out, JSON_OUT))
			fputs("null", out);
		json_decref(o);
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
