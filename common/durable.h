/* Durability of a file's name, as opposed to its data. */
#ifndef COMMON_DURABLE_H
#define COMMON_DURABLE_H

/* fsyncs the directory holding path, so that a file created or renamed there is found after
 * a power loss (fsync of the file makes its data durable, not its directory entry).
 * 0, or -errno. */
int fsync_dir_of(const char *path);

#endif
