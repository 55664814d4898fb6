/* Targets from the database; see db_targets.h. Lookups run on the loop thread: they are
 * single-row SELECTs on a local SQLite file, done once per login. */
#include <arpa/inet.h>
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "common/image_sync_proto.h"
#include "common/log.h"
#include "vdisk-server/db_targets.h"
#include "vdisk-server/image_sync_target.h"
#include "vdisk-server/iscsi/iscsi_proto.h"
#include "vdisk-server/scsi/replica_lu.h"

#define SWEEP_MS 1000
#define RESET_PROBE_MS 1500	/* a running PC answers a NOP-In well within this */
/* A restore-mode PC whose session ended (shut down, or a USB stick booted in its place) and
 * that has not logged in again for this long: its overlay goes, so the last customer's data
 * is not there for the next. Longer than a takeover's or a switch's reboot's reconnect. */
#define RESTORE_GRACE_S 60

struct ended_session {
	struct ended_session *next;
	char name[DB_NAME_MAX];
	uint64_t at_ms;
};

struct client_disk {
	struct client_disk *next;
	struct iscsi_target tgt;	/* first: the provider gets it back in detach */
	struct iscsi_target rtgt;	/* the same disk for the peer's mirror (replica) */
	struct db_targets *dt;
	char name[DB_NAME_MAX];
	char image[DB_NAME_MAX];
	struct store *st;		/* what SCSI sees: the mirror, or the overlay */
	struct store *overlay;
	struct mirror_meta *meta;	/* hot-standby clients of a pair; the mirror's once
					 * one is stacked */
	int source;			/* a mirror is stacked: we are the active copy */
	struct scsi_lu lu;
	struct scsi_lu rlu;		/* rtgt's: answers the replication commands */
	struct replica rep;
	unsigned sessions, rsessions;
	int restore;			/* overlay mode restore: discarded after its session */
	uint32_t session_addr;		/* where its client session comes from, network order */
	int reset_pending;
	struct ev_timer probe;		/* a reset asked while a session is open: is it alive? */
	int probing;
	char mac[DB_MAC_MAX];		/* the client's, for the event of a refused reset */
};

static struct log_ratelimit rl_refuse = LOG_RATELIMIT_INIT(10);

int db_targets_init(struct db_targets *dt, struct db *db, struct store_pool *pool,
		    const char *target_name, const char *overlay_dir)
{
	char auth[16];

	memset(dt, 0, sizeof(*dt));
	if (strlen(target_name) >= sizeof(dt->target_name) ||
	    strlen(overlay_dir) >= sizeof(dt->overlay_dir) - DB_NAME_MAX - 2)
		return -ENAMETOOLONG;
	dt->db = db;
	dt->pool = pool;
	dt->mirror.pool = pool;
	strcpy(dt->target_name, target_name);
	strcpy(dt->overlay_dir, overlay_dir);
	dt->client_chap = db_setting_get(db, "client_auth", auth, sizeof(auth)) < 0 ||
			  strcmp(auth, "none") != 0;
	dt->restore_grace_ms = RESTORE_GRACE_S * 1000ull;
	if (db_setting_get(db, "restore_discard_s", auth, sizeof(auth)) == 0)
		dt->restore_grace_ms = strtoull(auth, NULL, 10) * 1000;
	if (!dt->client_chap)
		log_warn("client_auth is none: client logins need no CHAP secret, so any PC can "
			 "use any PC's disk (for test fixtures only)");
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
	if (d->probing)
		ev_timer_cancel(dt->loop, &d->probe);
	scsi_lu_fini(&d->lu);
	if (d->rtgt.scsi.nlu)
		scsi_lu_fini(&d->rlu);
	store_close(d->st);
	if (!d->source && d->meta) {
		mirror_meta_close(d->meta);
		free(d->meta);
	}
	free(d);
}

void db_targets_fini(struct db_targets *dt)
{
	if (dt->loop)
		ev_timer_cancel(dt->loop, &dt->sweep);
	while (dt->disks)
		disk_close(dt, dt->disks);
	while (dt->ended) {
		struct ended_session *e = dt->ended;

		dt->ended = e->next;
		free(e);
	}
	if (dt->loop && dt->mirror_on) {
		fence_fini(&dt->fence);
		linkwatch_close(&dt->link);
	}
}

static struct client_disk *disk_find(struct db_targets *dt, const char *name)
{
	for (struct client_disk *d = dt->disks; d; d = d->next)
		if (strcmp(d->name, name) == 0)
			return d;
	return NULL;
}

/* An overlay records the image it was made over: one made over another image (the client
 * moved to an image of the same size) is writes over another disk, and is reset, loudly.
 * Both servers do this on their own open, so a hot-standby client's copies agree. */
static int overlay_over(struct db_targets *dt, const struct db_client *c,
			const struct db_image *img, struct store *st)
{
	char was[DB_NAME_MAX];
	int rc = store_overlay_base(st, img->name, 0, was, sizeof(was));

	if (rc != -ESTALE)
		return rc;
	rc = st->ops->reset(st);
	if (!rc)
		rc = store_overlay_base(st, img->name, 1, NULL, 0);
	if (rc) {
		log_err("client %s: its overlay was made over image %s, not %s, and cannot be "
			"reset: %s", c->name, was, img->name, strerror(-rc));
		return rc;
	}
	log_notice("client %s: overlay discarded: made over image %s, the client has %s now",
		   c->name, was, img->name);
	db_event_add(dt->db, "warning", "vdiskd", "%s's overlay was made over image %s; the "
		     "client has image %s now: the overlay was discarded", c->name, was, img->name);
	return 0;
}

/* Opens the store behind a client's disk. THE write-path seam: today the overlay over the
 * base image; the synchronous mirror to the peer (ARCHITECTURE.md) is a store stacked on this
 * one for hot-standby clients, so SCSI and iSCSI above never change. */
static int client_store_open(struct db_targets *dt, const struct db_client *c,
			     const struct db_image *img, struct store **out)
{
	char overlay[DB_PATH_MAX + DB_NAME_MAX + 2];
	int rc;

	if (mkdir(dt->overlay_dir, 0750) < 0 && errno != EEXIST)
		return -errno;
	snprintf(overlay, sizeof(overlay), "%s/%s", dt->overlay_dir, c->name);
	rc = store_overlay_open(dt->pool, img->path, overlay, out);
	if (rc)
		return rc;
	rc = overlay_over(dt, c, img, *out);
	if (rc)
		store_close(*out);
	return rc;
}

static const char *pair_state(struct db_targets *dt);

/* A mirror changed state: what the admin must see goes to the events table, once per change
 * of the pair's state (300 clients losing the peer at once make one event, not 300). */
static void mirror_changed(void *arg)
{
	struct client_disk *d = arg;
	struct db_targets *dt = d->dt;
	struct mirror_status ms;
	const char *now;

	if (!d->source)
		return;		/* still opening */
	store_mirror_status(d->st, &ms);
	if (ms.state == MIRROR_SPLIT_BRAIN)
		db_event_add(dt->db, "error", "vdiskd", "SPLIT BRAIN on %s's disk: both servers took "
			     "writes apart; nothing is resynced until: vdiskctl mirror resolve %s "
			     "--keep NODE", d->name, d->name);
	else if (ms.state == MIRROR_BASE_DIFFERS)
		db_event_add(dt->db, "error", "vdiskd", "%s is not mirrored: the peer's base image "
			     "%s differs (vdiskctl image sync %s)", d->name, d->image, d->image);
	now = pair_state(dt);
	if (strcmp(now, "in-sync") == 0)
		fence_reset(&dt->fence);
	if (strcmp(now, dt->pair_state) == 0)
		return;
	if (strcmp(now, "degraded") == 0)
		db_event_add(dt->db, "warning", "vdiskd", "mirror degraded: peer %s unreachable; "
			     "hot-standby writes are recorded for resync", dt->mirror.peer);
	else if (strcmp(now, "in-sync") == 0 && strcmp(dt->pair_state, "syncing") == 0)
		db_event_add(dt->db, "info", "vdiskd", "mirror in sync with %s", dt->mirror.peer);
	snprintf(dt->pair_state, sizeof(dt->pair_state), "%s", now);
}

/* A hot-standby client of a pair: its mirror state file, and, on the active server, the
 * mirror stacked on its overlay. */
static int client_mirror_open(struct db_targets *dt, const struct db_client *c,
			      const struct db_image *img, struct client_disk *d)
{
	char path[DB_PATH_MAX + DB_NAME_MAX + 16];
	int rc;

	d->meta = calloc(1, sizeof(*d->meta));
	if (!d->meta)
		return -ENOMEM;
	snprintf(path, sizeof(path), "%s/%s.mirror", dt->overlay_dir, c->name);
	/* A copy this secondary knows nothing about (new, or its state file lost) is no copy
	 * of the client's disk until the first handshake fills it: a takeover before that must
	 * refuse the client rather than serve the base image (or a stale overlay) as its disk.
	 * One a primary starts is the client's disk, but it never was the peer's: a copy the
	 * peer holds is then not discarded unasked (mirror_resync.c, state_cb). */
	rc = mirror_meta_open(path, d->overlay->size,
			      dt->secondary ? MIRROR_INCONSISTENT : MIRROR_NEVER_SYNCED, d->meta);
	if (rc < 0)
		goto out_free;
	rc = mirror_fingerprint(img->path, d->rep.fingerprint);
	if (rc < 0) {
		log_err("client %s: cannot read base image %s: %s", c->name, img->path,
			strerror(-rc));
		goto out_close;
	}
	if (dt->secondary || !dt->mirror_on)
		return 0;
	if ((d->meta->flags & MIRROR_INCONSISTENT) && dt->discarding) {
		/* a restore-mode boot discards the overlay anyway: the reset gives this copy a
		 * new generation, and the peer's copy is discarded when it returns */
		log_notice("client %s: its incomplete copy here is discarded for a new boot",
			   c->name);
	} else if (d->meta->flags & MIRROR_INCONSISTENT) {
		/* its copy here is the target of a resync that never finished */
		log_err("client %s: REFUSED: this server's copy of its disk is incomplete (a "
			"resync from the peer was cut short, or the peer's base image differs)",
			c->name);
		db_event_add(dt->db, "error", "vdiskd", "client %s refused: incomplete replica "
			     "(a resync cut short, or another base image)", c->name);
		rc = -EIO;
		goto out_close;
	}
	rc = store_mirror_open(dt->loop, d->overlay, d->meta, &dt->mirror, c->iqn, c->name,
			       d->rep.fingerprint, mirror_changed, d, &d->st);
	if (rc < 0)
		goto out_close;
	d->source = 1;
	return 0;
out_close:
	mirror_meta_close(d->meta);
out_free:
	free(d->meta);
	d->meta = NULL;
	return rc;
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
	d->dt = dt;
	snprintf(d->name, sizeof(d->name), "%s", c->name);
	d->restore = c->overlay == DB_OVERLAY_RESTORE;
	snprintf(d->image, sizeof(d->image), "%s", c->image);
	rc = client_store_open(dt, c, &img, &d->overlay);
	if (rc < 0) {
		log_err("client %s: cannot open its disk (image %s at %s): %s", c->name, img.name,
			img.path, strerror(-rc));
		goto out_free;
	}
	d->st = d->overlay;
	if (c->hot_standby && (dt->mirror_on || dt->replica_on)) {
		rc = client_mirror_open(dt, c, &img, d);
		if (rc < 0)
			goto out_close_store;
	}
	/* the identity both servers give this disk: client and image, never the host */
	snprintf(ident, sizeof(ident), "%s/%s", c->name, c->image);
	rc = scsi_lu_init(&d->lu, d->st, ident);
	if (rc < 0)
		goto out_close_store;
	if (d->meta && !d->source && dt->replica_on) {
		rc = scsi_lu_init(&d->rlu, d->st, ident);
		if (rc < 0) {
			scsi_lu_fini(&d->lu);
			goto out_close_store;
		}
		d->rep.meta = d->meta;
		d->rep.st = d->overlay;
		d->rep.name = d->name;
		replica_lu_attach(&d->rlu, &d->rep);
		snprintf(d->rtgt.name, sizeof(d->rtgt.name), "%s", dt->target_name);
		d->rtgt.scsi.lu[0] = &d->rlu;
		d->rtgt.scsi.nlu = 1;
		d->rtgt.chap = dt->pair;
		d->rtgt.priv = d;
	}
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
	if (d->meta && !d->source) {
		mirror_meta_close(d->meta);
		free(d->meta);
	}
out_free:
	free(d);
	return rc;
}

/* Discards the overlay of a disk no session uses. */
static int disk_reset(struct client_disk *d)
{
	int rc = d->st->ops->reset(d->st);

	if (rc == -EBUSY) {
		d->reset_pending = 1;	/* done before the client's next login */
		return rc;
	}
	if (rc < 0) {
		log_err("client %s: overlay reset failed: %s", d->name, strerror(-rc));
		return rc;
	}
	d->reset_pending = 0;
	log_notice("client %s: overlay discarded (restore mode, new boot)", d->name);
	return 0;
}

/* A mirror with nothing left to send: its disk may close. */
static int mirror_idle(struct client_disk *d)
{
	struct mirror_status ms;

	store_mirror_status(d->st, &ms);
	/* a split brain or another base stays open: status keeps saying so; and a mirror
	 * closes only once the peer flushed every write (its activity log is empty) */
	return ms.state == MIRROR_IN_SYNC && !ms.unflushed;
}

static int refuse(struct db_targets *dt, const char *initiator, int status, const char *why)
{
	dt->refused++;
	log_limited(&rl_refuse, LOG_NOTICE, "login refused for %s: %s", initiator, why);
	return -status;
}

/* A login a PC should never make (authenticated, but from another address than its own or
 * than its running session's): refused, and the admin told through the events table, once
 * every 10 s for the same initiator and reason. */
static int refuse_loudly(struct db_targets *dt, const char *initiator, uint32_t addr,
			 const char *why)
{
	char ip[INET_ADDRSTRLEN];
	uint64_t now = ev_now_ms();

	inet_ntop(AF_INET, &addr, ip, sizeof(ip));
	if (now - dt->last_alarm_ms >= 10000 || !dt->last_alarm_why ||
	    strcmp(dt->last_alarm_why, why) != 0 ||
	    strcmp(dt->last_alarm_ini, initiator) != 0) {
		dt->last_alarm_ms = now;
		dt->last_alarm_why = why;
		snprintf(dt->last_alarm_ini, sizeof(dt->last_alarm_ini), "%s", initiator);
		db_event_add(dt->db, "warning", "vdiskd", "login of %s from %s refused: %s",
			     initiator, ip, why);
	}
	return refuse(dt, initiator, ISCSI_LOGIN_FORBIDDEN, why);
}

/* In a pair, a client without hot-standby has its disk on one server only: its assigned
 * one, or else the primary. NULL when this server may serve it, else why not. */
static const char *not_here(struct db_targets *dt, const struct db_client *c)
{
	struct db_server me;

	if (c->hot_standby || !dt->node[0] || !(dt->mirror_on || dt->replica_on))
		return NULL;
	if (c->server[0])
		return strcmp(c->server, dt->node) == 0 ? NULL :
			"not hot-standby: its disk lives on its assigned server";
	if (db_server_by_name(dt->db, dt->node, &me) == 0 && strcmp(me.role, "secondary") == 0)
		return "not hot-standby: its writes were never mirrored to this secondary server";
	return NULL;
}

static int same_addr(const char *ip, uint32_t addr)
{
	struct in_addr a;

	return inet_pton(AF_INET, ip, &a) == 1 && a.s_addr == addr;
}

/* A PC proves who it is with its own CHAP secret (DB: chap_secret, with CHAP_N its IQN), and
 * answers the target's challenge with chap_target_secret when it asks (mutual CHAP); nothing
 * is opened for it before. The DB setting client_auth=none turns that off (test fixtures). */
static int dbt_credentials(void *arg, const char *initiator, const char *target_name,
			   uint32_t addr, struct chap_cred *chap, struct chap_cred *mutual)
{
	struct db_targets *dt = arg;
	struct db_client c;
	int rc;

	(void)addr;
	memset(chap, 0, sizeof(*chap));
	memset(mutual, 0, sizeof(*mutual));
	if (!dt->client_chap || strcmp(target_name, dt->target_name) != 0)
		return 0;	/* attach refuses another target, with nothing opened */
	/* Refused here, not left to attach: a client added between the two lookups would
	 * otherwise be attached without CHAP. */
	rc = db_client_by_iqn(dt->db, initiator, &c);
	if (rc == -ENOENT)
		return refuse(dt, initiator, ISCSI_LOGIN_FORBIDDEN, "unknown initiator");
	if (rc < 0)
		return refuse(dt, initiator, ISCSI_LOGIN_TARGET_ERROR, db_errmsg(dt->db));
	if (!c.chap_secret[0] || !c.chap_target_secret[0])
		return refuse(dt, initiator, ISCSI_LOGIN_FORBIDDEN, "no CHAP secret in the "
			      "database (vdiskctl client set --new-secrets)");
	snprintf(chap->user, sizeof(chap->user), "%s", c.iqn);
	snprintf(chap->secret, sizeof(chap->secret), "%s", c.chap_secret);
	snprintf(mutual->user, sizeof(mutual->user), "%s", dt->target_name);
	snprintf(mutual->secret, sizeof(mutual->secret), "%s", c.chap_target_secret);
	return 0;
}

static void forget_ended(struct db_targets *dt, const char *name)
{
	for (struct ended_session **pp = &dt->ended; *pp; pp = &(*pp)->next) {
		if (strcmp((*pp)->name, name) == 0) {
			struct ended_session *e = *pp;

			*pp = e->next;
			free(e);
			return;
		}
	}
}

static void note_ended(struct db_targets *dt, const char *name)
{
	struct ended_session *e;

	if (!dt->restore_grace_ms)
		return;
	forget_ended(dt, name);
	e = calloc(1, sizeof(*e));
	if (!e)
		return;	/* its next PXE boot resets it */
	snprintf(e->name, sizeof(e->name), "%s", name);
	e->at_ms = ev_now_ms();
	e->next = dt->ended;
	dt->ended = e;
}

/* The restore-mode PCs whose session ended longer than the grace ago lose their overlay. */
static void discard_ended(struct db_targets *dt)
{
	struct ended_session **pp = &dt->ended;
	uint64_t now = ev_now_ms();

	while (*pp) {
		struct ended_session *e = *pp;
		struct db_client c;
		int deferred;

		if (now - e->at_ms < dt->restore_grace_ms) {
			pp = &e->next;
			continue;
		}
		*pp = e->next;
		/* the admin may have made it persistent since: then it keeps its overlay */
		if (db_client_by_name(dt->db, e->name, &c) == 0 && c.overlay == DB_OVERLAY_RESTORE &&
		    db_targets_reset(dt, e->name, &deferred) == 0 && !deferred)
			log_notice("client %s: overlay discarded: its session ended %llu s ago and "
				   "it did not log in again (restore mode)", e->name,
				   (unsigned long long)((now - e->at_ms) / 1000));
		free(e);
	}
}

static int dbt_attach(void *arg, const char *initiator, const char *target_name,
		      uint32_t addr, struct iscsi_target **out)
{
	struct db_targets *dt = arg;
	struct db_client c;
	struct client_disk *d;
	const char *why;
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
	why = not_here(dt, &c);
	if (why)
		return refuse(dt, initiator, ISCSI_LOGIN_UNAVAILABLE, why);
	if (image_sync_busy(c.image))	/* its last writes may still be landing */
		return refuse(dt, initiator, ISCSI_LOGIN_UNAVAILABLE,
			      "its base image is being synced from the peer");
	if (c.ip[0] && !same_addr(c.ip, addr))
		return refuse_loudly(dt, initiator, addr, "not from the client's address");
	d = disk_find(dt, c.name);
	if (d && d->sessions && d->session_addr != addr)
		return refuse_loudly(dt, initiator, addr, "a second session from another address "
				     "while the client's runs");
	if (d && d->rsessions)
		return refuse(dt, initiator, ISCSI_LOGIN_UNAVAILABLE,
			      "the peer's replication session is still closing");
	if (d && d->sessions == 0 &&
	    (strcmp(d->image, c.image) != 0 || (d->meta && !d->source && dt->mirror_on))) {
		/* the admin gave the client another image, or it was open as a replica */
		disk_close(dt, d);
		d = NULL;
	}
	if (d && d->probing) {
		/* the PC logs in again while a reset waits on its old session: it rebooted */
		ev_timer_cancel(dt->loop, &d->probe);
		d->probing = 0;
		d->reset_pending = 1;
		iscsi_server_drop_target(dt->srv, &d->tgt);
	}
	if (d && d->reset_pending) {
		/* its old session is still closing: the new one must not see the old overlay */
		if (d->sessions)
			return refuse(dt, initiator, ISCSI_LOGIN_UNAVAILABLE,
				      "previous session still closing before an overlay reset");
		rc = disk_reset(d);
		if (rc == -EBUSY)	/* a resync's copies in flight: they end in milliseconds */
			return refuse(dt, initiator, ISCSI_LOGIN_UNAVAILABLE,
				      "overlay reset waits for the mirror's copies in flight");
		if (rc < 0)
			return refuse(dt, initiator, ISCSI_LOGIN_TARGET_ERROR, "overlay reset failed");
	}
	if (!d) {
		rc = disk_open(dt, &c, &d);
		if (rc < 0)
			return refuse(dt, initiator, ISCSI_LOGIN_TARGET_ERROR, "disk unavailable");
	}
	d->sessions++;
	d->session_addr = addr;
	forget_ended(dt, c.name);
	*out = &d->tgt;
	return 0;
}

static void dbt_detach(void *arg, struct iscsi_target *tgt)
{
	struct db_targets *dt = arg;
	struct client_disk *d = tgt->priv;

	if (image_sync_owns(tgt)) {
		image_sync_close(tgt);
		return;
	}
	if (tgt == &d->rtgt)
		d->rsessions--;
	else
		d->sessions--;
	if (d->probing && !d->sessions) {
		/* the session a reset was asked over ended: the PC was not running */
		ev_timer_cancel(dt->loop, &d->probe);
		d->probing = 0;
		d->reset_pending = 1;
	}
	if (tgt == &d->tgt && !d->sessions && d->restore && !dt->secondary)
		note_ended(dt, d->name);
	if (d->sessions || d->rsessions)
		return;
	if (d->reset_pending)
		disk_reset(d);
	/* a mirror stays open until the peer has everything (the sweep closes it) */
	if (d->source && !dt->secondary && !mirror_idle(d))
		return;
	/* keep no descriptors for clients that are not logged in */
	disk_close(dt, d);
}

/* Whether disk d reads image, whose file is sb (two image names may name one file). */
static int disk_reads(struct db_targets *dt, const struct client_disk *d, const char *image,
		      const struct stat *sb)
{
	struct db_image other;
	struct stat osb;

	if (strcmp(d->image, image) == 0)
		return 1;
	return sb && db_image_by_name(dt->db, d->image, &other) == 0 &&
	       stat(other.path, &osb) == 0 && osb.st_dev == sb->st_dev && osb.st_ino == sb->st_ino;
}

/* An image sync refused: an admin is waiting for the reason, so these have a limiter of their
 * own with a short interval (client refusals must not hide them). */
static int sync_refuse(struct db_targets *dt, const char *initiator, int status, const char *why)
{
	static struct log_ratelimit rl_sync = LOG_RATELIMIT_INIT(1);

	dt->refused++;
	log_limited(&rl_sync, LOG_NOTICE, "login refused for %s: %s", initiator, why);
	return -status;
}

/* `vdiskctl image sync` on the peer writes our copy of a base image: only while we are
 * secondary and no disk here reads that image (image_sync_target.h). */
static int sync_attach(struct db_targets *dt, const char *initiator, const char *target_name,
		       const char *image, struct iscsi_target **out)
{
	char why[2 * DB_NAME_MAX + 80];
	struct db_image img;
	struct stat sb;
	int have_sb;

	if (!dt->secondary)
		return sync_refuse(dt, initiator, ISCSI_LOGIN_UNAVAILABLE,
			      "image sync refused: this server is primary (it serves that image)");
	if (db_image_by_name(dt->db, image, &img) < 0)
		return sync_refuse(dt, initiator, ISCSI_LOGIN_NOT_FOUND, "image sync: no such image here");
	have_sb = stat(img.path, &sb) == 0;
	for (struct client_disk *d = dt->disks; d; d = d->next) {
		if (disk_reads(dt, d, image, have_sb ? &sb : NULL)) {
			snprintf(why, sizeof(why), "image sync of %s refused: client %s's disk "
				 "uses that image", image, d->name);
			return sync_refuse(dt, initiator, ISCSI_LOGIN_UNAVAILABLE, why);
		}
	}
	if (image_sync_busy(image))
		return sync_refuse(dt, initiator, ISCSI_LOGIN_UNAVAILABLE,
			      "image sync refused: another sync of that image is running");
	if (image_sync_open(dt->pool, target_name, image, img.path, &dt->pair, out) < 0)
		return sync_refuse(dt, initiator, ISCSI_LOGIN_TARGET_ERROR,
			      "image sync: cannot open the image file");
	return 0;
}

/* The peer's mirror logs in for one hot-standby client, or its vdiskctl for an image sync. */
static int rep_attach(void *arg, const char *initiator, const char *target_name,
		      uint32_t addr, struct iscsi_target **out)
{
	struct db_targets *dt = arg;

	(void)addr;	/* the listener takes the peer's address alone */
	const char *image = is_target_image(dt->target_name, target_name);
	struct db_client c;
	struct client_disk *d;
	int rc;

	if (image)
		return sync_attach(dt, initiator, target_name, image, out);
	if (strcmp(target_name, dt->target_name) != 0)
		return refuse(dt, initiator, ISCSI_LOGIN_NOT_FOUND, "no such target");
	if (!dt->secondary)
		/* two actives would both write: the one that is not the peer's wins nothing */
		return refuse(dt, initiator, ISCSI_LOGIN_UNAVAILABLE,
			      "replication refused: this server is primary");
	rc = db_client_by_iqn(dt->db, initiator, &c);
	if (rc < 0)
		return refuse(dt, initiator, ISCSI_LOGIN_FORBIDDEN, "replication of an unknown client");
	if (!c.hot_standby || !c.image[0])
		return refuse(dt, initiator, ISCSI_LOGIN_FORBIDDEN,
			      "replication of a client without hot-standby (or image)");
	if (image_sync_busy(c.image))
		return refuse(dt, initiator, ISCSI_LOGIN_UNAVAILABLE,
			      "replication waits: its base image is being synced");
	d = disk_find(dt, c.name);
	if (d && d->source)
		return refuse(dt, initiator, ISCSI_LOGIN_UNAVAILABLE,
			      "our own mirror of this client is still closing");
	/* The commands of a session the peer gave up on may still be running here: a resync
	 * copy of the new session could land before one of them and be overwritten by it. */
	if (d && d->rsessions)
		return refuse(dt, initiator, ISCSI_LOGIN_UNAVAILABLE,
			      "replication waits: the previous session is still closing");
	/* The same for a client's own session after this server stepped down: its writes must
	 * not be overtaken by the replica's (done on the loop thread, replica_lu.c). */
	if (d && d->sessions)
		return refuse(dt, initiator, ISCSI_LOGIN_UNAVAILABLE,
			      "replication waits: a client session of this disk is still closing");
	if (d && d->sessions == 0 && d->rsessions == 0 && strcmp(d->image, c.image) != 0) {
		disk_close(dt, d);
		d = NULL;
	}
	if (!d) {
		rc = disk_open(dt, &c, &d);
		if (rc < 0)
			return refuse(dt, initiator, ISCSI_LOGIN_TARGET_ERROR, "replica unavailable");
	}
	if (!d->rtgt.scsi.nlu)
		return refuse(dt, initiator, ISCSI_LOGIN_TARGET_ERROR, "no replica state");
	d->rsessions++;
	*out = &d->rtgt;
	return 0;
}

/* Every login on the replica listener (the peer's mirror, its image sync) passes CHAP with
 * the pair secret before anything is opened for it. */
static int rep_credentials(void *arg, const char *initiator, const char *target_name,
			   uint32_t addr, struct chap_cred *chap, struct chap_cred *mutual)
{
	struct db_targets *dt = arg;

	(void)initiator, (void)target_name, (void)addr;
	*chap = dt->pair;
	memset(mutual, 0, sizeof(*mutual));
	return 0;
}

static void rep_discover(void *arg, const char *initiator, const char *name,
			 void (*emit)(void *ctx, const char *target), void *ctx)
{
	(void)arg, (void)initiator, (void)name, (void)emit, (void)ctx;	/* nothing to find */
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
	out->credentials = dbt_credentials;
	out->mutual_optional = 1;
	out->attach = dbt_attach;
	out->detach = dbt_detach;
	out->discover = dbt_discover;
	out->arg = dt;
}

void db_targets_replica_provider(struct db_targets *dt, struct iscsi_provider *out)
{
	memset(out, 0, sizeof(*out));
	out->credentials = rep_credentials;
	out->attach = rep_attach;
	out->detach = dbt_detach;
	out->discover = rep_discover;
	out->arg = dt;
}

/* A reset was asked (a PXE boot with the client's MAC) while its session is open: a PC that
 * reboots leaves a dead session behind, which does not answer; a running PC answers, and
 * then the reset is a spoofed request: refused, and the admin told. */
static void probe_fn(struct ev_timer *t)
{
	struct client_disk *d = t->arg;
	struct db_targets *dt = d->dt;

	d->probing = 0;
	if (iscsi_server_answered(dt->srv, &d->tgt)) {
		log_warn("client %s: overlay reset refused: its session answered within %u ms "
			 "(a PXE request with its MAC %s while it runs)", d->name, RESET_PROBE_MS,
			 d->mac);
		db_event_add(dt->db, "warning", "vdiskd", "overlay reset of %s refused: its session "
			     "is alive; a PXE request came with its MAC %s while it runs (a spoofed "
			     "MAC?)", d->name, d->mac);
		return;
	}
	d->reset_pending = 1;
	iscsi_server_drop_target(dt->srv, &d->tgt);
}

int db_targets_reset(struct db_targets *dt, const char *client, int *deferred)
{
	struct db_client c;
	struct client_disk *d;
	int rc;

	*deferred = 0;
	if (dt->secondary)
		return -EROFS;	/* a replica changes only through its mirror */
	rc = db_client_by_name(dt->db, client, &c);
	if (rc < 0)
		return rc;
	d = disk_find(dt, c.name);
	if (d && d->rsessions) {
		/* the peer's replication session still closes (a takeover): after it */
		d->reset_pending = 1;
		*deferred = 1;
		return 0;
	}
	if (d && d->sessions) {
		*deferred = 1;
		if (!d->probing && dt->srv && dt->loop) {
			snprintf(d->mac, sizeof(d->mac), "%s", c.mac);
			iscsi_server_ping_target(dt->srv, &d->tgt);
			ev_timer_init(&d->probe, probe_fn, d);
			ev_timer_arm(dt->loop, &d->probe, RESET_PROBE_MS);
			d->probing = 1;
		}
		return 0;
	}
	if (d) {
		rc = disk_reset(d);
		if (rc == -EBUSY) {
			*deferred = 1;
			return 0;
		}
		return rc;
	}
	if (!c.image[0])
		return 0;	/* no disk, nothing to discard */
	dt->discarding = 1;
	rc = disk_open(dt, &c, &d);
	dt->discarding = 0;
	if (rc < 0)
		return rc;
	rc = disk_reset(d);
	/* A mirror stays open until its handshake has discarded the peer's copy as well (the
	 * sweep closes it in sync): closed now, the peer would keep the old disk, to serve it
	 * after a takeover, while the pair said in-sync. */
	if (rc < 0 || !d->source)
		disk_close(dt, d);
	return rc;
}

/* Calls fn with the client name of every file NAME<suffix> in the overlay directory. */
static void each_overlay_file(struct db_targets *dt, const char *suffix,
			      void (*fn)(struct db_targets *dt, const char *name))
{
	size_t slen = strlen(suffix);
	DIR *dir = opendir(dt->overlay_dir);
	struct dirent *e;

	if (!dir)
		return;
	while ((e = readdir(dir))) {
		size_t len = strlen(e->d_name);
		char name[DB_NAME_MAX];

		if (len <= slen || len - slen >= sizeof(name) ||
		    strcmp(e->d_name + len - slen, suffix))
			continue;
		memcpy(name, e->d_name, len - slen);
		name[len - slen] = '\0';
		fn(dt, name);
	}
	closedir(dir);
}

static void resume_one(struct db_targets *dt, const char *name)
{
	struct client_disk *d;
	struct db_client c;

	if (disk_find(dt, name) || db_client_by_name(dt->db, name, &c) < 0 || !c.hot_standby ||
	    !c.image[0])
		return;
	if (disk_open(dt, &c, &d) == 0 && !d->source)
		disk_close(dt, d);
}

/* Opens the disks of hot-standby clients whose mirror state says the peer lacks something
 * (or may: every state file is checked once), so their resync runs with nobody logged in. */
static void resume_mirrors(struct db_targets *dt)
{
	if (dt->mirror_on && !dt->secondary)
		each_overlay_file(dt, ".mirror", resume_one);
}

static void note_one(struct db_targets *dt, const char *name)
{
	char data[sizeof(dt->overlay_dir) + DB_NAME_MAX + 8];
	struct client_disk *d = disk_find(dt, name);
	struct stat sb;
	struct db_client c;

	snprintf(data, sizeof(data), "%s/%s.data", dt->overlay_dir, name);
	if ((d && d->sessions) || stat(data, &sb) < 0 || sb.st_blocks == 0 ||
	    db_client_by_name(dt->db, name, &c) < 0 || c.overlay != DB_OVERLAY_RESTORE)
		return;
	note_ended(dt, c.name);
}

/* The restore-mode overlays no session uses, when this server starts or becomes active: the
 * ended sessions were noted in memory, by this process or by the peer's, and are gone. Their
 * grace starts now; a PC that goes on (a takeover's reconnect) logs in well within it. An
 * overlay whose data file has no block allocated holds nothing (a reset one keeps its files):
 * it is left alone, so a start does not reset every PC of the room again. */
static void note_unserved(struct db_targets *dt)
{
	if (!dt->secondary && dt->restore_grace_ms)
		each_overlay_file(dt, ".map", note_one);
}

/* Closes mirrors with nobody logged in once the peer has everything. */
static void sweep_fn(struct ev_timer *t)
{
	struct db_targets *dt = t->arg;
	struct client_disk *d = dt->disks, *next;

	for (; d; d = next) {
		next = d->next;
		if (d->source && !d->sessions && !d->rsessions && !d->reset_pending &&
		    (dt->secondary || mirror_idle(d)))
			disk_close(dt, d);
	}
	/* closing the last mirror that was apart makes the pair in sync too */
	if (dt->mirror_on && strcmp(pair_state(dt), "in-sync") == 0)
		fence_reset(&dt->fence);
	discard_ended(dt);
	ev_timer_arm(dt->loop, &dt->sweep, SWEEP_MS);
}

static void link_changed(void *arg, int up)
{
	struct db_targets *dt = arg;

	for (struct client_disk *d = dt->disks; d; d = d->next)
		if (d->source)
			store_mirror_link(d->st, up);
}

/* A pulled HA cable is seen at once, not after --mirror-timeout-ms of silence. */
static void watch_link(struct db_targets *dt)
{
	char addr[sizeof(dt->mirror.peer)];
	int rc;

	snprintf(addr, sizeof(addr), "%s", dt->mirror.peer);
	*strrchr(addr, ':') = '\0';	/* vdiskd.c checked "ADDR:PORT" */
	rc = linkwatch_open(&dt->link, dt->loop, addr, link_changed, dt);
	if (rc < 0)
		log_warn("the link to the mirror peer %s is not watched (%s): its loss shows "
			 "after --mirror-timeout-ms", addr, strerror(-rc));
}

void db_targets_start(struct db_targets *dt, struct evloop *loop)
{
	dt->loop = loop;
	ev_timer_init(&dt->sweep, sweep_fn, dt);
	ev_timer_arm(loop, &dt->sweep, SWEEP_MS);
	note_unserved(dt);
	if (!dt->mirror_on)
		return;
	fence_init(&dt->fence, loop, dt->fence_path);
	dt->mirror.fence = &dt->fence;
	watch_link(dt);
	snprintf(dt->pair_state, sizeof(dt->pair_state), "in-sync");
	resume_mirrors(dt);
}

void db_targets_role(struct db_targets *dt, int secondary)
{
	struct client_disk *d, *next;

	if (dt->secondary == secondary)
		return;
	dt->secondary = secondary;
	log_notice("role: %s", secondary ? "secondary (client logins refused)" : "primary");
	while (secondary && dt->ended) {	/* the active server's business now */
		struct ended_session *e = dt->ended;

		dt->ended = e->next;
		free(e);
	}
	if (!secondary)
		dt->peer_up = 0;	/* a takeover: the old active is presumed dead */
	for (d = dt->disks; d; d = next) {
		next = d->next;
		if (secondary) {
			/* the other server is active now: our mirrors stop, clients go */
			if (d->source)
				store_mirror_drop_held(d->st);
			if (d->sessions && dt->srv)
				iscsi_server_drop_target(dt->srv, &d->tgt);
			else if (d->source && !d->rsessions)
				disk_close(dt, d);
		} else if (d->rsessions && dt->rsrv) {
			/* fencing: the old active's mirror writes no more */
			iscsi_server_drop_target(dt->rsrv, &d->rtgt);
		}
	}
	if (secondary)
		fence_unasked(&dt->fence);	/* the held writes failed above */
	if (!secondary && dt->rsrv)
		image_sync_drop_all(dt->rsrv);	/* a base being rewritten must not be served */
	if (!secondary) {
		resume_mirrors(dt);
		note_unserved(dt);
	}
}

int db_targets_keep_local(struct db_targets *dt, const char *client)
{
	struct client_disk *d = disk_find(dt, client);

	if (!d || !d->source)
		return -ENOENT;
	return store_mirror_keep_local(d->st);
}

/* No mirror configured: "off", or "unprotected" while clients have hot standby on, whose
 * writes then live on this server only (standbyd counts that as not in sync). Said once in
 * the log and the events table when it starts. */
static const char *unmirrored_state(struct db_targets *dt)
{
	int64_t hot = 0;
	const char *now;

	if (db_client_count_hot_standby(dt->db, &hot))
		return "unknown";
	now = hot ? "unprotected" : "off";
	if (hot && strcmp(dt->pair_state, now) != 0) {
		log_warn("%lld clients have hot standby on but no mirror peer is configured: their "
			 "writes are on this server only", (long long)hot);
		db_event_add(dt->db, "warning", "vdiskd", "%lld clients have hot standby on but no "
			     "mirror peer is configured (vdiskd --mirror-peer): their writes are on "
			     "this server only", (long long)hot);
	}
	snprintf(dt->pair_state, sizeof(dt->pair_state), "%s", now);
	return now;
}

/* The pair's state for standbyd's heartbeats: the worst over our mirrors. */
static const char *pair_state(struct db_targets *dt)
{
	int worst = 0;	/* 0 in-sync, 1 syncing, 2 degraded, 3 split-brain */
	static const char *const names[] = { "in-sync", "syncing", "degraded", "split-brain" };

	if (!dt->mirror_on)
		return unmirrored_state(dt);
	for (struct client_disk *d = dt->disks; d; d = d->next) {
		struct mirror_status ms;
		int level;

		if (!d->source)
			continue;
		store_mirror_status(d->st, &ms);
		level = ms.state == MIRROR_IN_SYNC ? 0 : ms.state == MIRROR_SYNCING ? 1 :
			ms.state == MIRROR_SPLIT_BRAIN ? 3 : 2;
		if (level > worst)
			worst = level;
	}
	return names[worst];
}

/* A generation as the old text had it: 16 hex digits, a string (an identifier, not a count). */
static json_t *gen_hex(uint64_t gen)
{
	char hex[17];

	snprintf(hex, sizeof(hex), "%016llx", (unsigned long long)gen);
	return json_string(hex);
}

/* An array member of answer, made at its first element: a list with no element is left out. */
static void push_listed(json_t *answer, const char *key, json_t *value)
{
	json_t *list = json_object_get(answer, key);

	if (!list) {
		list = json_array();
		ctl_set(answer, key, list);
	}
	ctl_push(answer, list, value);
}

void db_targets_status(struct db_targets *dt, json_t *answer)
{
	if (dt->node[0])
		ctl_set(answer, "node", ctl_text(dt->node));
	ctl_add(answer, json_pack("{s:s, s:I, s:I, s:s}",
				  "role", dt->secondary ? "secondary" : "primary",
				  "clients", (json_int_t)dt->ndisks,
				  "refused", (json_int_t)dt->refused,
				  "mirror", pair_state(dt)));
	if (dt->mirror_on)
		ctl_set(answer, "fence", fence_status(&dt->fence));
	for (struct client_disk *d = dt->disks; d; d = d->next) {
		push_listed(answer, "client", json_pack(
			"{s:o, s:o, s:I, s:I, s:I, s:I, s:I, s:b}",
			"name", ctl_text(d->name), "image", ctl_text(d->image),
			"sessions", (json_int_t)d->sessions,
			"reads", (json_int_t)d->lu.reads, "writes", (json_int_t)d->lu.writes,
			"bytes_read", (json_int_t)d->lu.bytes_read,
			"bytes_written", (json_int_t)d->lu.bytes_written,
			"reset_pending", d->reset_pending != 0));
		if (d->source) {
			struct mirror_status ms;

			store_mirror_status(d->st, &ms);
			push_listed(answer, "mirror_client", json_pack(
				"{s:o, s:s, s:I, s:I, s:I, s:I, s:o, s:o, s:I, s:I, s:I, s:I, s:I, "
				"s:I}", "name", ctl_text(d->name),
				"state", mirror_state_name(ms.state),
				"dirty", (json_int_t)ms.dirty,
				"resync_done", (json_int_t)ms.resync_done,
				"resync_total", (json_int_t)ms.resync_total,
				"eta_s", (json_int_t)ms.eta_s,
				"gen", gen_hex(ms.gen), "peer_gen", gen_hex(ms.peer_gen),
				"mirrored", (json_int_t)ms.mirrored,
				"failures", (json_int_t)ms.failures,
				"unflushed", (json_int_t)ms.unflushed,
				"batches", (json_int_t)ms.batches,
				"batched", (json_int_t)ms.batched,
				"held", (json_int_t)ms.held));
			/* what an admin must mend (a wrong pair secret, say), while it lasts */
			if (ms.state == MIRROR_DEGRADED && ms.down_why[0])
				push_listed(answer, "mirror_down", json_pack(
					"{s:o, s:o}", "name", ctl_text(d->name),
					"why", ctl_text(ms.down_why)));
		} else if (d->rsessions || d->meta) {
			push_listed(answer, "replica_client", json_pack(
				"{s:o, s:I, s:o, s:I, s:b}", "name", ctl_text(d->name),
				"sessions", (json_int_t)d->rsessions,
				"gen", gen_hex(d->meta->gen),
				"dirty", (json_int_t)d->meta->nset,
				"inconsistent", (d->meta->flags & MIRROR_INCONSISTENT) != 0));
		}
	}
}
