#include "db/statements.h"

/* Parameters are always bound (?N); no statement is ever assembled from a user's string.
 * Column lists of SELECTs match the readers in clients.c, servers.c, ... */
#define CLIENT_COLS "id, name, mac, ifnull(ip,''), ifnull(grp,''), ifnull(image,''), " \
	"ifnull(server,''), hot_standby, overlay, enabled, iqn, created, updated, ifnull(last_boot,0), " \
	"chap_secret, chap_target_secret, auto_registered"

const char *const db_statement_sql[STMT_COUNT] = {
	[STMT_BEGIN]           = "BEGIN IMMEDIATE",
	[STMT_COMMIT]          = "COMMIT",
	[STMT_ROLLBACK]        = "ROLLBACK",
	[STMT_BUMP_CHANGE_SEQ] = "UPDATE settings SET value = CAST(value AS INTEGER) + 1 "
				 "WHERE key = 'change_seq'",
	[STMT_CHANGE_SEQ]      = "SELECT CAST(value AS INTEGER) FROM settings WHERE key = 'change_seq'",

	[STMT_CLIENT_BY_NAME]  = "SELECT " CLIENT_COLS " FROM clients WHERE name = ?1",
	[STMT_CLIENT_BY_MAC]   = "SELECT " CLIENT_COLS " FROM clients WHERE mac = ?1",
	[STMT_CLIENT_BY_IQN]   = "SELECT " CLIENT_COLS " FROM clients WHERE iqn = ?1",
	[STMT_CLIENT_ALL]      = "SELECT " CLIENT_COLS " FROM clients ORDER BY name",
	[STMT_CLIENT_INSERT]   = "INSERT INTO clients (name, mac, ip, grp, image, server, "
				 "hot_standby, overlay, enabled, iqn, created, updated, chap_secret, "
				 "chap_target_secret, auto_registered) "
				 "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?11, ?12, ?13, ?14)",
	[STMT_CLIENT_UPDATE]   = "UPDATE clients SET name = ?2, mac = ?3, ip = ?4, grp = ?5, "
				 "image = ?6, server = ?7, hot_standby = ?8, overlay = ?9, "
				 "enabled = ?10, iqn = ?11, updated = ?12, auto_registered = ?13 "
				 "WHERE id = ?1",
	[STMT_CLIENT_SECRETS]  = "UPDATE clients SET chap_secret = ?2, chap_target_secret = ?3, "
				 "updated = ?4 WHERE id = ?1",
	[STMT_CLIENT_COUNT_AUTO] = "SELECT count(*) FROM clients WHERE auto_registered = 1",
	[STMT_CLIENT_COUNT_HOT] = "SELECT count(*) FROM clients WHERE hot_standby = 1 AND enabled = 1",
	[STMT_CLIENT_DELETE]   = "DELETE FROM clients WHERE id = ?1",
	[STMT_CLIENT_BOOT]     = "UPDATE clients SET last_boot = ?2 WHERE id = ?1",
	[STMT_CLIENT_NAMES_LIKE] = "SELECT name FROM clients WHERE substr(name, 1, ?2) = ?1 "
				 "COLLATE NOCASE",

	[STMT_SERVER_INSERT]   = "INSERT INTO servers (name, role, service_addr, ha_addr, mark) "
				 "VALUES (?1, ?2, ?3, ?4, ?5)",
	[STMT_SERVER_UPDATE]   = "UPDATE servers SET role = ?2, service_addr = ?3, ha_addr = ?4, "
				 "mark = ?5 WHERE id = ?1",
	[STMT_SERVER_BY_NAME]  = "SELECT id, name, ifnull(role,''), ifnull(service_addr,''), "
				 "ifnull(ha_addr,''), mark FROM servers WHERE name = ?1",
	[STMT_SERVER_ALL]      = "SELECT id, name, ifnull(role,''), ifnull(service_addr,''), "
				 "ifnull(ha_addr,''), mark FROM servers ORDER BY name",

	[STMT_IMAGE_INSERT]    = "INSERT INTO images (name, path, size) VALUES (?1, ?2, ?3)",
	[STMT_IMAGE_BY_NAME]   = "SELECT id, name, path, size FROM images WHERE name = ?1",
	[STMT_IMAGE_ALL]       = "SELECT id, name, path, size FROM images ORDER BY name",

	[STMT_GROUP_INSERT]    = "INSERT INTO groups (name, image) VALUES (?1, ?2)",
	[STMT_GROUP_BY_NAME]   = "SELECT id, name, ifnull(image,'') FROM groups WHERE name = ?1",
	[STMT_GROUP_ALL]       = "SELECT id, name, ifnull(image,'') FROM groups ORDER BY name",

	[STMT_SETTING_GET]     = "SELECT value FROM settings WHERE key = ?1",
	[STMT_SETTING_SET]     = "INSERT INTO settings (key, value) VALUES (?1, ?2) "
				 "ON CONFLICT (key) DO UPDATE SET value = excluded.value",

	[STMT_EVENT_ADD]       = "INSERT INTO events (time, level, source, message) "
				 "VALUES (?1, ?2, ?3, ?4)",
	[STMT_EVENT_RECENT]    = "SELECT id, time, level, source, message FROM "
				 "(SELECT * FROM events ORDER BY id DESC LIMIT ?1) ORDER BY id",
};
