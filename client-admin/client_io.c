#include "client-admin/client_io.h"

#include <string.h>
#include <time.h>

static const struct column client_cols[] = {
	{ "NAME", "name", 0 },
	{ "MAC", "mac", 0 },
	{ "IP", "ip", 0 },
	{ "GROUP", "group", 0 },
	{ "IMAGE", "image", 0 },
	{ "SERVER", "server", 0 },
	{ "HOT-STANDBY", NULL, 0 },
	{ NULL, "hot_standby", 1 },
	{ "OVERLAY", "overlay", 0 },
	{ "ENABLED", NULL, 0 },
	{ NULL, "enabled", 1 },
	{ NULL, "iqn", 0 },
	{ NULL, "created", 1 },
	{ NULL, "updated", 1 },
	{ "LAST-BOOT", NULL, 0 },
	{ NULL, "last_boot", 1 },
	{ NULL, "auto_registered", 1 },
};
#define NCOLS (sizeof(client_cols) / sizeof(client_cols[0]))

static void format_time(int64_t t, char *buf, size_t len)
{
	struct tm tm;
	time_t tt = (time_t)t;

	buf[0] = '\0';
	if (t) {
		localtime_r(&tt, &tm);
		strftime(buf, len, "%Y-%m-%d %H:%M", &tm);
	}
}

int clients_table(struct table *t, const struct db_client *c, size_t n, const char *keep)
{
	size_t i;
	int rc = 0;

	table_init(t, NCOLS, client_cols);
	for (i = 0; i < n && rc == 0; i++) {
		char boot[32], created[24], updated[24], last[24];
		const char *row[NCOLS] = {
			c[i].name, c[i].mac, c[i].ip, c[i].group, c[i].image, c[i].server,
			c[i].hot_standby ? "on" : "off", c[i].hot_standby ? "true" : "false",
			db_overlay_name(c[i].overlay),
			c[i].enabled ? "yes" : "no", c[i].enabled ? "true" : "false",
			c[i].iqn, created, updated, boot, last,
			c[i].auto_registered ? "true" : "false",
		};

		if (keep && !keep[i])
			continue;
		format_time(c[i].last_boot, boot, sizeof(boot));
		snprintf(created, sizeof(created), "%lld", (long long)c[i].created);
		snprintf(updated, sizeof(updated), "%lld", (long long)c[i].updated);
		snprintf(last, sizeof(last), "%lld", (long long)c[i].last_boot);
		rc = table_add(t, row);
	}
	return rc;
}

/* Quotes a field only when it must be (comma, quote, line break). */
static void csv_field(FILE *out, const char *s)
{
	if (!strpbrk(s, ",\"\r\n")) {
		fputs(s, out);
		return;
	}
	fputc('"', out);
	for (; *s; s++) {
		if (*s == '"')
			fputc('"', out);
		fputc(*s, out);
	}
	fputc('"', out);
}

void clients_print_csv(FILE *out, const struct db_client *c, size_t n, const char *keep)
{
	size_t i;

	fprintf(out, "%s\n", CLIENT_CSV_HEADER);
	for (i = 0; i < n; i++) {
		const char *f[] = { c[i].name, c[i].mac, c[i].ip, c[i].group, c[i].image,
				    c[i].server };
		size_t k;

		if (keep && !keep[i])
			continue;
		for (k = 0; k < sizeof(f) / sizeof(f[0]); k++) {
			csv_field(out, f[k]);
			fputc(',', out);
		}
		fprintf(out, "%s,%s\n", c[i].hot_standby ? "on" : "off",
			db_overlay_name(c[i].overlay));
	}
}
