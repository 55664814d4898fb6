/* The registry of open base images. Overlays open and close on the loop thread, but the
 * registry takes a mutex anyway: it is not on any I/O path and tools may open stores from
 * other threads. */
#include "vdisk-server/store/store_base.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/log.h"
#include "vdisk-server/store/store.h"
#include "vdisk-server/store/store_io.h"

struct base_entry {
	struct store_base base;	/* first, so a store_base pointer is the entry */
	dev_t dev;
	ino_t ino;
	unsigned refs;
	struct base_entry *next;
};

static pthread_mutex_t registry_lock = PTHREAD_MUTEX_INITIALIZER;
static struct base_entry *registry;

static int base_open(const char *path, struct base_entry **out)
{
	struct base_entry *e;
	struct stat sb;
	int rc;

	e = calloc(1, sizeof(*e));
	if (!e)
		return -ENOMEM;
	e->base.fd = open(path, O_RDONLY | O_CLOEXEC);
	if (e->base.fd < 0) {
		rc = -errno;
		log_err("store: base image %s: %m", path);
		goto out_free_entry;
	}
	if (fstat(e->base.fd, &sb) < 0 || sio_fd_size(e->base.fd, &e->base.size) < 0) {
		rc = -EINVAL;
		log_err("store: base image %s: not a regular file or block device", path);
		goto out_close_fd;
	}
	e->base.size -= e->base.size % STORE_BLOCK_SIZE;
	if (!e->base.size) {
		rc = -EINVAL;
		log_err("store: base image %s: smaller than one %u-byte block", path,
			STORE_BLOCK_SIZE);
		goto out_close_fd;
	}
	e->dev = sb.st_dev;
	e->ino = sb.st_ino;
	e->refs = 1;
	*out = e;
	return 0;

out_close_fd:
	close(e->base.fd);
out_free_entry:
	free(e);
	return rc;
}

int store_base_get(const char *path, struct store_base **out)
{
	struct base_entry *e;
	struct stat sb;
	int rc;

	if (stat(path, &sb) < 0) {
		rc = -errno;
		log_err("store: base image %s: %m", path);
		return rc;
	}
	pthread_mutex_lock(&registry_lock);
	for (e = registry; e; e = e->next)
		if (e->dev == sb.st_dev && e->ino == sb.st_ino)
			break;
	if (e) {
		e->refs++;
		rc = 0;
	} else {
		rc = base_open(path, &e);
		if (!rc) {
			e->next = registry;
			registry = e;
		}
	}
	pthread_mutex_unlock(&registry_lock);
	if (!rc)
		*out = &e->base;
	return rc;
}

void store_base_put(struct store_base *base)
{
	struct base_entry *e = (struct base_entry *)base, **pp;

	pthread_mutex_lock(&registry_lock);
	if (--e->refs) {
		pthread_mutex_unlock(&registry_lock);
		return;
	}
	for (pp = &registry; *pp != e; pp = &(*pp)->next)
		;
	*pp = e->next;
	pthread_mutex_unlock(&registry_lock);
	close(e->base.fd);
	free(e);
}
