/* Privilege: pxed parses packets from every PC on the LAN, so once its sockets are open it
 * keeps only the capabilities it still uses (STYLE practice 10):
 *   CAP_NET_ADMIN        ARP entries for unicast replies (SIOCSARP)
 *   CAP_KILL             stopping in.tftpd, which runs as tftp_user
 *   CAP_NET_BIND_SERVICE, CAP_SETUID, CAP_SETGID, CAP_SYS_CHROOT
 *                        for in.tftpd when it is restarted (port 69, --secure, --user)
 * Everything else leaves the permitted, effective, inheritable and bounding sets, so neither
 * pxed nor the in.tftpd it starts can get it back. pxed stays uid 0: it owns the DB, the
 * leases and the TFTP root as root does. */
#ifndef PXE_PRIVS_H
#define PXE_PRIVS_H

/* Returns 0 or a negative errno (nothing to drop is not an error when not root). */
int privs_limit(void);

#endif
