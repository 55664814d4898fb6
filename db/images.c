/* Base images and client groups: what clients refer to by name. */
#include <errno.h>
#include <string.h>

#include "db/db_internal.h"

static void read_image(sqlite3_stmt *st, void *row)
{
	struct db_image *img = row;

	img->id = sqlite3_column_int64(st, 0);
	db_column_copy(st, 1, img->name, sizeof(img->name));
	db_column_copy(st, 2, img->path, sizeof(img->path));
	img->size = sqlite3_column_int64(st, 3);
}

/* Whether path has a ".." component. */
static int climbs(const char *path)
{
	size_t n = strlen(path);

	return strstr(path, "/../") || (n >= 3 && strcmp(path + n - 3, "/..") == 0);
}

int db_image_check(struct db *db, const struct db_image *img)
{
	if (!img->name[0] || !img->path[0])
		return db_error(db, -EINVAL, "an image needs a name and a path");
	for (const char *p = img->name; *p; p++)
		if (*p == '/' || (unsigned char)*p <= ' ' || *p == 0x7f)
			return db_error(db, -EINVAL, "image name '%s': no '/', blank or control "
					"character", img->name);
	if (img->path[0] != '/' || climbs(img->path))
		return db_error(db, -EINVAL, "image path '%s': an absolute path without '..'",
				img->path);
	for (const char *p = img->path; *p; p++)
		if ((unsigned char)*p < ' ' || *p == 0x7f)
			return db_error(db, -EINVAL, "image path of '%s' has a control character",
					img->name);
	if (img->size < 0)
		return db_error(db, -EINVAL, "image size is negative");
	return 0;
}

int db_image_insert(struct db *db, struct db_image *img)
{
	sqlite3_stmt *st;
	int rc;

	rc = db_image_check(db, img);
	if (rc)
		return rc;
	st = db_stmt(db, STMT_IMAGE_INSERT);
	if (!st)
		return -EIO;
	sqlite3_bind_text(st, 1, img->name, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, img->path, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 3, img->size);
	rc = db_exec_stmt(db, st);
	if (rc)
		return rc;
	img->id = sqlite3_last_insert_rowid(db->h);
	return db_mark_changed(db);
}

int db_image_by_name(struct db *db, const char *name, struct db_image *out)
{
	sqlite3_stmt *st = db_stmt(db, STMT_IMAGE_BY_NAME);
	int rc;

	if (!st)
		return -EIO;
	sqlite3_bind_text(st, 1, name, -1, SQLITE_STATIC);
	rc = db_read_one(db, st, read_image, out, "such image");
	if (rc == -ENOENT)
		db_error(db, rc, "no image %s", name);
	return rc;
}

int db_image_all(struct db *db, struct db_image **out, size_t *n)
{
	sqlite3_stmt *st = db_stmt(db, STMT_IMAGE_ALL);

	if (!st)
		return -EIO;
	return db_collect_rows(db, st, sizeof(**out), read_image, (void **)out, n);
}

static void read_group(sqlite3_stmt *st, void *row)
{
	struct db_group *g = row;

	g->id = sqlite3_column_int64(st, 0);
	db_column_copy(st, 1, g->name, sizeof(g->name));
	db_column_copy(st, 2, g->image, sizeof(g->image));
}

int db_group_insert(struct db *db, struct db_group *g)
{
	sqlite3_stmt *st;
	int rc;

	if (!g->name[0])
		return db_error(db, -EINVAL, "group name is empty");
	st = db_stmt(db, STMT_GROUP_INSERT);
	if (!st)
		return -EIO;
	sqlite3_bind_text(st, 1, g->name, -1, SQLITE_STATIC);
	db_bind_text_or_null(st, 2, g->image);
	rc = db_exec_stmt(db, st);
	if (rc)
		return rc;
	g->id = sqlite3_last_insert_rowid(db->h);
	return db_mark_changed(db);
}

int db_group_by_name(struct db *db, const char *name, struct db_group *out)
{
	sqlite3_stmt *st = db_stmt(db, STMT_GROUP_BY_NAME);
	int rc;

	if (!st)
		return -EIO;
	sqlite3_bind_text(st, 1, name, -1, SQLITE_STATIC);
	rc = db_read_one(db, st, read_group, out, "such group");
	if (rc == -ENOENT)
		db_error(db, rc, "no group %s", name);
	return rc;
}

int db_group_all(struct db *db, struct db_group **out, size_t *n)
{
	sqlite3_stmt *st = db_stmt(db, STMT_GROUP_ALL);

	if (!st)
		return -EIO;
	return db_collect_rows(db, st, sizeof(**out), read_group, (void **)out, n);
}
