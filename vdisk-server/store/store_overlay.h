/* Private to the store (and its tests and benchmarks): the overlay with a chosen chunk size.
 * store_overlay_open() uses STORE_OVERLAY_CHUNK; docs/image-store.md says why that size. */
#ifndef VDISK_STORE_OVERLAY_H
#define VDISK_STORE_OVERLAY_H

#include "vdisk-server/store/store.h"

#define STORE_OVERLAY_CHUNK (16u * 1024)
#define STORE_OVERLAY_MIN_CHUNK 4096u
#define STORE_OVERLAY_MAX_CHUNK (4u * 1024 * 1024)

/* chunk: a power of two within the limits above; used only when the overlay is created (an
 * existing overlay keeps the chunk size its map records). */
int store_overlay_open_chunk(struct store_pool *pool, const char *base_path,
			     const char *overlay_path, unsigned chunk, struct store **out);

#endif
