/* A CSV reader (RFC 4180: comma separated, fields optionally in double quotes, "" inside
 * quotes for a quote, CRLF or LF line ends) over an in-memory buffer. It never allocates
 * from what the input declares: fields and records are capped. */
#ifndef CLIENT_ADMIN_CSV_H
#define CLIENT_ADMIN_CSV_H

#include <stddef.h>

#define CSV_MAX_FIELDS 32
#define CSV_MAX_RECORD 4096	/* bytes of field text per record */

struct csv_reader {
	const char *p, *end;
	unsigned line;			/* line where the current record starts (1-based) */
	unsigned next_line;
	char text[CSV_MAX_RECORD];	/* the fields of the current record, NUL-separated */
};

void csv_init(struct csv_reader *r, const char *buf, size_t len);

/* Reads the next record into fields[] (pointers into r->text). Returns the number of fields
 * (>= 1), 0 at end of input, or -EINVAL (with a message in err) for an unterminated quote,
 * text after a closing quote, or a record over the caps. Blank lines are skipped. */
int csv_next(struct csv_reader *r, char *fields[CSV_MAX_FIELDS], char *err, size_t errlen);

#endif
