/* Fencing the peer's data; see fence.h. */
#include "standby/fence.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/durable.h"
#include "standby/arp.h"
#include "standby/daemon.h"

static long lan_downs(const struct standbyd *d);

/* ---- the state file: a line "outdated EPOCH" (our copy), a line "outdating EPOCH" (the
 * peer's: writes apart acknowledged here), either, both or nothing ---- */

static int state_write(const struct sb_fence *f)
{
	char tmp[sizeof(f->path) + 8], line[64];
	int fd, n = 0, rc = 0;

	snprintf(tmp, sizeof(tmp), "%s.new", f->path);
	if (f->outdated)
		n += snprintf(line + n, sizeof(line) - (size_t)n, "outdated %u\n", f->acked_epoch);
	if (f->outdating)
		n += snprintf(line + n, sizeof(line) - (size_t)n, "outdating %u\n", f->epoch);
	/* readable by the group (vdisk): written by standbyd's unprivileged user, it is read
	 * at the next start by root, which has no CAP_DAC_OVERRIDE but is in that group */
	fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0640);
	if (fd < 0)
		return -errno;
	if (write(fd, line, (size_t)n) != n || fsync(fd) < 0)
		rc = errno ? -errno : -EIO;
	close(fd);
	if (rc == 0 && rename(tmp, f->path) < 0)
		rc = -errno;
	if (rc < 0) {
		unlink(tmp);
		return rc;
	}
	return fsync_dir_of(f->path);	/* the rename durable too */
}

int sb_fence_open(struct standbyd *d, const char *dir)
{
	struct sb_fence *f = &d->fence;
	char line[64];
	FILE *fp;

	snprintf(f->path, sizeof(f->path), "%s/%s", dir, SB_STATE_FILE);
	f->lan_downs = lan_downs(d);
	f->lan_seen = f->lan_downs;
	if (mkdir(dir, 0750) < 0 && errno != EEXIST) {
		log_err("--state-dir %s: %s", dir, strerror(errno));
		return -errno;
	}
	if (getrandom(&f->epoch, sizeof(f->epoch), 0) != sizeof(f->epoch))
		f->epoch = (uint16_t)getpid();
	fp = fopen(f->path, "r");
	if (!fp) {
		if (errno == ENOENT)
			return 0;
		log_err("state file %s: %s", f->path, strerror(errno));
		return -errno;
	}
	while (fgets(line, sizeof(line), fp)) {
		char *sp = strchr(line, ' '), *end = NULL;
		unsigned long v = 0;

		if (sp) {
			*sp = '\0';
			errno = 0;
			v = sp[1] >= '0' && sp[1] <= '9' ? strtoul(sp + 1, &end, 10) : 0;
		}
		if (!sp || !end || errno || *end != '\n' || end[1] || v > 0xffff ||
		    (strcmp(line, "outdated") && strcmp(line, "outdating")) ||
		    (line[7] == 'd' ? f->outdated : f->outdating)) {
			fclose(fp);
			log_err("state file %s: not 'outdated EPOCH' and 'outdating EPOCH' lines: "
				"remove it only if both copies are known current", f->path);
			return -EINVAL;
		}
		if (line[7] == 'd') {
			f->outdated = 1;
			f->acked_epoch = (uint16_t)v;
		} else {
			/* whether writes apart were acknowledged since is not known: say they were */
			f->outdating = 1;
			f->released = 1;
			f->epoch = (uint16_t)v;
		}
	}
	fclose(fp);
	if (f->outdated)
		sb_event(d, LOG_ERR, "this node's copy of the hot-standby disks is outdated (state "
			 "file %s): it will not take over until %s has resynced it", f->path,
			 d->cfg.peer);
	/* writes apart were acknowledged here: the peer's copy stays outdated (our heartbeats
	 * say so) until vdiskd, primary again, reports the mirror in sync, as before the restart;
	 * a vdiskd just started says in-sync with nothing open, which must not clear it */
	if (f->outdating)
		log_warn("state file %s: %s's copy is outdated by writes acknowledged here (epoch "
			 "%u): said in our heartbeats until the mirror is in sync again", f->path,
			 d->cfg.peer, f->epoch);
	return 0;
}

/* Sets or clears the outdating mark, durably first: a mark lost in a crash would let a peer
 * that lacks writes acknowledged here count as current. -errno (nothing changed) when the
 * state file cannot be written. */
static int set_outdating(struct standbyd *d, int on)
{
	struct sb_fence *f = &d->fence;
	int rc;

	f->outdating = on;
	rc = state_write(f);
	if (rc < 0) {
		log_err("state file %s: %s", f->path, strerror(-rc));
		f->outdating = !on;
	}
	return rc;
}

static void set_outdated(struct standbyd *d, int outdated, uint16_t epoch)
{
	struct sb_fence *f = &d->fence;
	struct fsm_input in = { .ev = FSM_EV_OUTDATED, .outdated = outdated };
	int was = f->outdated, rc;

	f->outdated = outdated;
	f->acked_epoch = epoch;
	rc = state_write(f);
	if (rc < 0) {
		/* an outdated mark we cannot keep must not be acknowledged */
		log_err("state file %s: %s", f->path, strerror(-rc));
		f->outdated = was;
		return;
	}
	if (outdated && !was)
		sb_event(d, LOG_WARNING, "this node's copy is outdated: %s acknowledges writes it "
			 "lacks (the mirror is down); no takeover until it is resynced", d->cfg.peer);
	else if (!outdated && was)
		sb_event(d, LOG_NOTICE, "this node's copy is current again: %s says its mirror is "
			 "in sync", d->cfg.peer);
	d->hooks->feed(d, &in, NULL);
}

/* ---- the active side ---- */

/* How many times the LAN link lost its carrier (sysfs), -1 when unknown. */
static long lan_downs(const struct standbyd *d)
{
	char path[96];
	long n = -1;
	FILE *f;

	if (!d->svc)
		return -1;
	snprintf(path, sizeof(path), "/sys/class/net/%s/carrier_down_count", d->svc_rt->ifname);
	f = fopen(path, "r");
	if (f) {
		if (fscanf(f, "%ld", &n) != 1)
			n = -1;
		fclose(f);
	}
	return n;
}

/* A reading of the LAN link's carrier losses; a change since the last reading is noted with
 * the time it was read, which is after it happened. */
static long lan_read(struct standbyd *d)
{
	struct sb_fence *f = &d->fence;
	long n = lan_downs(d);

	if (n != f->lan_seen) {
		f->lan_seen = n;
		f->lan_changed = 1;
		f->lan_changed_ms = ev_now_ms();
	}
	return n;
}

/* The peer is dead as far as writes made apart go: silent on every link for deadtime while
 * our own LAN link kept its carrier all along. A node whose LAN link went down (even if it
 * is back) may be the one that was cut off, or its power is going: the peer may have taken
 * over, and what this node did apart must not count as the newer copy. */
static int peer_dead(struct standbyd *d)
{
	static struct log_ratelimit rl = LOG_RATELIMIT_INIT(1);

	if (d->fsm.peer != FSM_PEER_DEAD)
		return 0;
	if (d->svc && (if_running(d->svc_rt->ifname) <= 0 ||
		       lan_read(d) != d->fence.lan_downs)) {
		log_limited(&rl, LOG_WARNING, "fence: %s is silent, but %s lost its carrier here "
			    "since: this node may be the one cut off; writes made apart stay held",
			    d->cfg.peer, d->svc_rt->ifname);
		return 0;
	}
	return 1;
}

void sb_fence_request(struct standbyd *d, json_t *answer)
{
	struct sb_fence *f = &d->fence;
	const char *how;

	f->asked_ms = ev_now_ms();
	if (!f->outdating) {
		f->acked = 0;
		f->released = 0;
		f->epoch++;
		if (set_outdating(d, 1) < 0) {
			/* not kept: writes apart stay held (vdiskd asks again) */
			ctl_set(answer, "fence", json_string("pending"));
			return;
		}
		log_warn("fence: vdiskd's mirror is down: marking %s's copy outdated (epoch %u)",
			 d->cfg.peer, f->epoch);
		d->hooks->send_heartbeat(d);	/* now, not at the next keepalive */
	}
	how = f->acked ? "outdated" : peer_dead(d) ? "peer-dead" : "pending";
	if (strcmp(how, "pending") != 0)
		f->released = 1;
	ctl_set(answer, "fence", json_string(how));
}

void sb_fence_vdiskd(struct standbyd *d, int in_sync_unfenced, uint64_t asked_ms)
{
	struct sb_fence *f = &d->fence;

	/* a status asked before the last fence-peer may predate the mirror going down */
	if (!f->outdating || !in_sync_unfenced || asked_ms <= f->asked_ms)
		return;
	if (set_outdating(d, 0) < 0)
		return;		/* kept, and tried again at the next status */
	f->acked = 0;
	log_notice("fence: vdiskd's mirror is in sync: %s's copy is current again", d->cfg.peer);
	d->hooks->send_heartbeat(d);
}

/* ---- both ---- */

static int we_serve(const struct standbyd *d)
{
	return d->fsm.state == FSM_ACTIVE || d->fsm.state == FSM_TAKING_OVER;
}

static int newest(struct sb_fence *f, const struct hb_msg *msg)
{
	if (msg->boot_gen < f->heard_gen ||
	    (msg->boot_gen == f->heard_gen && msg->seq <= f->heard_seq))
		return 0;
	f->heard_gen = msg->boot_gen;
	f->heard_seq = msg->seq;
	return 1;
}

void sb_fence_heard(struct standbyd *d, const struct hb_msg *msg)
{
	struct sb_fence *f = &d->fence;
	int serving = msg->state == FSM_ACTIVE || msg->state == FSM_TAKING_OVER;

	if (!newest(f, msg))
		return;
	/* The heartbeat shows the peer alive when it was received, which may be before a carrier
	 * loss read only now: it waited in the receiver's socket or on its way up while the link
	 * went (a node cut off from both links, a heartbeat from just before still on its way,
	 * then its LAN back: that heartbeat must not make the loss look older than it). So a
	 * loss is forgiven only by a heartbeat handled a deadtime after the loss was first read:
	 * one received before it has been handled by then, or the peer counted dead. */
	lan_read(d);
	if (!f->lan_changed || ev_now_ms() - f->lan_changed_ms >= d->cfg.cf.deadtime_ms)
		f->lan_downs = f->lan_seen;
	if (f->outdating && !f->acked && (msg->flags & HB_F_OUTDATED) &&
	    msg->fence_epoch == f->epoch) {
		f->acked = 1;
		log_notice("fence: %s has its copy marked outdated (epoch %u)", d->cfg.peer,
			   f->epoch);
	}
	/* Both serving, both outdating the other: each was cut off from the other and neither
	 * copy is outdated by the other's word; the role goes to one (fsm.c), whose flag then
	 * outdates the one that stood down. */
	if ((msg->flags & HB_F_OUTDATE_PEER) && serving && !(f->outdating && we_serve(d)) &&
	    (!f->outdated || f->acked_epoch != msg->fence_epoch)) {
		set_outdated(d, 1, msg->fence_epoch);
		if (f->outdated)
			d->hooks->send_heartbeat(d);	/* the acknowledgement, now */
	} else if (f->outdated && serving && !(msg->flags & HB_F_OUTDATE_PEER) &&
		   msg->repl == HB_REPL_IN_SYNC) {
		set_outdated(d, 0, 0);
	}
}

void sb_fence_stop(struct standbyd *d)
{
	struct sb_fence *f = &d->fence;

	/* Writes apart acknowledged here keep the peer outdated while we stand by (a node that
	 * does not serve is not heeded) and when we serve again, until our vdiskd has resynced
	 * the peer: lowered now, a restarted or retried takeover's first heartbeat (no flag, and
	 * in sync from a vdiskd with nothing open yet) would clear the peer's mark too early. */
	if (!f->outdating || f->released)
		return;
	if (set_outdating(d, 0) < 0)
		return;		/* kept: said while not serving, which the peer ignores */
	f->acked = 0;
	log_notice("fence: this node serves no more and acknowledged nothing apart: it outdates "
		   "%s no longer", d->cfg.peer);
}

unsigned sb_fence_flags(const struct standbyd *d, uint16_t *epoch)
{
	const struct sb_fence *f = &d->fence;

	*epoch = 0;
	if (f->outdated) {
		*epoch = f->acked_epoch;
		return HB_F_OUTDATED;
	}
	if (f->outdating) {
		*epoch = f->epoch;
		return HB_F_OUTDATE_PEER;
	}
	return 0;
}

int sb_fence_force(struct standbyd *d)
{
	if (!d->fence.outdated)
		return 0;
	sb_event(d, LOG_ERR, "FORCED: this node's outdated copy is served as current by an "
		 "admin's decision; writes %s acknowledged while the mirror was down are lost",
		 d->cfg.peer);
	set_outdated(d, 0, 0);
	return d->fence.outdated ? -EIO : 0;
}

void sb_fence_status(const struct standbyd *d, json_t *answer)
{
	const struct sb_fence *f = &d->fence;

	ctl_set(answer, "data", json_string(f->outdated ? "outdated" : "current"));
	if (f->outdated)
		ctl_set(answer, "data_note",
			json_string("the peer acknowledged writes this copy lacks"));
	if (d->fsm.peer == FSM_PEER_ALIVE)
		ctl_set(answer, "peer_data", json_string(d->peer_msg.flags & HB_F_OUTDATED
							 ? "outdated" : "current"));
	/* While this node marks the peer's copy outdated: whether the peer acknowledged it */
	if (f->outdating)
		ctl_set(answer, "fence", json_pack("{s:o,s:s,s:i}", "peer", ctl_text(d->cfg.peer),
						   "state", f->acked ? "acknowledged" : "pending",
						   "epoch", (int)f->epoch));
}
