/* Private to the store: read-only base images, opened once per file (device and inode, so two
 * spellings of one path share it) and shared by every overlay on that image. */
#ifndef VDISK_STORE_BASE_H
#define VDISK_STORE_BASE_H

#include <stdint.h>

struct store_base {
	int fd;		/* O_RDONLY; workers pread it concurrently */
	uint64_t size;	/* bytes, rounded down to STORE_BLOCK_SIZE */
};

/* Returns the shared base for path, opening it on first use; 0 or a negative errno (logged). */
int store_base_get(const char *path, struct store_base **out);
/* Drops one reference; the last one closes the file. */
void store_base_put(struct store_base *base);

#endif
