/* A daemon's answer as text; see answer_text.h. */
#include "client-admin/answer_text.h"

#include <string.h>

static int is_scalar(const json_t *v)
{
	return !json_is_object(v) && !json_is_array(v);
}

static void print_scalar(FILE *out, const json_t *v)
{
	if (json_is_string(v))
		fputs(json_string_value(v), out);
	else if (json_is_integer(v))
		fprintf(out, "%" JSON_INTEGER_FORMAT, json_integer_value(v));
	else if (json_is_real(v))
		fprintf(out, "%g", json_real_value(v));
	else if (json_is_boolean(v))
		fputs(json_is_true(v) ? "true" : "false", out);
	else
		fputc('-', out);
}

static int scalars_only(const json_t *array)
{
	size_t i;
	json_t *v;

	json_array_foreach(array, i, v)
		if (!is_scalar(v))
			return 0;
	return 1;
}

/* The elements of an array of scalars, each after sep. */
static void print_list(FILE *out, const json_t *array, char sep)
{
	size_t i;
	json_t *v;

	json_array_foreach(array, i, v) {
		if (i || sep == ' ')
			fputc(sep, out);
		print_scalar(out, v);
	}
}

/* Whether an object fits on one line: no member is an object or an array of objects. */
static int flat(const json_t *obj)
{
	const char *k;
	json_t *v;

	json_object_foreach((json_t *)obj, k, v)
		if (json_is_object(v) || (json_is_array(v) && !scalars_only(v)))
			return 0;
	return 1;
}

static void print_member(FILE *out, const char *key, const json_t *v, int indent);

static void print_object(FILE *out, const char *key, const json_t *obj, int indent)
{
	const json_t *name = json_object_get(obj, "name");
	int one_line = flat(obj);
	const char *k;
	json_t *v;

	fprintf(out, "%*s%s:", indent, "", key);
	if (name && is_scalar(name)) {
		fputc(' ', out);
		print_scalar(out, name);
	}
	json_object_foreach((json_t *)obj, k, v) {
		if (v == name)
			continue;
		if (!one_line)
			break;
		fprintf(out, " %s ", k);
		if (json_is_array(v))
			print_list(out, v, ',');
		else
			print_scalar(out, v);
	}
	fputc('\n', out);
	if (one_line)
		return;
	json_object_foreach((json_t *)obj, k, v)
		if (v != name)
			print_member(out, k, v, indent + 2);
}

static void print_member(FILE *out, const char *key, const json_t *v, int indent)
{
	size_t i;
	json_t *e;

	if (json_is_object(v)) {
		print_object(out, key, v, indent);
	} else if (json_is_array(v) && !scalars_only(v)) {
		json_array_foreach(v, i, e)
			print_member(out, key, e, indent);
	} else {
		fprintf(out, "%*s%s:", indent, "", key);
		if (json_is_array(v)) {
			print_list(out, v, ' ');
		} else {
			fputc(' ', out);
			print_scalar(out, v);
		}
		fputc('\n', out);
	}
}

void answer_print(FILE *out, const json_t *answer, int indent)
{
	const char *k;
	json_t *v;

	json_object_foreach((json_t *)answer, k, v)
		if (strcmp(k, "ok") != 0)
			print_member(out, k, v, indent);
}
