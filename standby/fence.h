/* Fencing the peer's data, DRBD's resource-level fencing with standbyd as the cluster manager.
 *
 * The active side: vdiskd asks "fence-peer" before it acknowledges a write the peer's copy
 * lacks (vdisk-server/mirror/mirror_fence.h). We then set HB_F_OUTDATE_PEER with a fresh epoch in our
 * heartbeats, which go on every link (the LAN too when the HA link is what failed), and answer
 * "outdated" once a heartbeat of the peer acknowledges that epoch, or "peer-dead" once the
 * state machine holds the peer dead. The flag stays up until vdiskd reports every mirror in
 * sync again, in a status asked after the last fence-peer; it is in the state file too, so
 * it outlives a restart, and a node that stops serving keeps it once writes apart may have
 * been acknowledged.
 *
 * The peer's side: a heartbeat from an active (or taking-over) peer with HB_F_OUTDATE_PEER
 * makes our copy outdated: written to the state file (fsync'd) before we acknowledge it with
 * HB_F_OUTDATED and the epoch. An outdated node does not take over (fsm.h); only the peer's
 * heartbeats, without the flag and saying in_sync, or an admin's forced takeover clear it. */
#ifndef STANDBY_FENCE_H
#define STANDBY_FENCE_H

#include <jansson.h>
#include <stdint.h>

#include "standby/hbpkt.h"

#define SB_STATE_FILE "standbyd.state"

struct sb_fence {
	/* active side */
	int outdating;			/* HB_F_OUTDATE_PEER in our heartbeats */
	uint16_t epoch;			/* of the current request */
	uint64_t asked_ms;		/* monotonic: the last fence-peer */
	int acked;			/* the peer acknowledged this epoch */
	int released;			/* vdiskd was told writes apart may be acknowledged
					 * (or, after a restart, may have been) */
	/* outdated side */
	int outdated;			/* our copy lacks writes the peer acknowledged */
	uint16_t acked_epoch;		/* the epoch our heartbeats acknowledge */
	uint64_t heard_gen, heard_seq;	/* the newest heartbeat acted on (packets reorder) */
	/* the LAN link's carrier losses (sysfs) forgiven so far (at start, or by a heartbeat
	 * handled a deadtime after a loss was read): one more means this node may be the one
	 * that was cut off */
	long lan_downs;
	long lan_seen;			/* the last reading */
	int lan_changed;		/* a reading differed from the one before it */
	uint64_t lan_changed_ms;	/* monotonic: when the last such change was read */
	char path[300];			/* DIR/standbyd.state */
};

struct standbyd;

/* Reads the state file in dir (an outdated copy stays outdated across restarts, and so does
 * the flag that outdates the peer's). 0, or a
 * negative errno for a file that cannot be read or parsed (already logged). */
int sb_fence_open(struct standbyd *d, const char *dir);
/* "fence-peer" on the control socket: sets the answer's member "fence", a string,
 * "pending", "outdated" or "peer-dead". */
void sb_fence_request(struct standbyd *d, json_t *answer);
/* Every accepted heartbeat of the peer. */
void sb_fence_heard(struct standbyd *d, const struct hb_msg *msg);
/* vdiskd's status, asked at asked_ms (monotonic): in_sync and no fence under way there. */
void sb_fence_vdiskd(struct standbyd *d, int in_sync_unfenced, uint64_t asked_ms);
/* This node stopped serving: it acknowledges nothing any more, and outdates nobody. */
void sb_fence_stop(struct standbyd *d);
/* Our heartbeat's HB_F_OUTDATE_PEER / HB_F_OUTDATED bits and the epoch they carry. */
unsigned sb_fence_flags(const struct standbyd *d, uint16_t *epoch);
/* An admin forced a takeover of an outdated copy: it is current from now on. */
int sb_fence_force(struct standbyd *d);
/* status: "data" ("current"|"outdated"), "data_note" (why, when outdated), "peer_data" (with
 * the peer alive) and, while outdating the peer, "fence": {"peer","state","epoch"}. */
void sb_fence_status(const struct standbyd *d, json_t *answer);

#endif
