/* Open image-sync targets; see image_sync_target.h. A process has one replica listener, so
 * the open ones are one list here; syncs are rare and few (one per image at most). */
#include "vdisk-server/image_sync_target.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "common/log.h"
#include "vdisk-server/scsi/image_sync_lu.h"

struct image_sync {
	struct iscsi_target tgt;	/* first: the provider gets it back in detach */
	struct scsi_lu lu;
	struct store *st;
	struct image_sync *next;
	char image[];
};

static struct image_sync *syncs;

int image_sync_open(struct store_pool *pool, const char *target_name, const char *image,
		    const char *path, const struct chap_cred *chap, struct iscsi_target **out)
{
	size_t ilen = strlen(image);
	struct image_sync *s;
	struct stat sb;
	int rc;

	if (strlen(target_name) >= sizeof(s->tgt.name))
		return -ENAMETOOLONG;
	s = calloc(1, sizeof(*s) + ilen + 1);
	if (!s)
		return -ENOMEM;
	memcpy(s->image, image, ilen + 1);
	if (stat(path, &sb) < 0) {
		rc = -errno;
		goto out_free;
	}
	if (!S_ISBLK(sb.st_mode) && (!S_ISREG(sb.st_mode) || sb.st_size % STORE_BLOCK_SIZE)) {
		/* the LU would hide the tail past the last whole sector, which the mirror's
		 * fingerprint (and any reader of the file) still sees */
		rc = -EINVAL;
		goto out_free;
	}
	rc = store_raw_open(pool, path, 0, &s->st);
	if (rc < 0)
		goto out_free;
	/* the identity of the image's file, not of any client's disk */
	rc = scsi_lu_init(&s->lu, s->st, target_name);
	if (rc < 0)
		goto out_close_store;
	image_sync_lu_attach(&s->lu);
	strcpy(s->tgt.name, target_name);
	s->tgt.scsi.lu[0] = &s->lu;
	s->tgt.scsi.nlu = 1;
	s->tgt.chap = *chap;
	s->tgt.priv = s;
	s->next = syncs;
	syncs = s;
	log_info("image sync: %s (%s, %llu bytes) opened for the peer", image, path,
		   (unsigned long long)s->st->size);
	*out = &s->tgt;
	return 0;
out_close_store:
	store_close(s->st);
out_free:
	log_err("image sync: %s: cannot open %s: %s", image, path,
		rc == -EINVAL ? "not a block device or a file of whole 512-byte sectors" : strerror(-rc));
	free(s);
	return rc;
}

int image_sync_owns(const struct iscsi_target *tgt)
{
	for (struct image_sync *s = syncs; s; s = s->next)
		if (&s->tgt == tgt)
			return 1;
	return 0;
}

void image_sync_close(struct iscsi_target *tgt)
{
	struct image_sync *s = tgt->priv;

	for (struct image_sync **pp = &syncs; *pp; pp = &(*pp)->next) {
		if (*pp == s) {
			*pp = s->next;
			break;
		}
	}
	log_notice("image sync: %s closed (%llu writes, %llu bytes written)", s->image,
		   (unsigned long long)s->lu.writes, (unsigned long long)s->lu.bytes_written);
	scsi_lu_fini(&s->lu);
	store_close(s->st);
	free(s);
}

int image_sync_busy(const char *image)
{
	for (struct image_sync *s = syncs; s; s = s->next)
		if (strcmp(s->image, image) == 0)
			return 1;
	return 0;
}

void image_sync_drop_all(struct iscsi_server *srv)
{
	for (struct image_sync *s = syncs, *next; s; s = next) {
		next = s->next;
		iscsi_server_drop_target(srv, &s->tgt);
	}
}
