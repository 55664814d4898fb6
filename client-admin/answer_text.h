/* A daemon's answer on its control socket as text for the admin: one member a line. */
#ifndef CLIENT_ADMIN_ANSWER_TEXT_H
#define CLIENT_ADMIN_ANSWER_TEXT_H

#include <jansson.h>
#include <stdio.h>

/* Every member of the object answer but "ok", in order, each line indented by indent blanks:
 * - a scalar:                     "key: value" (a string as it is, null as "-");
 * - an array of scalars:          "key: v1 v2 ..." (an empty one "key:");
 * - an array of anything else:    each element as if it were the member key alone;
 * - an object of scalars (and arrays of scalars, joined by ','): one line "key: NAME k v k v"
 *   where NAME is its member "name", said first and bare;
 * - any other object:             "key: NAME" or "key:", then its members two blanks deeper.
 * Text values are printed as they are: a daemon's strings are its own (ctl_text). */
void answer_print(FILE *out, const json_t *answer, int indent);

#endif
