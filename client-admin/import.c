#include "client-admin/import.h"

#include <ctype.h>
#include <errno.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "client-admin/cli.h"
#include "client-admin/csv.h"
#include "client-admin/strset.h"

enum col { COL_NAME, COL_MAC, COL_IP, COL_GROUP, COL_IMAGE, COL_SERVER, COL_HOT_STANDBY,
	   COL_OVERLAY, COL_COUNT };

static const char *const col_names[COL_COUNT] = {
	"name", "mac", "ip", "group", "image", "server", "hot_standby", "overlay",
};

/* What rows are checked against: names already in the database and earlier in the file. */
struct import_ctx {
	struct db *db;
	FILE *errs;
	unsigned nbad;
	int colmap[CSV_MAX_FIELDS];	/* field index -> enum col, -1 for none */
	struct strset names, macs, ips;	/* the database's and the file's, with line numbers */
	struct strset groups, images, servers;
};

__attribute__((format(printf, 3, 4)))
static void bad(struct import_ctx *ctx, unsigned line, const char *fmt, ...)
{
	va_list ap;

	fprintf(ctx->errs, "line %u: ", line);
	va_start(ap, fmt);
	vfprintf(ctx->errs, fmt, ap);
	va_end(ap);
	fputc('\n', ctx->errs);
	ctx->nbad++;
}

static void fold(char *dst, const char *src, size_t len)
{
	size_t i;

	for (i = 0; i + 1 < len && src[i]; i++)
		dst[i] = (char)tolower((unsigned char)src[i]);
	dst[i] = '\0';
}

/* Line 0 in a set means "already in the database". */
static int load_existing(struct import_ctx *ctx)
{
	struct db_client *c;
	struct db_group *g;
	struct db_image *im;
	struct db_server *s;
	size_t n, i;
	int rc;

	if ((rc = db_client_all(ctx->db, &c, &n)))
		return rc;
	for (i = 0; i < n && rc >= 0; i++) {
		char name[DB_NAME_MAX];
		fold(name, c[i].name, sizeof(name));
		rc = strset_add(&ctx->names, name, 0, NULL);
		if (rc >= 0)
			rc = strset_add(&ctx->macs, c[i].mac, 0, NULL);
		if (rc >= 0 && c[i].ip[0])
			rc = strset_add(&ctx->ips, c[i].ip, 0, NULL);
	}
	free(c);
	if (rc < 0 || (rc = db_group_all(ctx->db, &g, &n)))
		return rc;
	for (i = 0; i < n && rc >= 0; i++)
		rc = strset_add(&ctx->groups, g[i].name, 0, NULL);
	free(g);
	if (rc < 0 || (rc = db_image_all(ctx->db, &im, &n)))
		return rc;
	for (i = 0; i < n && rc >= 0; i++)
		rc = strset_add(&ctx->images, im[i].name, 0, NULL);
	free(im);
	if (rc < 0 || (rc = db_server_all(ctx->db, &s, &n)))
		return rc;
	for (i = 0; i < n && rc >= 0; i++)
		rc = strset_add(&ctx->servers, s[i].name, 0, NULL);
	free(s);
	return rc < 0 ? rc : 0;
}

static int read_header(struct import_ctx *ctx, char **f, int nf, unsigned line)
{
	int seen[COL_COUNT] = { 0 }, i, k, ok = 1;

	for (i = 0; i < nf; i++) {
		ctx->colmap[i] = -1;
		for (k = 0; k < COL_COUNT; k++)
			if (strcmp(f[i], col_names[k]) == 0)
				break;
		if (k == COL_COUNT && strstr(f[i], "secret")) {
			/* Secrets are made by the database; taking them from a file would put
			 * one admin's spreadsheet between the PCs and their disks. */
			bad(ctx, line, "column '%s': CHAP secrets are not imported (every imported "
			    "client gets new ones; renew them with 'vdiskctl client set ... "
			    "--new-secrets')", f[i]);
			ok = 0;
		} else if (k == COL_COUNT) {
			bad(ctx, line, "unknown column '%s' (expected %s)", f[i],
			    "name,mac,ip,group,image,server,hot_standby,overlay");
			ok = 0;
		} else if (seen[k]++) {
			bad(ctx, line, "column '%s' appears twice", f[i]);
			ok = 0;
		} else {
			ctx->colmap[i] = k;
		}
	}
	if (!seen[COL_NAME] || !seen[COL_MAC]) {
		bad(ctx, line, "the header needs the columns name and mac");
		ok = 0;
	}
	return ok;
}

/* Checks one uniqueness key; returns 1 when the row may keep it. */
static int claim(struct import_ctx *ctx, struct strset *set, const char *key, unsigned line,
		 const char *what, const char *shown, int *oom)
{
	unsigned prev;
	int rc = strset_add(set, key, line, &prev);

	if (rc < 0) {
		*oom = 1;
		return 0;
	}
	if (rc == 1)
		return 1;
	if (prev == 0)
		bad(ctx, line, "%s '%s' already exists in the database", what, shown);
	else
		bad(ctx, line, "%s '%s' also on line %u", what, shown, prev);
	return 0;
}

static int copy_field(struct import_ctx *ctx, unsigned line, char *dst, size_t len,
		      const char *col, const char *v)
{
	if (strlen(v) >= len) {
		bad(ctx, line, "%s '%.20s...' is longer than %zu characters", col, v, len - 1);
		return 0;
	}
	strcpy(dst, v);
	return 1;
}

/* Fills *c from one record; returns 1 when the row is good. */
static int read_row(struct import_ctx *ctx, char **f, int nf, unsigned line,
		    struct db_client *c, int *oom)
{
	unsigned before = ctx->nbad;
	char key[DB_NAME_MAX];
	int i, b;

	memset(c, 0, sizeof(*c));
	c->enabled = 1;
	for (i = 0; i < nf; i++) {
		const char *v = f[i];
		switch (ctx->colmap[i]) {
		case COL_NAME:   copy_field(ctx, line, c->name, sizeof(c->name), "name", v); break;
		case COL_MAC:    copy_field(ctx, line, c->mac, sizeof(c->mac), "mac", v); break;
		case COL_IP:     copy_field(ctx, line, c->ip, sizeof(c->ip), "ip", v); break;
		case COL_GROUP:  copy_field(ctx, line, c->group, sizeof(c->group), "group", v); break;
		case COL_IMAGE:  copy_field(ctx, line, c->image, sizeof(c->image), "image", v); break;
		case COL_SERVER: copy_field(ctx, line, c->server, sizeof(c->server), "server", v); break;
		case COL_HOT_STANDBY:
			if (!*v)
				break;
			if ((b = cli_parse_bool(v)) < 0)
				bad(ctx, line, "hot_standby '%s': expected on or off", v);
			else
				c->hot_standby = b;
			break;
		case COL_OVERLAY:
			if (*v && db_overlay_parse(v, &c->overlay))
				bad(ctx, line, "overlay '%s': expected restore or persistent", v);
			break;
		}
	}
	if (nf > 0 && ctx->nbad == before && !c->name[0])
		bad(ctx, line, "name is empty");
	if (ctx->nbad != before)
		return 0;
	if (!c->mac[0]) {
		bad(ctx, line, "mac is empty");
		return 0;
	}
	if (db_client_check(ctx->db, c)) {
		bad(ctx, line, "%s", db_errmsg(ctx->db));
		return 0;
	}
	if (c->group[0] && !strset_has(&ctx->groups, c->group))
		bad(ctx, line, "unknown group '%s'", c->group);
	if (c->image[0] && !strset_has(&ctx->images, c->image))
		bad(ctx, line, "unknown image '%s'", c->image);
	if (c->server[0] && !strset_has(&ctx->servers, c->server))
		bad(ctx, line, "unknown server '%s'", c->server);
	fold(key, c->name, sizeof(key));
	claim(ctx, &ctx->names, key, line, "name", c->name, oom);
	claim(ctx, &ctx->macs, c->mac, line, "mac", c->mac, oom);
	if (c->ip[0])
		claim(ctx, &ctx->ips, c->ip, line, "ip", c->ip, oom);
	return ctx->nbad == before;
}

int import_check(struct db *db, const char *buf, size_t len, FILE *errs,
		 struct db_client **rows, size_t *nrows, unsigned *nbad)
{
	struct import_ctx ctx = { .db = db, .errs = errs };
	struct csv_reader r;
	struct db_client *v = NULL, *nv;
	size_t n = 0, cap = 0;
	char *f[CSV_MAX_FIELDS], err[128];
	int nf, rc, header = 0, oom = 0;

	strset_init(&ctx.names);
	strset_init(&ctx.macs);
	strset_init(&ctx.ips);
	strset_init(&ctx.groups);
	strset_init(&ctx.images);
	strset_init(&ctx.servers);
	rc = load_existing(&ctx);
	if (rc)
		goto out;
	csv_init(&r, buf, len);
	while ((nf = csv_next(&r, f, err, sizeof(err))) != 0 && !oom) {
		if (nf < 0) {
			fprintf(errs, "%s\n", err);
			ctx.nbad++;
			continue;
		}
		if (!header) {
			header = 1;
			if (!read_header(&ctx, f, nf, r.line))
				break;	/* without a header no row can be read */
			continue;
		}
		if (n == cap) {
			cap = cap ? cap * 2 : 256;
			nv = realloc(v, cap * sizeof(*v));
			if (!nv) {
				oom = 1;
				break;
			}
			v = nv;
		}
		if (read_row(&ctx, f, nf, r.line, &v[n], &oom))
			n++;
	}
	if (!header && !ctx.nbad) {
		fprintf(errs, "line 1: the file is empty (expected the header %s)\n",
			"name,mac,ip,group,image,server,hot_standby,overlay");
		ctx.nbad++;
	}
	rc = oom ? -ENOMEM : 0;
out:
	strset_free(&ctx.names);
	strset_free(&ctx.macs);
	strset_free(&ctx.ips);
	strset_free(&ctx.groups);
	strset_free(&ctx.images);
	strset_free(&ctx.servers);
	if (rc) {
		free(v);
		return rc;
	}
	*rows = v;
	*nrows = n;
	*nbad = ctx.nbad;
	return 0;
}
