/* Targets from the database; see db_targets.h. Lookups run on the loop thread: they are
 * single-row SELECTs on a local SQLite file, done once per login. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "common/log.h"
#include "vdisk-server/db_targets.h"
#include "vdisk-server/iscsi_proto.h"

struct client_disk {
	struct client_disk *next;
	struct iscsi_target tgt;	/* first: the provider gets it back in detach */
	struct db_targets *dt;
	char name[DB_NAME_MAX];
	char image[DB_NAME_MAX];
	struct store *st;
	struct scsi_lu lu;
	unsigned sessions;
	int reset_pending;
};

static struct log_ratelimit rl_refuse = LOG_RATELIMIT_INIT(10);

int db_targets_init(struct db_targets *dt, struct db *db, struct store_pool *pool,
		    const char *target_name, const char *overlay_dir)
{
	memset(dt, 0, sizeof(*dt));
	if (strlen(target_name) >= sizeof(dt->target_name) ||
	    strlen(overlay_dir) >= sizeof(dt->overlay_dir) - DB_NAME_MAX - 2)
		return -ENAMETOOLONG;
	dt->db = db;
	dt->pool = pool;
	strcpy(dt->target_name, target_name);
	strcpy(dt->overlay_dir, overlay_dir);
	return 0;
}

static void disk_close(struct db_targets *dt, struct client_disk *d)
{
	for (struct client_disk **pp = &dt->disks; *pp; pp = &(*pp)->next) {
		if (*pp == d) {
			*pp = d->next;
			break;
		}
	}
	dt->ndisks--;
	scsi_lu_fini(&d->lu);
	store_close(d->st);
	free(d);
}

void db_targets_fini(struct db_targets *dt)
{
	while (dt->disks)
		disk_close(dt, dt->disks);
}

static struct client_disk *disk_find(struct db_targets *dt, const char *name)
{
	for (struct client_disk *d = dt->disks; d; d = d->next)
		if (strcmp(d->name, name) == 0)
			return d;
	return NULL;
}

/* Opens the store behind a client's disk. THE write-path seam: today the overlay over the
 * base image; the synchronous mirror to the peer (ARCHITECTURE.md) is a store stacked on this
 * one for hot-standby clients, so SCSI and iSCSI above never change. */
static int client_store_open(struct db_targets *dt, const struct db_client *c,
			     const struct db_image *img, struct store **out)
{
	char overlay[DB_PATH_MAX + DB_NAME_MAX + 2];

	if (mkdir(dt->overlay_dir, 0750) < 0 && errno != EEXIST)
		return -errno;
	snprintf(overlay, sizeof(overlay), "%s/%s", dt->overlay_dir, c->name);
	return store_overlay_open(dt->pool, img->path, overlay, out);
}

static int disk_open(struct db_targets *dt, const struct db_client *c, struct client_disk **out)
{
	struct db_image img;
	struct client_disk *d;
	char ident[2 * DB_NAME_MAX + 2];
	int rc;

	rc = db_image_by_name(dt->db, c->image, &img);
	if (rc < 0)
		return rc;
	d = calloc(1, sizeof(*d));
	if (!d)
		return -ENOMEM;
	rc = client_store_open(dt, c, &img, &d->st);
	if (rc < 0) {
		log_err("client %s: cannot open its disk (image %s at %s): %s", c->name, img.name,
			img.path, strerror(-rc));
		goto out_free;
	}
	/* the identity both servers give this disk: client and image, never the host */
	snprintf(ident, sizeof(ident), "%s/%s", c->name, c->image);
	rc = scsi_lu_init(&d->lu, d->st, ident);
	if (rc < 0)
		goto out_close_store;
	d->dt = dt;
	snprintf(d->name, sizeof(d->name), "%s", c->name);
	snprintf(d->image, sizeof(d->image), "%s", c->image);
	snprintf(d->tgt.name, sizeof(d->tgt.name), "%s", dt->target_name);
	d->tgt.scsi.lu[0] = &d->lu;
	d->tgt.scsi.nlu = 1;
	d->tgt.priv = d;
	d->next = dt->disks;
	dt->disks = d;
	dt->ndisks++;
	*out = d;
	return 0;
out_close_store:
	store_close(d->st);
out_free:
	free(d);
	return rc;
}

/* Discards the overlay of a disk no session uses. */
static int disk_reset(struct client_disk *d)
{
	int rc = d->st->ops->reset(d->st);

	if (rc < 0) {
		log_err("client %s: overlay reset failed: %s", d->name, strerror(-rc));
		return rc;
	}
	d->reset_pending = 0;
	log_notice("client %s: overlay discarded (restore mode, new boot)", d->name);
	return 0;
}

static int refuse(struct db_targets *dt, const char *initiator, int status, const char *why)
{
	dt->refused++;
	log_limited(&rl_refuse, LOG_NOTICE, "login refused for %s: %s", initiator, why);
	return -status;
}

static int dbt_attach(void *arg, const char *initiator, const char *target_name,
		      struct iscsi_target **out)
{
	struct db_targets *dt = arg;
	struct db_client c;
	struct client_disk *d;
	int rc;

	if (strcmp(target_name, dt->target_name) != 0)
		return refuse(dt, initiator, ISCSI_LOGIN_NOT_FOUND, "no such target");
	if (dt->secondary)
		return refuse(dt, initiator, ISCSI_LOGIN_UNAVAILABLE, "this server is secondary");
	rc = db_client_by_iqn(dt->db, initiator, &c);
	if (rc == -ENOENT)
		return refuse(dt, initiator, ISCSI_LOGIN_FORBIDDEN, "unknown initiator");
	if (rc < 0)
		return refuse(dt, initiator, ISCSI_LOGIN_TARGET_ERROR, db_errmsg(dt->db));
	if (!c.enabled)
		return refuse(dt, initiator, ISCSI_LOGIN_FORBIDDEN, "client disabled");
	if (!c.image[0])
		return refuse(dt, initiator, ISCSI_LOGIN_NOT_FOUND, "client has no image");
	d = disk_find(dt, c.name);
	if (d && strcmp(d->image, c.image) != 0 && d->sessions == 0) {
		disk_close(dt, d);	/* the admin gave the client another image */
		d = NULL;
	}
	if (d && d->reset_pending) {
		/* its old session is still closing: the new one must not see the old overlay */
		if (d->sessions)
			return refuse(dt, initiator, ISCSI_LOGIN_UNAVAILABLE,
				      "previous session still closing before an overlay reset");
		if (disk_reset(d) < 0)
			return refuse(dt, initiator, ISCSI_LOGIN_TARGET_ERROR, "overlay reset failed");
	}
	if (!d) {
		rc = disk_open(dt, &c, &d);
		if (rc < 0)
			return refuse(dt, initiator, ISCSI_LOGIN_TARGET_ERROR, "disk unavailable");
	}
	d->sessions++;
	*out = &d->tgt;
	return 0;
}

static void dbt_detach(void *arg, struct iscsi_target *tgt)
{
	struct db_targets *dt = arg;
	struct client_disk *d = tgt->priv;

	if (--d->sessions)
		return;
	if (d->reset_pending)
		disk_reset(d);
	/* keep no descriptors for clients that are not logged in */
	disk_close(dt, d);
}

static void dbt_discover(void *arg, const char *initiator, const char *name,
			 void (*emit)(void *ctx, const char *target), void *ctx)
{
	struct db_targets *dt = arg;
	struct db_client c;

	/* only a known, enabled client learns the target name */
	if (db_client_by_iqn(dt->db, initiator, &c) < 0 || !c.enabled)
		return;
	if (!name || strcmp(name, dt->target_name) == 0)
		emit(ctx, dt->target_name);
}

void db_targets_provider(struct db_targets *dt, struct iscsi_provider *out)
{
	memset(out, 0, sizeof(*out));
	out->attach = dbt_attach;
	out->detach = dbt_detach;
	out->discover = dbt_discover;
	out->arg = dt;
}

int db_targets_reset(struct db_targets *dt, const char *client, int *deferred)
{
	struct db_client c;
	struct client_disk *d;
	int rc;

	*deferred = 0;
	rc = db_client_by_name(dt->db, client, &c);
	if (rc < 0)
		return rc;
	d = disk_find(dt, c.name);
	if (d && d->sessions) {
		d->reset_pending = 1;
		*deferred = 1;
		if (dt->srv)
			iscsi_server_drop_target(dt->srv, &d->tgt);
		return 0;
	}
	if (d)
		return disk_reset(d);
	if (!c.image[0])
		return 0;	/* no disk, nothing to discard */
	rc = disk_open(dt, &c, &d);
	if (rc < 0)
		return rc;
	rc = disk_reset(d);
	disk_close(dt, d);
	return rc;
}

void db_targets_role(struct db_targets *dt, int secondary)
{
	if (dt->secondary == secondary)
		return;
	dt->secondary = secondary;
	log_notice("role: %s", secondary ? "secondary (logins refused)" : "primary");
	if (secondary && dt->srv)
		for (struct client_disk *d = dt->disks; d; d = d->next)
			iscsi_server_drop_target(dt->srv, &d->tgt);
}

void db_targets_status(struct db_targets *dt, FILE *out)
{
	fprintf(out, "role %s\nclients %u\nrefused %llu\n", dt->secondary ? "secondary" : "primary",
		dt->ndisks, (unsigned long long)dt->refused);
	for (struct client_disk *d = dt->disks; d; d = d->next)
		fprintf(out, "client %s image %s sessions %u reads %llu writes %llu bytes_read %llu "
			"bytes_written %llu%s\n", d->name, d->image, d->sessions,
			(unsigned long long)d->lu.reads, (unsigned long long)d->lu.writes,
			(unsigned long long)d->lu.bytes_read,
			(unsigned long long)d->lu.bytes_written,
			d->reset_pending ? " reset-pending" : "");
}
