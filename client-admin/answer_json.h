/* A daemon's text answer on its control socket as one JSON object, for vdiskctl --json. */
#ifndef CLIENT_ADMIN_ANSWER_JSON_H
#define CLIENT_ADMIN_ANSWER_JSON_H

#include <jansson.h>

/* body (NUL-terminated, the answer after its "ok" line) as an object: each line a member,
 * "key: value" (standbyd, pxed) or "key value" (vdiskd); a key met again an array of its
 * values in order; a value "NAME KEY VALUE KEY VALUE [FLAG]" of two pairs or more an object
 * {"name": NAME, KEY: VALUE, ..., FLAG: true}; other values numbers when they are whole
 * decimal integers, else strings (json_text_value). Nothing of the answer is dropped but
 * lines without a key (printable ASCII before the first blank or colon). NULL when out of
 * memory. */
json_t *answer_json(const char *body);

#endif
