/* Who may read a file that holds a secret; see secretfile.h. */
#include "common/secretfile.h"

#include <errno.h>
#include <stdio.h>
#include <unistd.h>

int secret_mode_check(const struct stat *sb, char *why, size_t len)
{
	unsigned mode = sb->st_mode & 0777;

	if (sb->st_uid == geteuid() && !(mode & 077))
		return 0;
	if (sb->st_uid == 0 && !(mode & 037))
		return 0;
	snprintf(why, len, "readable by group or others (mode %03o): chmod 600 it, or chown "
		 "root:GROUP and chmod 640 for a daemon of that group", mode);
	return -EPERM;
}
