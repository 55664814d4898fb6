/* The target `vdiskctl image sync` on the peer logs in to on this server's replica listener:
 * "<target_iqn>:image.<NAME>", LU 0 the base image file for NAME opened read-write, with the
 * pair's CHAP credentials. db_targets.c decides whether a login may have one (secondary, no
 * disk using the image); this file owns the open ones. */
#ifndef VDISK_IMAGE_SYNC_TARGET_H
#define VDISK_IMAGE_SYNC_TARGET_H

#include "vdisk-server/iscsi/iscsi_target.h"

/* Opens the target for image (its file at path). 0 and *out, or a negative errno (logged). */
int image_sync_open(struct store_pool *pool, const char *target_name, const char *image,
		    const char *path, const struct chap_cred *chap, struct iscsi_target **out);
/* Whether tgt came from image_sync_open. */
int image_sync_owns(const struct iscsi_target *tgt);
/* The session on tgt ended: closes the image file. */
void image_sync_close(struct iscsi_target *tgt);
/* Whether image is open for a sync (disks of that image must wait). */
int image_sync_busy(const char *image);
/* This server became primary: drops every sync session on srv (the replica listener). */
void image_sync_drop_all(struct iscsi_server *srv);

#endif
