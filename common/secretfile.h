/* Who may read a file that holds a secret (vdiskd's pair secret, a vdiskd.conf with a CHAP
 * secret in it). */
#ifndef COMMON_SECRETFILE_H
#define COMMON_SECRETFILE_H

#include <stddef.h>
#include <sys/stat.h>

/* 0 when the file sb describes keeps its secret, by PostgreSQL's rule for its key file:
 * owned by this process's user with no access for group or others (chmod 600), or owned by
 * root, readable by its group and by nothing more (chmod 640). The second form lets a daemon
 * that runs as its own user read a secret that stays root's to change (root:vdisk).
 * Otherwise -EPERM, and why names the mode and the two cures. */
int secret_mode_check(const struct stat *sb, char *why, size_t len);

#endif
