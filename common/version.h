/* The product's version, one for every program: debian/changelog's first entry, which the
 * Makefile passes to common/version.c alone (so a new version recompiles one file). */
#ifndef COMMON_VERSION_H
#define COMMON_VERSION_H

extern const char vdisk_version[];

/* `PROG (vdisk) VERSION` on stdout, for --version. */
void version_print(const char *prog);

#endif
