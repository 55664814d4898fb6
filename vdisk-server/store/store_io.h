/* The disk system calls of the stores' workers and of the mirror's state file
 * (mirror_meta.c), as full-length operations returning 0 or a negative errno the SCSI layer
 * understands (-EIO, -ENOSPC, -EROFS), plus iovec slicing. Every call goes through one test
 * hook so unit tests can inject I/O errors and a full disk at any step (the fault sweeps in
 * test_store_overlay.c and test_vdiskd_mirror.c). */
#ifndef VDISK_STORE_IO_H
#define VDISK_STORE_IO_H

#include <stddef.h>
#include <stdint.h>
#include <sys/uio.h>

enum store_io_kind {
	STORE_IO_READ,
	STORE_IO_WRITE,
	STORE_IO_SYNC,
	STORE_IO_PUNCH,
};

/* Test hook, called before every disk call: 0 lets it run, a negative errno fails it. Called
 * from worker threads, so it must be thread-safe. NULL (the default) disables it. */
typedef int (*store_fault_fn)(void *arg, enum store_io_kind kind, int fd, uint64_t offset,
			      uint64_t length);
void store_io_set_fault(store_fault_fn fn, void *arg);

/* Reads or writes exactly length bytes (the sum of iov's lengths); short transfers are
 * retried, end of file is -EIO. flags for the write: 0 or RWF_DSYNC. */
int sio_preadv(int fd, const struct iovec *iov, int iovcnt, uint64_t offset, uint64_t length);
/* The same read only if it can be served from the page cache at once (RWF_NOWAIT), so the
 * loop thread may call it; -EAGAIN when it cannot (not cached, or not supported here). */
int sio_preadv_nowait(int fd, const struct iovec *iov, int iovcnt, uint64_t offset,
		      uint64_t length);
int sio_pwritev(int fd, const struct iovec *iov, int iovcnt, uint64_t offset, uint64_t length,
		int flags);
int sio_fdatasync(int fd);
/* Deallocates the range; the file size is kept. */
int sio_punch(int fd, uint64_t offset, uint64_t length);

/* Size in bytes of a regular file or a block device. */
int sio_fd_size(int fd, uint64_t *size);

/* Points out[] at the bytes [skip, skip + len) of iov without copying; fills at most outmax
 * entries and returns how many; *got is how many bytes they cover (less than len only when
 * outmax ran out: the caller continues from skip + *got). */
int iov_slice(const struct iovec *iov, int iovcnt, uint64_t skip, uint64_t len,
	      struct iovec *out, int outmax, uint64_t *got);
/* Copies len bytes starting skip bytes into iov to buf. */
void iov_to_buf(const struct iovec *iov, int iovcnt, uint64_t skip, uint64_t len, void *buf);

#endif
