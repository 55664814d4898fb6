/* Line-by-line reading of heartbeat-style config text: '#' starts a comment, words are split
 * on blanks, a trailing backslash joins the next line (haresources). Bounded by our own limits,
 * never by the input. */
#ifndef STANDBY_CFGLINE_H
#define STANDBY_CFGLINE_H

#include <stddef.h>

#include "standby/config.h"

#define CFG_LINE_MAX  1024
#define CFG_WORDS_MAX 32

struct cfg_reader {
	const char *fname;
	const char *p, *end;
	unsigned lineno;	/* line the current logical line starts on */
	unsigned next_lineno;
	char line[CFG_LINE_MAX];
	char *words[CFG_WORDS_MAX];
	int nwords;
};

void cfg_reader_init(struct cfg_reader *r, const char *fname, const char *buf, size_t len);
/* Reads the next line with at least one word. Returns 1 with r->words set, 0 at the end, or
 * -EINVAL (line too long, too many words, NUL byte) with err filled. */
int cfg_next(struct cfg_reader *r, struct cfg_err *err);

__attribute__((format(printf, 3, 4)))
int cfg_fail(const struct cfg_reader *r, struct cfg_err *err, const char *fmt, ...);

#endif
