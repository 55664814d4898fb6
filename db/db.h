/* The project's database: one SQLite file (WAL, foreign keys, busy timeout) holding clients,
 * servers, images, groups, settings and the events admins must see. This header and the files
 * beside it are the only code that holds SQL text; everything is bound, never spliced.
 *
 * Every function returns 0 or a negative errno:
 *   -ENOENT   no such row / no database file
 *   -EEXIST   a unique field (name, MAC, IP) is already taken
 *   -EINVAL   a field fails its check (bad MAC, unknown group/image/server, bad mode)
 *   -EBUSY    another writer holds the database longer than the busy timeout
 *   -EBADMSG  the file is not a database or is corrupt
 *   -EIO      any other SQLite failure
 * db_errmsg() then says what went wrong in words fit for an admin. */
#ifndef DB_DB_H
#define DB_DB_H

#include <stddef.h>
#include <stdint.h>

struct db;

#define DB_NAME_MAX   64	/* names of clients, groups, images, servers, incl. NUL */
#define DB_PATH_MAX   4096
#define DB_IQN_MAX    224	/* RFC 3720: 223 bytes plus NUL */
#define DB_ADDR_MAX   16	/* dotted IPv4 plus NUL */
#define DB_MAC_MAX    18
/* A client's CHAP secrets: 16 characters from [A-Za-z0-9] plus NUL. Microsoft's iSCSI
 * initiator takes 12 to 16 characters; iPXE and open-iscsi take any length. */
#define DB_SECRET_LEN 16
#define DB_SECRET_MAX 17

/* The initiator name a client's iPXE script sets and vdiskd looks up: prefix + ":" + the
 * client's name in lower case. The prefix is the setting "iqn_prefix". */
#define DB_DEFAULT_IQN_PREFIX "iqn.2026-11.lan.vdisk"

enum db_open_flags {
	DB_OPEN_CREATE   = 1 << 0,	/* create the file if missing (vdiskctl init) */
	DB_OPEN_READONLY = 1 << 1,
};

/* Opens path, upgrading its schema to the current version in one transaction.
 * On failure *out is NULL and, if errmsg is not NULL, *errmsg points to a static
 * description of why. */
int db_open(const char *path, int flags, struct db **out, const char **errmsg);
void db_close(struct db *db);
const char *db_errmsg(const struct db *db);
/* Copies the database at src into a new file dst (mode 0600, never over an existing file)
 * with SQLite's online backup: a consistent snapshot while daemons read and write it, of
 * any schema version (nothing is upgraded). 0, or a negative errno with the reason in err
 * (dst removed). */
int db_backup_file(const char *src, const char *dst, char *err, size_t errlen);
/* The schema version this code writes (PRAGMA user_version). */
int db_schema_version(void);
/* A counter bumped by every committed admin change, shipped to the peer (data version). */
int db_change_seq(struct db *db, int64_t *seq);

/* Transactions: BEGIN IMMEDIATE, so a second writer waits (busy timeout) up front rather than
 * failing half-way. Batch edits run inside one. */
int db_begin(struct db *db);
int db_commit(struct db *db);
void db_rollback(struct db *db);

enum db_overlay { DB_OVERLAY_RESTORE = 0, DB_OVERLAY_PERSISTENT = 1 };

struct db_client {
	int64_t id;			/* OUT: assigned by insert */
	char name[DB_NAME_MAX];
	char mac[DB_MAC_MAX];		/* canonical aa:bb:cc:dd:ee:ff */
	char ip[DB_ADDR_MAX];		/* "" when none */
	char group[DB_NAME_MAX];	/* "" when none */
	char image[DB_NAME_MAX];	/* "" when none */
	char server[DB_NAME_MAX];	/* "" when none */
	int hot_standby;
	enum db_overlay overlay;
	int enabled;
	char iqn[DB_IQN_MAX];		/* OUT: derived from name */
	int64_t created, updated, last_boot;	/* OUT: unix seconds, 0 = never */
	/* OUT: per-client CHAP, made by the database (insert, db_client_new_secrets, the
	 * schema upgrade) from the kernel's CSPRNG, never by a caller, and never equal.
	 * chap_secret is what the PC proves (CHAP_N = iqn); chap_target_secret is what the
	 * target proves to the PC in mutual CHAP (CHAP_N = the target's IQN). */
	char chap_secret[DB_SECRET_MAX];
	char chap_target_secret[DB_SECRET_MAX];
	/* Registered by pxed on its own (auto_register), until an admin clears it: what the
	 * setting auto_register_max counts. */
	int auto_registered;
};

const char *db_overlay_name(enum db_overlay o);
int db_overlay_parse(const char *s, enum db_overlay *out);

/* Lookups fill *out; -ENOENT when absent. mac may be in any form mac_parse accepts. */
int db_client_by_name(struct db *db, const char *name, struct db_client *out);
int db_client_by_mac(struct db *db, const char *mac, struct db_client *out);
int db_client_by_iqn(struct db *db, const char *iqn, struct db_client *out);

/* Checks the fields every write must satisfy (name characters, MAC, IPv4), rewrites the MAC
 * in canonical form and derives the iqn. Insert and update call it; importers call it first
 * to report every bad row. The database's constraints catch the rest (uniqueness,
 * references). */
int db_client_check(struct db *db, struct db_client *c);
struct db_image;
struct db_server;
/* The same for an image (a name fit for a target name, an absolute path without '..' or
 * control characters) and a server (role, mark, addresses); 0 or -EINVAL with the message. */
int db_image_check(struct db *db, const struct db_image *img);
int db_server_check(struct db *db, const struct db_server *s);

/* Inserts c (id, iqn, both CHAP secrets, created, updated are set on return; secrets the
 * caller put in c are replaced). */
int db_client_insert(struct db *db, struct db_client *c);
/* Updates every field of the row with c->id but the CHAP secrets, which only
 * db_client_new_secrets changes; iqn follows the name. */
int db_client_update(struct db *db, struct db_client *c);
/* Gives client id two new CHAP secrets. If c is not NULL its secrets and updated are set to
 * the new values (IN/OUT: the rest of c is left alone). */
int db_client_new_secrets(struct db *db, int64_t id, struct db_client *c);

/* A fresh secret of DB_SECRET_LEN characters [A-Za-z0-9] from getrandom(2), without modulo
 * bias. Returns 0 or a negative errno; never falls back to a weaker source. */
int db_secret_generate(char out[DB_SECRET_MAX]);
/* Whether s is a well-formed secret (length and characters). */
int db_secret_valid(const char *s);
int db_client_delete(struct db *db, int64_t id);
/* Records a PXE boot now. */
int db_client_boot(struct db *db, int64_t id);

/* How many clients have auto_registered set. */
int db_client_count_auto(struct db *db, int64_t *n);
/* How many enabled clients have hot_standby set. */
int db_client_count_hot_standby(struct db *db, int64_t *n);

/* All clients ordered by name; *out is an array the caller frees. */
int db_client_all(struct db *db, struct db_client **out, size_t *n);

/* The next free name PREFIX<digits> after the highest existing one (auto-registration),
 * keeping the widest digit count in use (PC080 -> PC081). */
int db_client_next_name(struct db *db, const char *prefix, char out[DB_NAME_MAX]);

/* Servers of the pair. role: "primary" or "secondary"; mark: "active", "maintenance",
 * "disabled". */
struct db_server {
	int64_t id;
	char name[DB_NAME_MAX];
	char role[16];
	char service_addr[DB_ADDR_MAX];
	char ha_addr[DB_ADDR_MAX];
	char mark[16];
};

int db_server_insert(struct db *db, struct db_server *s);
int db_server_update(struct db *db, const struct db_server *s);
int db_server_by_name(struct db *db, const char *name, struct db_server *out);
int db_server_all(struct db *db, struct db_server **out, size_t *n);

struct db_image {
	int64_t id;
	char name[DB_NAME_MAX];
	char path[DB_PATH_MAX];
	int64_t size;			/* bytes */
};

int db_image_insert(struct db *db, struct db_image *img);
int db_image_by_name(struct db *db, const char *name, struct db_image *out);
int db_image_all(struct db *db, struct db_image **out, size_t *n);

struct db_group {
	int64_t id;
	char name[DB_NAME_MAX];
	char image[DB_NAME_MAX];	/* default image for clients added to it, "" if none */
};

int db_group_insert(struct db *db, struct db_group *g);
int db_group_by_name(struct db *db, const char *name, struct db_group *out);
int db_group_all(struct db *db, struct db_group **out, size_t *n);

/* Settings: small key/value pairs (auto_register, auto_register_group, iqn_prefix...).
 * db_setting_get copies the value into buf; -ENOENT if unset. */
int db_setting_get(struct db *db, const char *key, char *buf, size_t len);
int db_setting_set(struct db *db, const char *key, const char *value);

/* Events the admin must see. level: "info", "warning", "error". */
struct db_event {
	int64_t id;
	int64_t time;			/* unix seconds */
	char level[16];
	char source[32];
	char message[512];
};

__attribute__((format(printf, 4, 5)))
int db_event_add(struct db *db, const char *level, const char *source, const char *fmt, ...);
/* The newest `limit` events (all when 0), oldest first. */
int db_event_recent(struct db *db, unsigned limit, struct db_event **out, size_t *n);

#endif
