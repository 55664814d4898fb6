/* A consistent copy of a database while others use it: SQLite's online backup. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "db/db_internal.h"

#define BACKUP_BUSY_MS 10000	/* a writer holding the file this long fails the backup */

int db_backup_file(const char *src, const char *dst, char *err, size_t errlen)
{
	sqlite3 *from = NULL, *to = NULL;
	sqlite3_backup *b;
	int fd, rc, waited = 0;

	/* The copy holds every PC's CHAP secrets: root's alone, and never over another file. */
	fd = open(dst, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
	if (fd < 0) {
		rc = -errno;
		snprintf(err, errlen, "%s: %s", dst, strerror(errno));
		return rc;
	}
	close(fd);
	/* Read-only and without db_open's schema check: the point is to keep an old schema
	 * before it is upgraded. */
	rc = sqlite3_open_v2(src, &from, SQLITE_OPEN_READONLY, NULL);
	if (rc == SQLITE_OK)
		rc = sqlite3_open_v2(dst, &to, SQLITE_OPEN_READWRITE, NULL);
	if (rc != SQLITE_OK) {
		snprintf(err, errlen, "%s: %s", to ? dst : src,
			 sqlite3_errmsg(to ? to : from));
		goto out_fail;
	}
	b = sqlite3_backup_init(to, "main", from, "main");
	if (!b) {
		snprintf(err, errlen, "%s: %s", dst, sqlite3_errmsg(to));
		goto out_fail;
	}
	for (;;) {
		rc = sqlite3_backup_step(b, -1);
		if ((rc != SQLITE_BUSY && rc != SQLITE_LOCKED) || waited >= BACKUP_BUSY_MS)
			break;
		sqlite3_sleep(50);
		waited += 50;
	}
	sqlite3_backup_finish(b);
	if (rc != SQLITE_DONE) {
		snprintf(err, errlen, "%s: %s", src, sqlite3_errstr(rc));
		goto out_fail;
	}
	rc = sqlite3_close(to);
	to = NULL;
	if (rc != SQLITE_OK) {
		snprintf(err, errlen, "%s: %s", dst, sqlite3_errstr(rc));
		goto out_fail;
	}
	sqlite3_close(from);
	return 0;
out_fail:
	sqlite3_close(to);
	sqlite3_close(from);
	unlink(dst);
	return -EIO;
}
