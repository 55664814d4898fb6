/* The servers of the pair. The database enforces one primary and one secondary. */
#include <errno.h>
#include <string.h>

#include "common/netaddr.h"
#include "db/db_internal.h"

static void read_server(sqlite3_stmt *st, void *row)
{
	struct db_server *s = row;

	s->id = sqlite3_column_int64(st, 0);
	db_column_copy(st, 1, s->name, sizeof(s->name));
	db_column_copy(st, 2, s->role, sizeof(s->role));
	db_column_copy(st, 3, s->service_addr, sizeof(s->service_addr));
	db_column_copy(st, 4, s->ha_addr, sizeof(s->ha_addr));
	db_column_copy(st, 5, s->mark, sizeof(s->mark));
}

int db_server_check(struct db *db, const struct db_server *s)
{
	uint32_t a;

	if (!s->name[0])
		return db_error(db, -EINVAL, "server name is empty");
	if (s->role[0] && strcmp(s->role, "primary") && strcmp(s->role, "secondary"))
		return db_error(db, -EINVAL, "role '%s' is not primary or secondary", s->role);
	if (strcmp(s->mark, "active") && strcmp(s->mark, "maintenance") &&
	    strcmp(s->mark, "disabled"))
		return db_error(db, -EINVAL, "mark '%s' is not active, maintenance or disabled",
				s->mark);
	if (s->service_addr[0] && ipv4_parse(s->service_addr, &a))
		return db_error(db, -EINVAL, "'%s' is not an IPv4 address", s->service_addr);
	if (s->ha_addr[0] && ipv4_parse(s->ha_addr, &a))
		return db_error(db, -EINVAL, "'%s' is not an IPv4 address", s->ha_addr);
	return 0;
}

static void bind_server_fields(sqlite3_stmt *st, const struct db_server *s)
{
	db_bind_text_or_null(st, 2, s->role);
	db_bind_text_or_null(st, 3, s->service_addr);
	db_bind_text_or_null(st, 4, s->ha_addr);
	sqlite3_bind_text(st, 5, s->mark, -1, SQLITE_STATIC);
}

/* A second primary or secondary trips the partial unique index on role. */
static int role_taken(struct db *db, int rc, const struct db_server *s)
{
	if (rc == -EEXIST && strstr(db->err, "servers.role"))
		return db_error(db, -EEXIST, "another server is already %s", s->role);
	return rc;
}

int db_server_insert(struct db *db, struct db_server *s)
{
	sqlite3_stmt *st;
	int rc = db_server_check(db, s);

	if (rc)
		return rc;
	st = db_stmt(db, STMT_SERVER_INSERT);
	if (!st)
		return -EIO;
	sqlite3_bind_text(st, 1, s->name, -1, SQLITE_STATIC);
	bind_server_fields(st, s);
	rc = db_exec_stmt(db, st);
	if (rc)
		return role_taken(db, rc, s);
	s->id = sqlite3_last_insert_rowid(db->h);
	return db_mark_changed(db);
}

int db_server_update(struct db *db, const struct db_server *s)
{
	sqlite3_stmt *st;
	int rc = db_server_check(db, s);

	if (rc)
		return rc;
	st = db_stmt(db, STMT_SERVER_UPDATE);
	if (!st)
		return -EIO;
	sqlite3_bind_int64(st, 1, s->id);
	bind_server_fields(st, s);
	rc = db_exec_stmt(db, st);
	if (rc)
		return role_taken(db, rc, s);
	return db_mark_changed(db);
}

int db_server_by_name(struct db *db, const char *name, struct db_server *out)
{
	sqlite3_stmt *st = db_stmt(db, STMT_SERVER_BY_NAME);
	int rc;

	if (!st)
		return -EIO;
	sqlite3_bind_text(st, 1, name, -1, SQLITE_STATIC);
	rc = db_read_one(db, st, read_server, out, "such server");
	if (rc == -ENOENT)
		db_error(db, rc, "no server %s", name);
	return rc;
}

int db_server_all(struct db *db, struct db_server **out, size_t *n)
{
	sqlite3_stmt *st = db_stmt(db, STMT_SERVER_ALL);

	if (!st)
		return -EIO;
	return db_collect_rows(db, st, sizeof(**out), read_server, (void **)out, n);
}
