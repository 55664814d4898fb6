/* vdiskctl --json's reading of a daemon's answer: both words of "key: value" and "key value",
 * repeated keys as arrays, records, numbers as JSON writes them; and answers that are not
 * what a daemon says (no key, bytes that are not UTF-8, too many words, a key twice in a
 * record, a long line) kept as text or left out, never a crash or invalid JSON. */
#include <stdlib.h>
#include <string.h>

#include "client-admin/answer_json.h"
#include "tests/lib/tap.h"

/* the answer as compact JSON text (members in order), for comparing */
static char *as_json(const char *body)
{
	json_t *o = answer_json(body);
	char *s = o ? json_dumps(o, JSON_COMPACT | JSON_PRESERVE_ORDER) : NULL;

	json_decref(o);
	return s;
}

static void is_json(const char *body, const char *want, const char *what)
{
	char *got = as_json(body);

	ok(got && strcmp(got, want) == 0, "%s: %s", what, got ? got : "(null)");
	free(got);
}

int main(void)
{
	char big[9000];
	char *s;
	json_t *back;

	is_json("state: active\npeer: srv-b alive\nsessions: 3\n",
		"{\"state\":\"active\",\"peer\":\"srv-b alive\",\"sessions\":3}", "standbyd's words");
	is_json("node srv-a\nclients 2\nmirror in-sync\n",
		"{\"node\":\"srv-a\",\"clients\":2,\"mirror\":\"in-sync\"}", "vdiskd's words");
	is_json("link: lo rx 1 tx 2\nlink: ha0 rx 3 tx 4\n",
		"{\"link\":[{\"name\":\"lo\",\"rx\":1,\"tx\":2},{\"name\":\"ha0\",\"rx\":3,\"tx\":4}]}",
		"a repeated key: an array of records");
	is_json("client PC1 reads 0 writes 5 reset-pending\n",
		"{\"client\":{\"name\":\"PC1\",\"reads\":0,\"writes\":5,\"reset-pending\":true}}",
		"a trailing flag");
	is_json("x: 007 -12 -0 0 -\ny: -3\nz: 0\nw: 0012\nv: 99999999999999999999\n",
		"{\"x\":\"007 -12 -0 0 -\",\"y\":-3,\"z\":0,\"w\":\"0012\",\"v\":\"99999999999999999999\"}",
		"numbers only as JSON writes them and as they fit");
	is_json("gen: 0000000000000012\n", "{\"gen\":\"0000000000000012\"}", "a hex generation stays text");
	is_json("r a k 1 k 2\n", "{\"r\":\"a k 1 k 2\"}", "a key twice in a record: the line stays text");
	is_json("addr: 10.0.0.1/24 lan0 held\n", "{\"addr\":\"10.0.0.1/24 lan0 held\"}",
		"one pair is not a record");
	is_json("\n\n: no key\n \xff\xfe bad key\nk: \xff\xfe\n",
		"{\"k\":\"\xef\xbf\xbd\xef\xbf\xbd\"}", "no key, a bad key: left out; bad bytes: U+FFFD");
	is_json("empty\n", "{\"empty\":\"\"}", "a key alone");
	is_json("crlf: 1\r\nnext: 2\r\n", "{\"crlf\":1,\"next\":2}", "CRLF lines");

	/* 100 words: past the tokens a record reads, so text */
	strcpy(big, "many: n");
	for (int i = 0; i < 50; i++)
		strcat(big, " k 1");
	s = as_json(big);
	ok(s && strstr(s, "\"many\":\"n k 1 k 1") != NULL, "a value of 101 words stays text");
	free(s);
	memset(big, 'a', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	big[3] = ' ';
	s = as_json(big);
	back = s ? json_loads(s, 0, NULL) : NULL;
	ok(back && json_string_length(json_object_get(back, "aaa")) == sizeof(big) - 5,
	   "a line of 9 kB: whole, and the output reads back as JSON");
	json_decref(back);
	free(s);

	/* 1 MiB of lines without a blank (the most a control answer may be): read in one pass,
	 * not a scan to the next blank from every line */
	{
		size_t n = 1 << 19, i;
		char *body = malloc(2 * n + 1);
		json_t *o;

		for (i = 0; body && i < n; i++)
			memcpy(body + 2 * i, "x\n", 2);
		if (body)
			body[2 * n] = '\0';
		o = body ? answer_json(body) : NULL;
		ok(o && json_array_size(json_object_get(o, "x")) == n,
		   "a 1 MiB answer of one-word lines: every line, in one pass");
		json_decref(o);
		free(body);
	}
	return done_testing();
}
