/* The clients table: one row per diskless PC. */
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "common/netaddr.h"
#include "db/db_internal.h"

const char *db_overlay_name(enum db_overlay o)
{
	return o == DB_OVERLAY_PERSISTENT ? "persistent" : "restore";
}

int db_overlay_parse(const char *s, enum db_overlay *out)
{
	if (strcmp(s, "restore") == 0)
		*out = DB_OVERLAY_RESTORE;
	else if (strcmp(s, "persistent") == 0)
		*out = DB_OVERLAY_PERSISTENT;
	else
		return -EINVAL;
	return 0;
}

static void read_client(sqlite3_stmt *st, void *row)
{
	struct db_client *c = row;
	char overlay[16];

	c->id = sqlite3_column_int64(st, 0);
	db_column_copy(st, 1, c->name, sizeof(c->name));
	db_column_copy(st, 2, c->mac, sizeof(c->mac));
	db_column_copy(st, 3, c->ip, sizeof(c->ip));
	db_column_copy(st, 4, c->group, sizeof(c->group));
	db_column_copy(st, 5, c->image, sizeof(c->image));
	db_column_copy(st, 6, c->server, sizeof(c->server));
	c->hot_standby = sqlite3_column_int(st, 7);
	db_column_copy(st, 8, overlay, sizeof(overlay));
	c->overlay = strcmp(overlay, "persistent") == 0 ? DB_OVERLAY_PERSISTENT : DB_OVERLAY_RESTORE;
	c->enabled = sqlite3_column_int(st, 9);
	db_column_copy(st, 10, c->iqn, sizeof(c->iqn));
	c->created = sqlite3_column_int64(st, 11);
	c->updated = sqlite3_column_int64(st, 12);
	c->last_boot = sqlite3_column_int64(st, 13);
	db_column_copy(st, 14, c->chap_secret, sizeof(c->chap_secret));
	db_column_copy(st, 15, c->chap_target_secret, sizeof(c->chap_target_secret));
	c->auto_registered = sqlite3_column_int(st, 16);
}

static int client_lookup(struct db *db, enum stmt_id id, const char *key, struct db_client *out)
{
	sqlite3_stmt *st = db_stmt(db, id);
	int rc;

	if (!st)
		return -EIO;
	sqlite3_bind_text(st, 1, key, -1, SQLITE_STATIC);
	rc = db_read_one(db, st, read_client, out, "such client");
	if (rc == -ENOENT)
		db_error(db, rc, "no client %s", key);
	return rc;
}

int db_client_by_name(struct db *db, const char *name, struct db_client *out)
{
	return client_lookup(db, STMT_CLIENT_BY_NAME, name, out);
}

int db_client_by_mac(struct db *db, const char *mac, struct db_client *out)
{
	char canon[MAC_STRLEN];

	if (mac_canonical(mac, canon))
		return db_error(db, -EINVAL, "'%s' is not a MAC address", mac);
	return client_lookup(db, STMT_CLIENT_BY_MAC, canon, out);
}

int db_client_by_iqn(struct db *db, const char *iqn, struct db_client *out)
{
	return client_lookup(db, STMT_CLIENT_BY_IQN, iqn, out);
}

/* Read once per connection: batch edits derive thousands of names. */
static const char *iqn_prefix(struct db *db)
{
	if (!db->iqn_prefix[0] &&
	    (db_setting_get(db, "iqn_prefix", db->iqn_prefix, sizeof(db->iqn_prefix)) ||
	     !db->iqn_prefix[0]))
		snprintf(db->iqn_prefix, sizeof(db->iqn_prefix), "%s", DB_DEFAULT_IQN_PREFIX);
	return db->iqn_prefix;
}

int db_client_check(struct db *db, struct db_client *c)
{
	char canon[MAC_STRLEN];
	uint32_t ip;
	size_t i, n;

	if (!c->name[0])
		return db_error(db, -EINVAL, "client name is empty");
	for (i = 0; c->name[i]; i++)
		if (!isalnum((unsigned char)c->name[i]) && c->name[i] != '-' && c->name[i] != '_')
			return db_error(db, -EINVAL, "client name '%s': only letters, digits, '-' "
					"and '_' are allowed", c->name);
	if (mac_canonical(c->mac, canon))
		return db_error(db, -EINVAL, "'%s' is not a MAC address", c->mac);
	memcpy(c->mac, canon, sizeof(canon));
	if (c->ip[0] && ipv4_parse(c->ip, &ip))
		return db_error(db, -EINVAL, "'%s' is not an IPv4 address", c->ip);
	n = (size_t)snprintf(c->iqn, sizeof(c->iqn), "%s:%s", iqn_prefix(db), c->name);
	if (n >= sizeof(c->iqn))
		return db_error(db, -EINVAL, "initiator name for '%s' is too long", c->name);
	/* RFC 3722: iSCSI names are lower case. */
	for (i = 0; i < n; i++)
		c->iqn[i] = (char)tolower((unsigned char)c->iqn[i]);
	return 0;
}

static void bind_client_fields(sqlite3_stmt *st, const struct db_client *c, int first)
{
	sqlite3_bind_text(st, first, c->name, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, first + 1, c->mac, -1, SQLITE_STATIC);
	db_bind_text_or_null(st, first + 2, c->ip);
	db_bind_text_or_null(st, first + 3, c->group);
	db_bind_text_or_null(st, first + 4, c->image);
	db_bind_text_or_null(st, first + 5, c->server);
	sqlite3_bind_int(st, first + 6, !!c->hot_standby);
	sqlite3_bind_text(st, first + 7, db_overlay_name(c->overlay), -1, SQLITE_STATIC);
	sqlite3_bind_int(st, first + 8, !!c->enabled);
	sqlite3_bind_text(st, first + 9, c->iqn, -1, SQLITE_STATIC);
}

int db_client_insert(struct db *db, struct db_client *c)
{
	sqlite3_stmt *st;
	int rc = db_client_check(db, c);

	if (rc)
		return rc;
	st = db_stmt(db, STMT_CLIENT_INSERT);
	if (!st)
		return -EIO;
	rc = db_secret_pair(c->chap_secret, c->chap_target_secret);
	if (rc)
		return db_error(db, rc, "no random bytes for %s's CHAP secrets: %s", c->name,
				strerror(-rc));
	c->created = c->updated = time(NULL);
	bind_client_fields(st, c, 1);
	sqlite3_bind_int64(st, 11, c->created);
	sqlite3_bind_text(st, 12, c->chap_secret, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 13, c->chap_target_secret, -1, SQLITE_STATIC);
	sqlite3_bind_int(st, 14, !!c->auto_registered);
	rc = db_exec_stmt(db, st);
	if (rc)
		return rc;
	c->id = sqlite3_last_insert_rowid(db->h);
	return db_mark_changed(db);
}

int db_client_update(struct db *db, struct db_client *c)
{
	sqlite3_stmt *st;
	int rc = db_client_check(db, c);

	if (rc)
		return rc;
	st = db_stmt(db, STMT_CLIENT_UPDATE);
	if (!st)
		return -EIO;
	c->updated = time(NULL);
	sqlite3_bind_int64(st, 1, c->id);
	bind_client_fields(st, c, 2);
	sqlite3_bind_int64(st, 12, c->updated);
	sqlite3_bind_int(st, 13, !!c->auto_registered);
	rc = db_exec_stmt(db, st);
	if (rc)
		return rc;
	if (sqlite3_changes(db->h) == 0)
		return db_error(db, -ENOENT, "no client with id %lld", (long long)c->id);
	return db_mark_changed(db);
}

int db_client_new_secrets(struct db *db, int64_t id, struct db_client *c)
{
	char secret[DB_SECRET_MAX], target[DB_SECRET_MAX];
	sqlite3_stmt *st = db_stmt(db, STMT_CLIENT_SECRETS);
	int64_t now = time(NULL);
	int rc;

	if (!st)
		return -EIO;
	rc = db_secret_pair(secret, target);
	if (rc)
		return db_error(db, rc, "no random bytes for new CHAP secrets: %s", strerror(-rc));
	sqlite3_bind_int64(st, 1, id);
	sqlite3_bind_text(st, 2, secret, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 3, target, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 4, now);
	rc = db_exec_stmt(db, st);
	if (!rc && sqlite3_changes(db->h) == 0)
		rc = db_error(db, -ENOENT, "no client with id %lld", (long long)id);
	if (!rc)
		rc = db_mark_changed(db);
	if (!rc && c) {
		memcpy(c->chap_secret, secret, sizeof(secret));
		memcpy(c->chap_target_secret, target, sizeof(target));
		c->updated = now;
	}
	explicit_bzero(secret, sizeof(secret));
	explicit_bzero(target, sizeof(target));
	return rc;
}

static int count_rows(struct db *db, enum stmt_id id, int64_t *n)
{
	sqlite3_stmt *st = db_stmt(db, id);
	int rc;

	if (!st)
		return -EIO;
	rc = sqlite3_step(st);
	if (rc != SQLITE_ROW) {
		sqlite3_reset(st);
		return db_fail(db, rc);
	}
	*n = sqlite3_column_int64(st, 0);
	sqlite3_reset(st);
	return 0;
}

int db_client_count_auto(struct db *db, int64_t *n)
{
	return count_rows(db, STMT_CLIENT_COUNT_AUTO, n);
}

int db_client_count_hot_standby(struct db *db, int64_t *n)
{
	return count_rows(db, STMT_CLIENT_COUNT_HOT, n);
}

int db_client_delete(struct db *db, int64_t id)
{
	sqlite3_stmt *st = db_stmt(db, STMT_CLIENT_DELETE);
	int rc;

	if (!st)
		return -EIO;
	sqlite3_bind_int64(st, 1, id);
	rc = db_exec_stmt(db, st);
	if (rc)
		return rc;
	if (sqlite3_changes(db->h) == 0)
		return db_error(db, -ENOENT, "no client with id %lld", (long long)id);
	return db_mark_changed(db);
}

int db_client_boot(struct db *db, int64_t id)
{
	sqlite3_stmt *st = db_stmt(db, STMT_CLIENT_BOOT);

	if (!st)
		return -EIO;
	sqlite3_bind_int64(st, 1, id);
	sqlite3_bind_int64(st, 2, time(NULL));
	return db_exec_stmt(db, st);
}

int db_client_all(struct db *db, struct db_client **out, size_t *n)
{
	sqlite3_stmt *st = db_stmt(db, STMT_CLIENT_ALL);

	if (!st)
		return -EIO;
	return db_collect_rows(db, st, sizeof(**out), read_client, (void **)out, n);
}

int db_client_next_name(struct db *db, const char *prefix, char out[DB_NAME_MAX])
{
	sqlite3_stmt *st = db_stmt(db, STMT_CLIENT_NAMES_LIKE);
	size_t plen = strlen(prefix);
	unsigned long best = 0;
	int width = 3, rc;

	if (!st)
		return -EIO;
	sqlite3_bind_text(st, 1, prefix, -1, SQLITE_STATIC);
	sqlite3_bind_int(st, 2, (int)plen);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		const char *name = (const char *)sqlite3_column_text(st, 0);
		const char *digits = name + plen;
		size_t nd = strspn(digits, "0123456789");
		unsigned long num;

		if (nd == 0 || digits[nd] || nd > 9)
			continue;
		num = strtoul(digits, NULL, 10);
		if (num > best)
			best = num;
		if ((int)nd > width)
			width = (int)nd;
	}
	sqlite3_reset(st);
	if (rc != SQLITE_DONE)
		return db_fail(db, rc);
	if ((size_t)snprintf(out, DB_NAME_MAX, "%s%0*lu", prefix, width, best + 1) >= DB_NAME_MAX)
		return db_error(db, -ENAMETOOLONG, "name prefix '%s' is too long", prefix);
	return 0;
}
