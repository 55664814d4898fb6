/* A daemon's text answer as JSON; see answer_json.h. */
#include "client-admin/answer_json.h"

#include <stdio.h>
#include <string.h>

#include "client-admin/output.h"

#define MAX_TOKENS 64
#define MAX_KEY 64

/* A record's key: a lower-case word of at most MAX_KEY - 1 characters. */
static int is_key(const char *s, size_t len)
{
	size_t i;

	if (!len || len >= MAX_KEY || s[0] < 'a' || s[0] > 'z')
		return 0;
	for (i = 1; i < len; i++)
		if (!((s[i] >= 'a' && s[i] <= 'z') || (s[i] >= '0' && s[i] <= '9') || s[i] == '_' ||
		      s[i] == '-'))
			return 0;
	return 1;
}

/* A value "NAME KEY VALUE KEY VALUE [FLAG]" with two pairs or more (a link, a client, a
 * mirror): an object {"name": NAME, KEY: VALUE, ..., FLAG: true}. NULL when the value has
 * another shape: it stays a string. */
static json_t *record(const char *v, size_t len)
{
	const char *tok[MAX_TOKENS];
	size_t tlen[MAX_TOKENS], n = 0, i, pairs;
	json_t *o;

	for (i = 0; i < len && n < MAX_TOKENS;) {
		const char *blank = memchr(v + i, ' ', len - i);
		size_t l = blank ? (size_t)(blank - (v + i)) : len - i;

		if (l) {
			tok[n] = v + i;
			tlen[n++] = l;
		}
		i += l + 1;
	}
	if (i < len || n < 5)
		return NULL;
	pairs = (n - 1) / 2;
	for (i = 0; i < pairs; i++)
		if (!is_key(tok[1 + 2 * i], tlen[1 + 2 * i]))
			return NULL;
	if ((n - 1) % 2 && !is_key(tok[n - 1], tlen[n - 1]))
		return NULL;
	o = json_object();
	if (!o || json_object_set_new(o, "name", json_text_value(tok[0], tlen[0])))
		goto fail;
	/* a key twice in the record would lose a value: then the line stays a string */
	for (i = 0; i < pairs; i++) {
		char key[MAX_KEY];

		snprintf(key, sizeof(key), "%.*s", (int)tlen[1 + 2 * i], tok[1 + 2 * i]);
		if (json_object_get(o, key) ||
		    json_object_set_new(o, key, json_text_value(tok[2 + 2 * i], tlen[2 + 2 * i])))
			goto fail;
	}
	if ((n - 1) % 2) {
		char flag[MAX_KEY];

		snprintf(flag, sizeof(flag), "%.*s", (int)tlen[n - 1], tok[n - 1]);
		if (json_object_get(o, flag) || json_object_set_new(o, flag, json_true()))
			goto fail;
	}
	return o;
fail:
	json_decref(o);
	return NULL;
}

/* A line's key: printable ASCII, no blank or colon, shorter than 128. */
static int line_key(const char *s, size_t len)
{
	size_t i;

	for (i = 0; i < len; i++)
		if (s[i] <= ' ' || s[i] > '~')
			return 0;
	return len > 0 && len < 128;
}

/* One line of an answer, "key: value" (standbyd, pxed) or "key value" (vdiskd), into obj. A
 * key met again makes its member an array of all its values, in order. A line without such
 * a key is left out. 0 or -1. */
static int add_line(json_t *obj, const char *line, size_t len)
{
	size_t klen = 0, voff;
	json_t *v, *prev;
	char key[128];

	while (klen < len && line[klen] != ' ' && line[klen] != ':')
		klen++;
	if (!line_key(line, klen))
		return 0;
	snprintf(key, sizeof(key), "%.*s", (int)klen, line);
	voff = klen + (klen < len && line[klen] == ':');
	while (voff < len && line[voff] == ' ')
		voff++;
	v = record(line + voff, len - voff);
	if (!v)
		v = json_text_value(line + voff, len - voff);
	if (!v)
		return -1;
	prev = json_object_get(obj, key);
	if (!prev)
		return json_object_set_new(obj, key, v);
	if (!json_is_array(prev)) {
		json_t *a = json_array();

		if (!a || json_array_append(a, prev)) {
			json_decref(a);
			json_decref(v);
			return -1;
		}
		if (json_object_set_new(obj, key, a)) {	/* it takes a, even when it fails */
			json_decref(v);
			return -1;
		}
		prev = a;
	}
	return json_array_append_new(prev, v);
}

json_t *answer_json(const char *body)
{
	json_t *o = json_object();
	const char *line = body;

	while (o && *line) {
		size_t len = strcspn(line, "\r\n");

		if (add_line(o, line, len)) {
			json_decref(o);
			return NULL;
		}
		line += len;
		line += strspn(line, "\r\n");
	}
	return o;
}

