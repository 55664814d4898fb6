/* Who may read a secret: its owner alone, or root's file read by its group; anything more
 * open is refused with the mode and the cures named. */
#include <errno.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/secretfile.h"
#include "tests/lib/tap.h"

static int check(uid_t uid, gid_t gid, unsigned mode, char *why, size_t len)
{
	struct stat sb;

	memset(&sb, 0, sizeof(sb));
	sb.st_mode = S_IFREG | mode;
	sb.st_uid = uid;
	sb.st_gid = gid;
	return secret_mode_check(&sb, why, len);
}

int main(void)
{
	gid_t stranger = 54321;		/* a group this test is not in */
	uid_t other = geteuid() == 4242 ? 4343 : 4242;
	char why[160] = "";

	ok(check(geteuid(), stranger, 0600, why, sizeof(why)) == 0, "mine, 600");
	ok(check(geteuid(), stranger, 0400, why, sizeof(why)) == 0, "mine, 400");
	ok(check(0, getegid(), 0640, why, sizeof(why)) == 0, "root's, 640, my group");
	ok(check(0, getegid(), 0440, why, sizeof(why)) == 0, "root's, 440, my group");
	ok(check(0, stranger, 0640, why, sizeof(why)) == 0,
	   "root's, 640, any group: the admin chose who reads it");
	ok(check(0, getegid(), 0660, why, sizeof(why)) == -EPERM,
	   "root's, 660: the group could change it, refused");
	ok(check(0, getegid(), 0644, why, sizeof(why)) == -EPERM, "root's, 644: refused");
	ok(check(geteuid(), getegid(), 0604, why, sizeof(why)) == -EPERM, "others may read: refused");
	ok(check(other, getegid(), 0600, why, sizeof(why)) == -EPERM,
	   "another user's, 600: refused (it is not root's)");
	ok(check(other, getegid(), 0640, why, sizeof(why)) == -EPERM,
	   "another user's, 640: refused");
	ok(check(0, stranger, 0600, why, sizeof(why)) == 0, "root's, 600");
	ok(strstr(why, "(mode 640)") && strstr(why, "chmod 600"), "why names the mode and the cure: %s",
	   why);
	return done_testing();
}
