#include "vdisk-server/store/store_io.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/fs.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <unistd.h>

/* iovecs handed to one system call; more are sent in further calls. */
#define SIO_IOV_BATCH 256

static store_fault_fn fault_fn;
static void *fault_arg;

void store_io_set_fault(store_fault_fn fn, void *arg)
{
	__atomic_store_n(&fault_arg, arg, __ATOMIC_RELEASE);
	__atomic_store_n(&fault_fn, fn, __ATOMIC_RELEASE);
}

static int fault(enum store_io_kind kind, int fd, uint64_t offset, uint64_t length)
{
	store_fault_fn fn = __atomic_load_n(&fault_fn, __ATOMIC_ACQUIRE);

	return fn ? fn(__atomic_load_n(&fault_arg, __ATOMIC_ACQUIRE), kind, fd, offset, length) : 0;
}

/* The SCSI layer turns these into sense data: out of space and a read-only medium have their
 * own; everything else the disk says is a medium error. */
static int sio_err(int err)
{
	switch (err) {
	case ENOSPC:
	case EDQUOT:
		return -ENOSPC;
	case EROFS:
		return -EROFS;
	default:
		return -EIO;
	}
}

int iov_slice(const struct iovec *iov, int iovcnt, uint64_t skip, uint64_t len,
	      struct iovec *out, int outmax, uint64_t *got)
{
	int i, n = 0;
	uint64_t covered = 0;

	for (i = 0; i < iovcnt && skip >= iov[i].iov_len; i++)
		skip -= iov[i].iov_len;
	for (; i < iovcnt && covered < len && n < outmax; i++) {
		uint64_t take = iov[i].iov_len - skip;
		if (take > len - covered)
			take = len - covered;
		out[n].iov_base = (char *)iov[i].iov_base + skip;
		out[n].iov_len = take;
		n++;
		covered += take;
		skip = 0;
	}
	*got = covered;
	return n;
}

void iov_to_buf(const struct iovec *iov, int iovcnt, uint64_t skip, uint64_t len, void *buf)
{
	struct iovec part[SIO_IOV_BATCH];
	uint64_t got, done = 0;
	int i, n;

	while (done < len) {
		n = iov_slice(iov, iovcnt, skip + done, len - done, part, SIO_IOV_BATCH, &got);
		if (!got)
			return;
		for (i = 0; i < n; i++) {
			memcpy((char *)buf + done, part[i].iov_base, part[i].iov_len);
			done += part[i].iov_len;
		}
	}
}

static int sio_rw(int is_write, int fd, const struct iovec *iov, int iovcnt, uint64_t offset,
		  uint64_t length, int flags)
{
	struct iovec part[SIO_IOV_BATCH];
	uint64_t got, done = 0;
	ssize_t r;
	int n, rc;

	rc = fault(is_write ? STORE_IO_WRITE : STORE_IO_READ, fd, offset, length);
	if (rc)
		return rc;
	while (done < length) {
		n = iov_slice(iov, iovcnt, done, length - done, part, SIO_IOV_BATCH, &got);
		if (!got)
			return -EINVAL;	/* iov shorter than length: the caller's bug */
		if (is_write)
			r = pwritev2(fd, part, n, (off_t)(offset + done), flags);
		else
			r = preadv2(fd, part, n, (off_t)(offset + done), flags);
		if (r < 0) {
			if (errno == EINTR)
				continue;
			if (flags & RWF_NOWAIT)
				return -EAGAIN;	/* the worker will do it the blocking way */
			return sio_err(errno);
		}
		if ((flags & RWF_NOWAIT) && (uint64_t)r < got)
			return -EAGAIN;	/* partly cached: redone whole by a worker */
		if (r == 0)
			return -EIO;	/* end of file inside the store's size: truncated */
		done += (uint64_t)r;
	}
	return 0;
}

int sio_preadv(int fd, const struct iovec *iov, int iovcnt, uint64_t offset, uint64_t length)
{
	return sio_rw(0, fd, iov, iovcnt, offset, length, 0);
}

int sio_preadv_nowait(int fd, const struct iovec *iov, int iovcnt, uint64_t offset,
		      uint64_t length)
{
	return sio_rw(0, fd, iov, iovcnt, offset, length, RWF_NOWAIT);
}

int sio_pwritev(int fd, const struct iovec *iov, int iovcnt, uint64_t offset, uint64_t length,
		int flags)
{
	return sio_rw(1, fd, iov, iovcnt, offset, length, flags);
}

int sio_fdatasync(int fd)
{
	int rc = fault(STORE_IO_SYNC, fd, 0, 0);

	if (rc)
		return rc;
	if (fdatasync(fd) < 0)
		return sio_err(errno);
	return 0;
}

int sio_punch(int fd, uint64_t offset, uint64_t length)
{
	int rc = fault(STORE_IO_PUNCH, fd, offset, length);

	if (rc)
		return rc;
	if (fallocate(fd, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE, (off_t)offset,
		      (off_t)length) < 0)
		return errno == EOPNOTSUPP ? -EOPNOTSUPP : sio_err(errno);
	return 0;
}

int sio_fd_size(int fd, uint64_t *size)
{
	struct stat sb;

	if (fstat(fd, &sb) < 0)
		return -errno;
	if (S_ISREG(sb.st_mode)) {
		*size = (uint64_t)sb.st_size;
		return 0;
	}
	if (S_ISBLK(sb.st_mode))
		return ioctl(fd, BLKGETSIZE64, size) < 0 ? -errno : 0;
	return -EINVAL;
}
