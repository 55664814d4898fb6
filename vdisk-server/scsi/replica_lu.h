/* The replica side of a replication session: the vendor command of mirror_proto.h on the
 * logical unit the peer's mirror logs in to (the same disk, store and identity a client gets
 * after a takeover). The rest of the session is plain SBC: WRITE, UNMAP, SYNCHRONIZE CACHE. */
#ifndef VDISK_REPLICA_LU_H
#define VDISK_REPLICA_LU_H

#include "vdisk-server/mirror/mirror_meta.h"
#include "vdisk-server/mirror/mirror_proto.h"
#include "vdisk-server/scsi/scsi.h"

struct replica {
	struct mirror_meta *meta;	/* this copy's state; the disk's */
	struct store *st;		/* the overlay */
	uint8_t fingerprint[MP_FINGERPRINT_LEN];	/* of our base image */
	const char *name;		/* the client, for the log */
};

/* Makes lu answer the vendor command with r's state (lu->vendor). */
void replica_lu_attach(struct scsi_lu *lu, struct replica *r);

#endif
