/* vdiskctl's parsers of untrusted text: batch selections and CSV records, with must-fail
 * vectors. */
#include <errno.h>
#include <string.h>

#include "client-admin/csv.h"
#include "client-admin/select.h"
#include "tests/lib/tap.h"

static struct db_client named(const char *name, const char *mac, const char *ip,
			      const char *group)
{
	struct db_client c = { 0 };

	strcpy(c.name, name);
	strcpy(c.mac, mac);
	strcpy(c.ip, ip);
	strcpy(c.group, group);
	return c;
}

static void test_selection(void)
{
	static const struct { const char *opt, *value; } bad[] = {
		{ "range", "PC080-PC001" },	/* reversed */
		{ "range", "PC001-LAB080" },	/* prefixes differ */
		{ "range", "PC001" },		/* no second end */
		{ "range", "001-080" },		/* no prefix */
		{ "range", "PC-PC" },		/* no numbers */
		{ "range", "PC1-PC2-PC3" },
		{ "range", "PC0000000001-PC0000000002" },	/* over 9 digits */
		{ "mac", "52:54:00:00:00" },
		{ "mac", "52:54:00:00:00:01," },
		{ "mac", "zz:54:00:00:00:01" },
		{ "ip-range", "10.0.0.9-10.0.0.1" },
		{ "ip-range", "10.0.0.1" },
		{ "ip-range", "10.0.0.1-10.0.0.256" },
		{ "group", "" },
		{ "name", NULL },
		{ "colour", "blue" },
	};
	char err[160];
	size_t i;

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		struct selection sel = { 0 };
		err[0] = '\0';
		is_int(selection_add(&sel, bad[i].opt, bad[i].value, err, sizeof(err)), -EINVAL,
		       "--%s '%s' refused", bad[i].opt, bad[i].value ? bad[i].value : "(none)");
		ok(err[0] != '\0', "  with a message: %s", err);
	}

	struct selection sel = { 0 };
	struct db_client a = named("PC001", "52:54:00:00:00:01", "10.0.0.1", "hall"),
			 b = named("pc080", "52:54:00:00:00:50", "10.0.0.80", "hall"),
			 c = named("PC081", "52:54:00:00:00:51", "", "vip"),
			 d = named("PCX", "52:54:00:00:00:52", "10.0.0.5", "hall");
	is_int(selection_add(&sel, "range", "PC001-PC080", err, sizeof(err)), 0, "range parses");
	ok(selection_match(&sel, &a) && selection_match(&sel, &b), "range includes both ends "
	   "(case-insensitive prefix)");
	ok(!selection_match(&sel, &c) && !selection_match(&sel, &d), "range excludes PC081, PCX");
	is_int(selection_add(&sel, "ip-range", "10.0.0.50-10.0.0.99", err, sizeof(err)), 0,
	       "ip-range parses");
	ok(!selection_match(&sel, &a) && selection_match(&sel, &b), "criteria combine with AND");

	struct selection s2 = { 0 };
	is_int(selection_add(&s2, "mac", "52-54-00-00-00-01,525400000051", err, sizeof(err)), 0,
	       "MAC list in mixed notations");
	ok(selection_match(&s2, &a) && selection_match(&s2, &c) && !selection_match(&s2, &b),
	   "MAC list matches exactly those");
	struct selection s3 = { 0 };
	selection_add(&s3, "name", "pc0*", err, sizeof(err));
	selection_add(&s3, "group", "hall", err, sizeof(err));
	ok(selection_match(&s3, &a) && selection_match(&s3, &b) && !selection_match(&s3, &c),
	   "name glob (case-insensitive) and group");
	ok(!selection_match(&s3, &d), "glob excludes PCX");
}

static int parse_all(const char *text, char *fields[CSV_MAX_FIELDS], int *nrec, char *err)
{
	struct csv_reader r;
	int nf, last = 0;

	csv_init(&r, text, strlen(text));
	*nrec = 0;
	while ((nf = csv_next(&r, fields, err, 160)) > 0) {
		(*nrec)++;
		last = nf;
	}
	return nf < 0 ? nf : last;
}

static void test_csv(void)
{
	char *f[CSV_MAX_FIELDS], err[160];
	struct csv_reader r;
	int n, nrec;
	static char big[CSV_MAX_RECORD + 100];

	static const char text[] = "a,\"b,c\",\"say \"\"hi\"\"\"\r\n\r\nx,,\n";

	csv_init(&r, text, sizeof(text) - 1);
	n = csv_next(&r, f, err, sizeof(err));
	is_int(n, 3, "three fields");
	is_str(f[1], "b,c", "quoted comma");
	is_str(f[2], "say \"hi\"", "doubled quotes");
	n = csv_next(&r, f, err, sizeof(err));
	is_int(n, 3, "blank line skipped, empty fields kept");
	is_int(r.line, 3, "line numbers count the blank line");
	is_str(f[1], "", "empty field");
	is_int(csv_next(&r, f, err, sizeof(err)), 0, "end of input");

	is_int(parse_all("a,\"unterminated\n", f, &nrec, err), -EINVAL, "unterminated quote");
	is_int(parse_all("a,\"x\"y\n", f, &nrec, err), -EINVAL, "text after closing quote");
	is_int(parse_all("a,b\"c\n", f, &nrec, err), -EINVAL, "quote inside unquoted field");
	ok(strstr(err, "line 1") != NULL, "error names the line: %s", err);
	memset(big, 'x', sizeof(big) - 1);
	is_int(parse_all(big, f, &nrec, err), -EINVAL, "over-long record refused");
	memset(big, ',', sizeof(big) - 1);
	is_int(parse_all(big, f, &nrec, err), -EINVAL, "too many fields refused");
	is_int(parse_all("\"multi\nline\",b\nc,d\n", f, &nrec, err), 2,
	       "quoted line break is data");
	is_int(nrec, 2, "two records");
}

int main(void)
{
	test_selection();
	test_csv();
	return done_testing();
}
