#include "client-admin/csv.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

void csv_init(struct csv_reader *r, const char *buf, size_t len)
{
	r->p = buf;
	r->end = buf + len;
	r->line = r->next_line = 1;
}

static int fail(struct csv_reader *r, char *err, size_t errlen, const char *why)
{
	snprintf(err, errlen, "line %u: %s", r->line, why);
	/* Skip to the next line so a caller may keep reading to report more errors. */
	while (r->p < r->end && *r->p != '\n')
		r->p++;
	if (r->p < r->end) {
		r->p++;
		r->next_line++;
	}
	return -EINVAL;
}

int csv_next(struct csv_reader *r, char *fields[CSV_MAX_FIELDS], char *err, size_t errlen)
{
	size_t out = 0;
	int nf = 0;

	/* Skip blank lines. */
	while (r->p < r->end && (*r->p == '\n' || *r->p == '\r')) {
		if (*r->p == '\n')
			r->next_line++;
		r->p++;
	}
	r->line = r->next_line;
	if (r->p >= r->end)
		return 0;

	for (;;) {
		int quoted = 0;

		if (nf == CSV_MAX_FIELDS)
			return fail(r, err, errlen, "too many fields");
		fields[nf++] = r->text + out;
		if (r->p < r->end && *r->p == '"') {
			quoted = 1;
			r->p++;
		}
		for (;;) {
			char c;

			if (r->p >= r->end) {
				if (quoted)
					return fail(r, err, errlen, "unterminated quoted field");
				break;
			}
			c = *r->p;
			if (quoted) {
				if (c == '"') {
					if (r->end - r->p >= 2 && r->p[1] == '"') {
						r->p++;	/* "" is one quote */
					} else {
						r->p++;
						quoted = 0;
						if (r->p < r->end && *r->p != ',' && *r->p != '\n' &&
						    *r->p != '\r')
							return fail(r, err, errlen,
								    "text after a closing quote");
						continue;
					}
				} else if (c == '\n') {
					r->next_line++;
				}
			} else if (c == ',' || c == '\n' || c == '\r') {
				break;
			} else if (c == '"') {
				return fail(r, err, errlen, "quote inside an unquoted field");
			}
			if (out + 1 >= sizeof(r->text) - 1)
				return fail(r, err, errlen, "record too long");
			r->text[out++] = c;
			r->p++;
		}
		if (out >= sizeof(r->text))
			return fail(r, err, errlen, "record too long");
		r->text[out++] = '\0';
		if (r->p < r->end && *r->p == ',') {
			r->p++;
			continue;
		}
		/* End of record: CR?LF or end of input. */
		if (r->p < r->end && *r->p == '\r')
			r->p++;
		if (r->p < r->end && *r->p == '\n') {
			r->p++;
			r->next_line++;
		}
		return nf;
	}
}
