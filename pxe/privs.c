#include "pxe/privs.h"

#include <errno.h>
#include <grp.h>
#include <linux/capability.h>
#include <pwd.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <unistd.h>

static const int keep[] = {
	CAP_NET_ADMIN, CAP_KILL, CAP_NET_BIND_SERVICE, CAP_SETUID, CAP_SETGID, CAP_SYS_CHROOT,
};
/* what a restarted in.tftpd needs, once pxed is no longer root */
static const int for_tftpd[] = {
	CAP_NET_BIND_SERVICE, CAP_SETUID, CAP_SETGID, CAP_SYS_CHROOT,
};

static int kept(int cap)
{
	size_t i;

	for (i = 0; i < sizeof(keep) / sizeof(keep[0]); i++)
		if (keep[i] == cap)
			return 1;
	return 0;
}

int privs_user_check(const char *user, char *err, size_t errlen)
{
	if (*user && !getpwnam(user)) {
		snprintf(err, errlen, "user %s: no such user on this machine", user);
		return -ENOENT;
	}
	return 0;
}

int privs_give(const char *path, const char *user)
{
	const struct passwd *pw;

	if (!*user)
		return 0;
	pw = getpwnam(user);
	if (!pw)
		return -ENOENT;
	return chown(path, pw->pw_uid, pw->pw_gid) < 0 ? -errno : 0;
}

/* Becomes user, its capabilities kept across the change of uid (PR_SET_KEEPCAPS). */
static int become(const char *user)
{
	const struct passwd *pw = getpwnam(user);

	if (!pw)
		return -ENOENT;
	if (prctl(PR_SET_KEEPCAPS, 1, 0, 0, 0) < 0 || initgroups(user, pw->pw_gid) < 0 ||
	    setgid(pw->pw_gid) < 0 || setuid(pw->pw_uid) < 0)
		return -errno;
	return 0;
}

int privs_limit(const char *user)
{
	struct __user_cap_header_struct hdr = { _LINUX_CAPABILITY_VERSION_3, 0 };
	struct __user_cap_data_struct data[2];
	uint32_t mask[2] = { 0, 0 }, tftpd_mask[2] = { 0, 0 };
	size_t i;
	int cap, rc;

	for (i = 0; i < sizeof(keep) / sizeof(keep[0]); i++)
		mask[keep[i] / 32] |= 1u << (keep[i] % 32);
	for (i = 0; i < sizeof(for_tftpd) / sizeof(for_tftpd[0]); i++)
		tftpd_mask[for_tftpd[i] / 32] |= 1u << (for_tftpd[i] % 32);
	/* The bounding set first: dropping from it needs CAP_SETPCAP, which goes next. The
	 * kernel answers EINVAL past its last capability. */
	for (cap = 0; cap < 64; cap++) {
		if (kept(cap))
			continue;
		if (prctl(PR_CAPBSET_DROP, cap, 0, 0, 0) < 0) {
			if (errno == EINVAL)
				break;
			if (errno != EPERM)
				return -errno;
		}
	}
	if (*user) {
		rc = become(user);
		if (rc)
			return rc;
	}
	if (syscall(SYS_capget, &hdr, data) < 0)
		return -errno;
	/* A new uid leaves the effective set empty: it is made again from what is permitted,
	 * less in.tftpd's four, which pxed itself never uses once it is not root. */
	for (i = 0; i < 2; i++) {
		data[i].permitted &= mask[i];
		data[i].effective = data[i].permitted;
		data[i].inheritable &= mask[i];
		if (*user) {
			data[i].inheritable = data[i].permitted;
			data[i].effective &= ~tftpd_mask[i];
		}
	}
	if (syscall(SYS_capset, &hdr, data) < 0)
		return -errno;
	if (!*user)
		return 0;
	/* No longer root, pxed passes nothing to in.tftpd by execve's rules for uid 0: the
	 * capabilities it needs go as ambient ones. */
	for (i = 0; i < sizeof(for_tftpd) / sizeof(for_tftpd[0]); i++)
		if (prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_RAISE, for_tftpd[i], 0, 0) < 0)
			return -errno;
	return 0;
}
