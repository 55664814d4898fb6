/* Privilege: pxed parses packets from every PC on the LAN, so once its sockets are open it
 * keeps only the capabilities it still uses (STYLE practice 10):
 *   CAP_NET_ADMIN        ARP entries for unicast replies (SIOCSARP)
 *   CAP_KILL             stopping in.tftpd, which runs as tftp_user
 *   CAP_NET_BIND_SERVICE, CAP_SETUID, CAP_SETGID, CAP_SYS_CHROOT
 *                        for in.tftpd when it is restarted (port 69, --secure, --user)
 * Everything else leaves the permitted, effective, inheritable and bounding sets, so neither
 * pxed nor the in.tftpd it starts can get it back. With pxed.conf's `user` it also stops
 * being root: it becomes that user, with that user's groups (on a packaged server vdisk-pxe
 * of the group vdisk, through which it writes the database and reaches vdiskd), keeps
 * NET_ADMIN and KILL, and hands the four others to in.tftpd as ambient capabilities. */
#ifndef PXE_PRIVS_H
#define PXE_PRIVS_H

#include <stddef.h>

/* 0 when user is "" or names a user of this machine; otherwise -ENOENT and why in err. */
int privs_user_check(const char *user, char *err, size_t errlen);

/* Gives path (a directory pxed just made as root) to user; nothing for "". 0 or -errno. */
int privs_give(const char *path, const char *user);

/* Drops what pxed no longer needs, and becomes user unless it is "". Returns 0 or a negative
 * errno (nothing to drop is not an error when not root). */
int privs_limit(const char *user);

#endif
