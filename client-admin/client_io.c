#include "client-admin/client_io.h"

#include <string.h>
#include <time.h>

#include "client-admin/output.h"

static void format_time(int64_t t, char *buf, size_t len)
{
	struct tm tm;
	time_t tt = (time_t)t;

	if (!t) {
		snprintf(buf, len, "-");
		return;
	}
	localtime_r(&tt, &tm);
	strftime(buf, len, "%Y-%m-%d %H:%M", &tm);
}

int clients_print_table(FILE *out, const struct db_client *c, size_t n, const char *keep)
{
	static const char *const head[] = { "NAME", "MAC", "IP", "GROUP", "IMAGE", "SERVER",
					    "HOT-STANDBY", "OVERLAY", "ENABLED", "LAST-BOOT" };
	struct table t;
	size_t i;
	int rc = 0;

	table_init(&t, sizeof(head) / sizeof(head[0]), head);
	for (i = 0; i < n && rc == 0; i++) {
		char boot[32];
		const char *row[10];

		if (keep && !keep[i])
			continue;
		format_time(c[i].last_boot, boot, sizeof(boot));
		row[0] = c[i].name;
		row[1] = c[i].mac;
		row[2] = c[i].ip[0] ? c[i].ip : "-";
		row[3] = c[i].group[0] ? c[i].group : "-";
		row[4] = c[i].image[0] ? c[i].image : "-";
		row[5] = c[i].server[0] ? c[i].server : "-";
		row[6] = c[i].hot_standby ? "on" : "off";
		row[7] = db_overlay_name(c[i].overlay);
		row[8] = c[i].enabled ? "yes" : "no";
		row[9] = boot;
		rc = table_add(&t, row);
	}
	if (rc == 0)
		table_print(&t, out);
	table_free(&t);
	return rc;
}

void client_print_json(FILE *out, const struct db_client *c)
{
	fprintf(out, "{\"name\":");
	json_string(out, c->name);
	fprintf(out, ",\"mac\":");
	json_string(out, c->mac);
	fprintf(out, ",\"ip\":");
	json_string(out, c->ip);
	fprintf(out, ",\"group\":");
	json_string(out, c->group);
	fprintf(out, ",\"image\":");
	json_string(out, c->image);
	fprintf(out, ",\"server\":");
	json_string(out, c->server);
	fprintf(out, ",\"hot_standby\":%s,\"overlay\":\"%s\",\"enabled\":%s,\"iqn\":",
		c->hot_standby ? "true" : "false", db_overlay_name(c->overlay),
		c->enabled ? "true" : "false");
	json_string(out, c->iqn);
	fprintf(out, ",\"created\":%lld,\"updated\":%lld,\"last_boot\":%lld}",
		(long long)c->created, (long long)c->updated, (long long)c->last_boot);
}

void clients_print_json(FILE *out, const struct db_client *c, size_t n, const char *keep)
{
	size_t i;
	int first = 1;

	fputc('[', out);
	for (i = 0; i < n; i++) {
		if (keep && !keep[i])
			continue;
		fputs(first ? "\n  " : ",\n  ", out);
		client_print_json(out, &c[i]);
		first = 0;
	}
	fputs(first ? "]\n" : "\n]\n", out);
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
