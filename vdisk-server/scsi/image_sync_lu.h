/* The logical unit `vdiskctl image sync` writes on the peer: a base image file as a raw store,
 * answering READ DIGESTS (image_sync_proto.h) besides plain SBC. */
#ifndef VDISK_IMAGE_SYNC_LU_H
#define VDISK_IMAGE_SYNC_LU_H

#include "vdisk-server/scsi/scsi.h"

/* Makes lu answer READ DIGESTS from its store (lu->vendor). The digests are computed from
 * store reads of at most 1 MiB, each hashed on the loop thread when it completes, so no
 * command holds the loop for long. */
void image_sync_lu_attach(struct scsi_lu *lu);

#endif
