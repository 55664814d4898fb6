/* vdiskctl's text view of a daemon's answer (answer_print): each shape of member as the
 * header says, in order, "ok" left out. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "client-admin/answer_text.h"
#include "tests/lib/tap.h"

static void shows(const char *json, int indent, const char *want, const char *what)
{
	json_t *a = json_loads(json, 0, NULL);
	char *got = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&got, &len);

	if (a && f)
		answer_print(f, a, indent);
	if (f)
		fclose(f);
	ok(a != NULL, "%s: the vector reads as JSON", what);
	is_str(got ? got : "", want, "%s", what);
	free(got);
	json_decref(a);
}

int main(void)
{
	shows("{\"ok\":true}", 0, "", "an answer with nothing to say");
	shows("{\"ok\":true,\"state\":\"active\",\"db_seq\":42,\"on\":true,\"off\":false,"
	      "\"gone\":null,\"offset\":-3,\"ratio\":0.5}", 0,
	      "state: active\ndb_seq: 42\non: true\noff: false\ngone: -\noffset: -3\n"
	      "ratio: 0.5\n", "scalars, one a line, in order");
	shows("{\"ok\":true,\"flags\":[\"yield\",\"maintenance\"],\"none\":[]}", 0,
	      "flags: yield maintenance\nnone:\n", "a list of words on one line");
	shows("{\"ok\":true,\"link\":[{\"name\":\"eth1\",\"rx\":5,\"last\":null},"
	      "{\"rx\":1,\"name\":\"eth2\",\"up\":false}]}", 0,
	      "link: eth1 rx 5 last -\nlink: eth2 rx 1 up false\n",
	      "flat objects of a list: a line each, the name first and bare");
	shows("{\"ok\":true,\"fence\":{\"state\":\"idle\",\"fences\":0,\"on\":[1,2]}}", 0,
	      "fence: state idle fences 0 on 1,2\n", "a flat object without a name");
	shows("{\"ok\":true,\"target\":[{\"name\":\"t1\",\"sessions\":2,\"lun\":[{\"number\":0,"
	      "\"reads\":7},{\"number\":1,\"reads\":0}]}]}", 2,
	      "  target: t1\n    sessions: 2\n    lun: number 0 reads 7\n    lun: number 1 reads 0\n",
	      "a nested object: its members two blanks deeper, from the indent given");
	shows("{\"ok\":true,\"note\":\"\",\"rec\":{\"name\":\"x\",\"why\":\"two words\"}}", 0,
	      "note: \nrec: x why two words\n", "an empty text, a text with blanks: as they are");
	shows("{\"ok\":true,\"matrix\":[[1,2],[3]]}", 0, "matrix: 1 2\nmatrix: 3\n",
	      "a list of lists: each inner list a line");
	return done_testing();
}
