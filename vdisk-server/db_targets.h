/* Targets from the database (`vdiskd --db PATH`): the initiator name of a login selects the
 * client record; the client's image is the read-only base and its overlay lives under the
 * overlay directory. Every client sees one target name (pxed's target_iqn) with one LUN 0,
 * its own disk. Implements iscsi_provider. */
#ifndef VDISK_DB_TARGETS_H
#define VDISK_DB_TARGETS_H

#include <stdio.h>

#include "common/ctlsock.h"
#include "common/linkwatch.h"
#include "db/db.h"
#include "vdisk-server/iscsi/iscsi_target.h"
#include "vdisk-server/mirror/mirror_fence.h"
#include "vdisk-server/store/store.h"
#include "vdisk-server/mirror/store_mirror.h"

struct client_disk;

struct db_targets {
	struct db *db;
	struct store_pool *pool;
	struct evloop *loop;
	struct iscsi_server *srv;	/* for dropping sessions (set after the server opens) */
	struct iscsi_server *rsrv;	/* the replica listener's, NULL without one */
	char target_name[ISCSI_NAME_MAX];
	char overlay_dir[DB_PATH_MAX];
	char node[DB_NAME_MAX];		/* this server's name in the DB ("" : not a pair) */
	int secondary;			/* role: client logins refused until promoted */
	/* the pair: hot-standby clients' writes go to the peer (mirror) while primary, and
	 * the peer's mirror logs in to us (replica, with the pair secret) while secondary */
	int mirror_on, replica_on;
	struct mirror_config mirror;
	struct chap_cred pair;
	char pair_state[16];		/* the last one the events table was told */
	int peer_up;			/* mirror_config.peer_up */
	int fault;			/* mirror_config.fault (tests) */
	char fence_path[FENCE_PATH_MAX];	/* standbyd's socket; "" : no fencing */
	struct mirror_fence fence;	/* mirror_config.fence, set up by db_targets_start */
	struct linkwatch link;		/* the carrier towards the mirror peer */
	int discarding;			/* opening a disk only to reset its overlay */
	struct client_disk *disks;	/* clients with a session, a reset pending, or a
					 * mirror not yet in sync */
	unsigned ndisks;
	uint64_t refused;
	int client_chap;		/* client logins need the PC's CHAP secret (DB setting) */
	/* Restore mode: a PC's overlay is discarded once its session has ended and it has not
	 * logged in again for this long (DB setting restore_discard_s; 0 never). */
	uint64_t restore_grace_ms;
	struct ended_session *ended;
	uint64_t last_alarm_ms;		/* the last refusal recorded as an event: when, */
	const char *last_alarm_why;	/* why, */
	char last_alarm_ini[ISCSI_NAME_MAX];	/* and whose */
	struct ev_timer sweep;
};

struct ended_session;

int db_targets_init(struct db_targets *dt, struct db *db, struct store_pool *pool,
		    const char *target_name, const char *overlay_dir);
void db_targets_fini(struct db_targets *dt);
void db_targets_provider(struct db_targets *dt, struct iscsi_provider *out);
/* The replica listener's provider: logins of the peer's mirror, one per hot-standby client,
 * with the client's initiator name, accepted only while this server is secondary. */
void db_targets_replica_provider(struct db_targets *dt, struct iscsi_provider *out);
/* Starts the pair's background work (loop set): resyncs that were pending when vdiskd
 * stopped, and closing mirrors that got in sync with nobody logged in. */
void db_targets_start(struct db_targets *dt, struct evloop *loop);
/* `mirror-resolve CLIENT keep-local`: settles a split brain for this server's copy. */
int db_targets_keep_local(struct db_targets *dt, const char *client);

/* `overlay-reset NAME`: discards the client's overlay. With a session open, the session is
 * pinged first: one that answers within 1.5 s is a running PC, whose overlay is kept (a
 * spoofed PXE request: logged, an event); one that does not is the dead session of a PC that
 * reboots: it is dropped and the reset happens when it has closed, before any new login of
 * that client is served. Returns 0 with *deferred set accordingly, -ENOENT for an unknown
 * client, or a negative errno. */
int db_targets_reset(struct db_targets *dt, const char *client, int *deferred);
/* `role primary|secondary`: a secondary refuses logins and drops the sessions it has. */
void db_targets_role(struct db_targets *dt, int secondary);
/* Database mode's members of vdiskd's status answer: node, role, clients, refused, mirror,
 * fence (with a mirror), and the lists client, mirror_client, mirror_down, replica_client
 * (an element per client with a disk open; a list with no element is left out). */
void db_targets_status(struct db_targets *dt, json_t *answer);

#endif
