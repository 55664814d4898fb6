#include "standby/cfgline.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

void cfg_reader_init(struct cfg_reader *r, const char *fname, const char *buf, size_t len)
{
	memset(r, 0, sizeof(*r));
	r->fname = fname;
	r->p = buf;
	r->end = buf + len;
	r->next_lineno = 1;
}

int cfg_fail(const struct cfg_reader *r, struct cfg_err *err, const char *fmt, ...)
{
	char what[256];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(what, sizeof(what), fmt, ap);
	va_end(ap);
	snprintf(err->msg, sizeof(err->msg), "%.300s:%u: %s", r->fname, r->lineno, what);
	return -EINVAL;
}

/* Copies one physical line (without its newline) to the end of r->line; *cont is set when it
 * ends in a backslash, which is dropped. */
static int read_physical(struct cfg_reader *r, size_t *used, int *cont, struct cfg_err *err)
{
	const char *nl = memchr(r->p, '\n', (size_t)(r->end - r->p));
	const char *stop = nl ? nl : r->end;
	size_t n = (size_t)(stop - r->p);

	r->next_lineno++;
	if (memchr(r->p, '\0', n))
		return cfg_fail(r, err, "NUL byte in line");
	if (n > 0 && r->p[n - 1] == '\r')
		n--;
	*cont = n > 0 && r->p[n - 1] == '\\';
	if (*cont)
		n--;
	if (n + (size_t)*cont > sizeof(r->line) - 1 - *used)
		return cfg_fail(r, err, "line longer than %d bytes", CFG_LINE_MAX - 1);
	memcpy(r->line + *used, r->p, n);
	*used += n;
	if (*cont)
		r->line[(*used)++] = ' ';	/* fits: the room check counted it */
	r->line[*used] = '\0';
	r->p = nl ? nl + 1 : r->end;
	return 0;
}

int cfg_next(struct cfg_reader *r, struct cfg_err *err)
{
	while (r->p < r->end) {
		size_t used = 0;
		int cont = 1, rc;
		char *hash, *save = NULL, *w;

		r->lineno = r->next_lineno;
		while (cont && r->p < r->end) {
			rc = read_physical(r, &used, &cont, err);
			if (rc)
				return rc;
		}
		hash = strchr(r->line, '#');
		if (hash)
			*hash = '\0';
		r->nwords = 0;
		for (w = strtok_r(r->line, " \t\r\f\v", &save); w;
		     w = strtok_r(NULL, " \t\r\f\v", &save)) {
			if (r->nwords == CFG_WORDS_MAX)
				return cfg_fail(r, err, "more than %d words", CFG_WORDS_MAX);
			r->words[r->nwords++] = w;
		}
		if (r->nwords)
			return 1;
	}
	return 0;
}
