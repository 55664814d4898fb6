/* Standalone targets; see lun_table.h. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "vdisk-server/iscsi/iscsi_proto.h"
#include "vdisk-server/lun_table.h"

int iscsi_name_valid(const char *name)
{
	size_t n = strlen(name);

	if (n < 5 || n > 223)
		return 0;
	if (strncmp(name, "iqn.", 4) && strncmp(name, "eui.", 4) && strncmp(name, "naa.", 4))
		return 0;
	for (const char *p = name; *p; p++)
		if (*p <= ' ' || *p == ',' || *p == '/' || (unsigned char)*p >= 0x7f)
			return 0;
	return 1;
}

int lun_spec_parse(const char *arg, struct lun_spec *out, const char **why)
{
	const char *eq = strchr(arg, '='), *p;
	size_t n;

	memset(out, 0, sizeof(*out));
	if (!eq || eq == arg) {
		*why = "expected IQN=FILE";
		return -EINVAL;
	}
	n = (size_t)(eq - arg);
	if (n >= sizeof(out->iqn)) {
		*why = "target name longer than 223 bytes";
		return -EINVAL;
	}
	memcpy(out->iqn, arg, n);
	if (!iscsi_name_valid(out->iqn)) {
		*why = "not an iSCSI name (iqn.YYYY-MM.domain:name)";
		return -EINVAL;
	}
	p = eq + 1;
	n = strcspn(p, ",");
	if (n == 0 || n >= sizeof(out->path)) {
		*why = "missing or overlong file name";
		return -EINVAL;
	}
	memcpy(out->path, p, n);
	p += n;
	while (*p == ',') {
		p++;
		n = strcspn(p, ",");
		if (n == 2 && strncmp(p, "ro", 2) == 0) {
			out->read_only = 1;
		} else if (n > 8 && strncmp(p, "overlay=", 8) == 0 &&
			   n - 8 < sizeof(out->overlay)) {
			memcpy(out->overlay, p + 8, n - 8);
		} else {
			*why = "unknown option (known: ro, overlay=PATH)";
			return -EINVAL;
		}
		p += n;
	}
	if (out->read_only && out->overlay[0]) {
		*why = "an overlay is writable: ro and overlay= exclude each other";
		return -EINVAL;
	}
	return 0;
}

static struct iscsi_target *target_get(struct lun_table *tb, const char *iqn)
{
	struct iscsi_target **grown, *t;

	for (unsigned i = 0; i < tb->ntargets; i++)
		if (strcmp(tb->targets[i]->name, iqn) == 0)
			return tb->targets[i];
	grown = realloc(tb->targets, (tb->ntargets + 1) * sizeof(*grown));
	if (!grown)
		return NULL;
	tb->targets = grown;
	t = calloc(1, sizeof(*t));
	if (!t)
		return NULL;
	snprintf(t->name, sizeof(t->name), "%s", iqn);
	tb->targets[tb->ntargets++] = t;
	return t;
}

int lun_table_open(struct lun_table *tb, struct store_pool *pool, const struct lun_spec *specs,
		   unsigned n, char *errbuf, size_t errlen)
{
	int rc;

	memset(tb, 0, sizeof(*tb));
	tb->stores = calloc(n ? n : 1, sizeof(*tb->stores));
	tb->lus = calloc(n ? n : 1, sizeof(*tb->lus));
	if (!tb->stores || !tb->lus) {
		rc = -ENOMEM;
		goto out_close;
	}
	for (unsigned i = 0; i < n; i++) {
		const struct lun_spec *s = &specs[i];
		struct iscsi_target *t = target_get(tb, s->iqn);
		struct store *st;
		struct scsi_lu *lu;
		char ident[ISCSI_NAME_MAX + 16];
		unsigned lun;

		if (!t) {
			rc = -ENOMEM;
			goto out_close;
		}
		lun = t->scsi.nlu;
		if (lun >= SCSI_MAX_LUNS) {
			snprintf(errbuf, errlen, "%s: more than %d LUNs", s->iqn, SCSI_MAX_LUNS);
			rc = -E2BIG;
			goto out_close;
		}
		if (s->overlay[0])
			rc = store_overlay_open(pool, s->path, s->overlay, &st);
		else
			rc = store_raw_open(pool, s->path, s->read_only, &st);
		if (rc < 0) {
			snprintf(errbuf, errlen, "%s: %s", s->overlay[0] ? s->overlay : s->path,
				 strerror(-rc));
			goto out_close;
		}
		tb->stores[tb->nlus] = st;
		if (st->size < STORE_BLOCK_SIZE) {
			snprintf(errbuf, errlen, "%s: smaller than one block", s->path);
			rc = -EINVAL;
			tb->nlus++;
			goto out_close;
		}
		lu = calloc(1, sizeof(*lu));
		if (!lu) {
			rc = -ENOMEM;
			tb->nlus++;
			goto out_close;
		}
		snprintf(ident, sizeof(ident), "%s/%u", s->iqn, lun);
		rc = scsi_lu_init(lu, st, ident);
		tb->lus[tb->nlus++] = lu;
		if (rc < 0)
			goto out_close;
		t->scsi.lu[lun] = lu;
		t->scsi.nlu = lun + 1;
	}
	return 0;
out_close:
	lun_table_close(tb);
	return rc;
}

void lun_table_close(struct lun_table *tb)
{
	for (unsigned i = 0; i < tb->nlus; i++) {
		if (tb->lus && tb->lus[i]) {
			scsi_lu_fini(tb->lus[i]);
			free(tb->lus[i]);
		}
		if (tb->stores[i])
			store_close(tb->stores[i]);
	}
	for (unsigned i = 0; i < tb->ntargets; i++)
		free(tb->targets[i]);
	free(tb->targets);
	free(tb->stores);
	free(tb->lus);
	memset(tb, 0, sizeof(*tb));
}

static int static_attach(void *arg, const char *initiator, const char *name, uint32_t addr,
			 struct iscsi_target **out)
{
	struct lun_table *tb = arg;
	int allowed = tb->nallowed == 0;

	(void)addr;	/* --allow names initiators; addresses are the DB mode's */
	if (tb->secondary)
		return -ISCSI_LOGIN_UNAVAILABLE;
	for (unsigned i = 0; i < tb->nallowed; i++)
		if (strcmp(tb->allowed[i], initiator) == 0)
			allowed = 1;
	for (unsigned i = 0; i < tb->ntargets; i++) {
		if (strcmp(tb->targets[i]->name, name) == 0) {
			if (!allowed)
				return -ISCSI_LOGIN_FORBIDDEN;
			*out = tb->targets[i];
			return 0;
		}
	}
	return -ISCSI_LOGIN_NOT_FOUND;
}

static void static_discover(void *arg, const char *initiator, const char *name,
			    void (*emit)(void *ctx, const char *target), void *ctx)
{
	struct lun_table *tb = arg;

	(void)initiator;
	for (unsigned i = 0; i < tb->ntargets; i++)
		if (!name || strcmp(name, tb->targets[i]->name) == 0)
			emit(ctx, tb->targets[i]->name);
}

void lun_table_provider(struct lun_table *tb, struct iscsi_provider *out)
{
	memset(out, 0, sizeof(*out));
	out->attach = static_attach;
	out->discover = static_discover;
	out->arg = tb;
}

void lun_table_set_chap(struct lun_table *tb, const struct chap_cred *chap,
			const struct chap_cred *mutual)
{
	for (unsigned i = 0; i < tb->ntargets; i++) {
		if (chap)
			tb->targets[i]->chap = *chap;
		if (mutual)
			tb->targets[i]->mutual = *mutual;
	}
}
