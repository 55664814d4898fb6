#include "common/version.h"

#include <stdio.h>

#ifndef VDISK_VERSION
#define VDISK_VERSION "unknown"
#endif

const char vdisk_version[] = VDISK_VERSION;

void version_print(const char *prog)
{
	printf("%s (vdisk) %s\n", prog, vdisk_version);
}
