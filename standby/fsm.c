#include "standby/fsm.h"

#include <errno.h>
#include <string.h>

#include "standby/hbpkt.h"

static const char *const state_names[FSM_NSTATES] = {
	"standby", "active", "taking_over", "releasing", "maintenance",
};

const char *fsm_state_name(enum fsm_state s)
{
	return (unsigned)s < FSM_NSTATES ? state_names[s] : "unknown";
}

int fsm_state_parse(const char *s)
{
	int i;

	for (i = 0; i < FSM_NSTATES; i++)
		if (strcmp(s, state_names[i]) == 0)
			return i;
	return -1;
}

const char *fsm_peer_name(enum fsm_peer p)
{
	return p == FSM_PEER_ALIVE ? "alive" : p == FSM_PEER_DEAD ? "dead" : "unknown";
}

const char *fsm_event_name(enum fsm_event e)
{
	static const char *const names[FSM_NEVENTS] = {
		"heartbeat", "peer_suspect", "peer_dead", "probe_clear", "probe_busy",
		"probe_ping_fail", "probe_error", "retry", "started", "start_failed", "stopped",
		"resource_failed", "admin_takeover", "admin_release", "admin_maintenance", "resume",
		"shutdown", "repl", "outdated",
	};

	return (unsigned)e < FSM_NEVENTS ? names[e] : "?";
}

void fsm_init(struct fsm *f, const struct fsm_config *cfg)
{
	memset(f, 0, sizeof(*f));
	f->cfg = *cfg;
	f->state = FSM_STANDBY;
	f->peer_state = FSM_STANDBY;
}

unsigned fsm_flags(const struct fsm *f)
{
	return (f->yield ? FSM_F_YIELD : 0) | (f->want ? FSM_F_WANT : 0);
}

static void set_state(struct fsm *f, const struct fsm_input *in, struct fsm_output *out,
		      enum fsm_state s, const char *why)
{
	if (f->state == s)
		return;
	out->changed = 1;
	out->why = why;
	f->state = s;
	if (s == FSM_ACTIVE)
		f->active_since = in->now_ms;
	else if (s != FSM_RELEASING)
		f->active_since = 0;
}

/* Should this standby node have the role now, given what it knows of the peer? */
static int should_take(const struct fsm *f)
{
	unsigned pf = f->peer_flags;

	if (f->state != FSM_STANDBY || f->peer == FSM_PEER_UNKNOWN || f->outdated)
		return 0;
	if (f->peer == FSM_PEER_DEAD || f->peer_state == FSM_MAINTENANCE)
		return 1;
	if (f->peer_state != FSM_STANDBY)
		return 0;
	/* Both standing by: a current copy before an outdated one, then an admin's wish, then
	 * whoever does not yield, then the preferred node. */
	if (pf & FSM_F_OUTDATED)
		return 1;
	if (f->want != !!(pf & FSM_F_WANT))
		return f->want;
	if (f->yield != !!(pf & FSM_F_YIELD))
		return !f->yield;
	return f->cfg.preferred;
}

static void evaluate(struct fsm *f, const struct fsm_input *in, struct fsm_output *out)
{
	const char *why = NULL;

	if (!should_take(f))
		return;
	switch (f->probe) {
	case FSM_PROBE_NONE:
		out->actions |= FSM_ACT_PROBE;
		f->probe = FSM_PROBE_PENDING;
		return;
	case FSM_PROBE_PENDING:
		return;
	case FSM_PROBE_CLEAR:
		f->probe = FSM_PROBE_NONE;
		out->actions |= FSM_ACT_START;
		set_state(f, in, out, FSM_TAKING_OVER,
			  f->peer == FSM_PEER_DEAD ? "peer dead and the service address is silent"
			  : f->peer_state == FSM_MAINTENANCE ? "peer in maintenance"
			  : f->want ? "takeover requested"
			  : "peer standing by and this node should hold the role");
		return;
	case FSM_PROBE_BUSY:
		why = "the service address answers ARP on the LAN: its holder is alive";
		break;
	case FSM_PROBE_PING_FAIL:
		why = "no ping node answers: this node may be the one cut off";
		break;
	case FSM_PROBE_ERROR:
		why = "cannot probe the LAN (link down or send failed)";
		break;
	}
	out->refused = why;
	f->probe = FSM_PROBE_NONE;
	out->actions |= FSM_ACT_RETRY;
}

static void release(struct fsm *f, const struct fsm_input *in, struct fsm_output *out,
		    const char *why)
{
	f->yield = 1;
	f->want = 0;
	out->actions |= FSM_ACT_STOP;
	set_state(f, in, out, FSM_RELEASING, why);
}

/* auto_failback is due: hand the role back only when both data sides say in sync (ours is
 * the mirror source, the peer's the replica), never across a split brain. */
static void failback(struct fsm *f, const struct fsm_input *in, struct fsm_output *out)
{
	if (f->repl == HB_REPL_SPLIT_BRAIN || f->peer_repl == HB_REPL_SPLIT_BRAIN) {
		out->failback_split = 1;
		out->failback_held = "split brain between the replicas: auto_failback refused "
				     "until the admin settles it";
	} else if (f->repl != HB_REPL_IN_SYNC || f->peer_repl != HB_REPL_IN_SYNC) {
		out->failback_held = "auto_failback waits for both replicas to be in sync";
	} else {
		release(f, in, out, "auto_failback: the preferred node is back and in sync");
	}
}

static void on_heartbeat(struct fsm *f, const struct fsm_input *in, struct fsm_output *out)
{
	if (f->peer != FSM_PEER_ALIVE)
		f->peer_alive_since = in->now_ms;
	f->peer = FSM_PEER_ALIVE;
	f->peer_state = in->peer_state;
	f->peer_flags = in->peer_flags;
	f->peer_repl = in->peer_repl;
	f->peer_active_since = in->peer_active_since;

	switch (f->state) {
	case FSM_STANDBY:
		if (!should_take(f))
			f->probe = FSM_PROBE_NONE;	/* an early probe is moot now */
		evaluate(f, in, out);
		break;
	case FSM_ACTIVE:
		if (f->peer_state == FSM_ACTIVE) {
			out->split_brain = 1;
			/* The copy that lacks acknowledged writes gives way; otherwise clients
			 * followed the last gratuitous ARPs: whoever took the role last keeps it,
			 * so the address moves no more than it already has. */
			if (f->outdated != !!(f->peer_flags & FSM_F_OUTDATED)) {
				if (f->outdated)
					release(f, in, out, "split brain: this node's copy is "
						"outdated");
			} else if (f->active_since < f->peer_active_since ||
			    (f->active_since == f->peer_active_since && !f->cfg.preferred))
				release(f, in, out, "split brain: the peer took the role after us");
		} else if (f->peer_state == FSM_STANDBY && (f->peer_flags & FSM_F_WANT)) {
			release(f, in, out, "the peer asked for the role");
		} else if (f->cfg.auto_failback && !f->cfg.preferred &&
			   f->peer_state == FSM_STANDBY && !(f->peer_flags & FSM_F_YIELD) &&
			   in->now_ms - f->peer_alive_since >= f->cfg.failback_after_ms) {
			failback(f, in, out);
		}
		break;
	default:
		break;
	}
}

static const char outdated_why[] = "this node's copy of the hot-standby disks is outdated "
	"(the peer acknowledged writes it lacks): 'vdiskctl standby takeover NODE --force' "
	"serves it anyway and loses them";

static void on_admin(struct fsm *f, const struct fsm_input *in, struct fsm_output *out)
{
	int peer_ready = f->peer == FSM_PEER_ALIVE && f->peer_state == FSM_STANDBY &&
			 !(f->peer_flags & FSM_F_OUTDATED);

	if (f->state == FSM_TAKING_OVER || f->state == FSM_RELEASING) {
		out->admin_rc = -EBUSY;
		out->admin_msg = f->state == FSM_TAKING_OVER ? "busy taking over" : "busy releasing";
		return;
	}
	switch (in->ev) {
	case FSM_EV_ADMIN_TAKEOVER:
		if (f->state == FSM_ACTIVE) {
			out->admin_msg = "already active";
			return;
		}
		if (f->outdated) {
			out->admin_rc = -EPERM;
			out->admin_msg = outdated_why;
			return;
		}
		if (f->state == FSM_MAINTENANCE)
			set_state(f, in, out, FSM_STANDBY, "leaving maintenance");
		f->want = 1;
		f->yield = 0;
		out->admin_msg = f->peer == FSM_PEER_ALIVE && f->peer_state == FSM_ACTIVE
				 ? "asked the peer to hand the role over" : "taking over";
		evaluate(f, in, out);
		return;
	case FSM_EV_ADMIN_RELEASE:
		if (f->state == FSM_ACTIVE) {
			if (!peer_ready) {
				out->admin_rc = -EAGAIN;
				out->admin_msg = f->peer_flags & FSM_F_OUTDATED
					? "the peer's copy is outdated (its resync is not done)"
					: "the peer is not standing by to take over";
				return;
			}
			release(f, in, out, "release requested");
			out->admin_msg = "releasing";
			return;
		}
		if (f->state == FSM_MAINTENANCE)
			set_state(f, in, out, FSM_STANDBY, "leaving maintenance");
		f->yield = 1;
		f->want = 0;
		out->admin_msg = "standing by";
		return;
	default:	/* FSM_EV_ADMIN_MAINTENANCE */
		if (f->state == FSM_MAINTENANCE) {
			out->admin_msg = "already in maintenance";
			return;
		}
		if (f->state == FSM_ACTIVE) {
			if (!peer_ready) {
				out->admin_rc = -EAGAIN;
				out->admin_msg = f->peer_flags & FSM_F_OUTDATED
					? "the peer's copy is outdated (its resync is not done)"
					: "the peer is not standing by to take over";
				return;
			}
			release(f, in, out, "maintenance requested");
			f->to_maintenance = 1;
			out->admin_msg = "releasing into maintenance";
			return;
		}
		f->want = 0;
		f->probe = FSM_PROBE_NONE;
		set_state(f, in, out, FSM_MAINTENANCE, "maintenance requested");
		out->admin_msg = "in maintenance";
		return;
	}
}

static void on_probe(struct fsm *f, const struct fsm_input *in, struct fsm_output *out)
{
	if (f->probe != FSM_PROBE_PENDING)
		return;	/* a result nobody waits for any more */
	f->probe = in->ev == FSM_EV_PROBE_CLEAR ? FSM_PROBE_CLEAR
		 : in->ev == FSM_EV_PROBE_BUSY ? FSM_PROBE_BUSY
		 : in->ev == FSM_EV_PROBE_PING_FAIL ? FSM_PROBE_PING_FAIL : FSM_PROBE_ERROR;
	evaluate(f, in, out);
}

void fsm_step(struct fsm *f, const struct fsm_input *in, struct fsm_output *out)
{
	memset(out, 0, sizeof(*out));
	out->from = f->state;
	switch (in->ev) {
	case FSM_EV_HEARTBEAT:
		on_heartbeat(f, in, out);
		break;
	case FSM_EV_PEER_SUSPECT:
		if (f->state == FSM_STANDBY && f->probe == FSM_PROBE_NONE) {
			f->probe = FSM_PROBE_PENDING;
			out->actions |= FSM_ACT_PROBE;
		}
		break;
	case FSM_EV_PEER_DEAD:
		out->peer_died = f->peer != FSM_PEER_DEAD;
		f->peer = FSM_PEER_DEAD;
		if (f->state == FSM_MAINTENANCE)
			out->refused = "this node is in maintenance";
		else if (f->state == FSM_STANDBY && f->outdated)
			out->refused = outdated_why;
		evaluate(f, in, out);
		break;
	case FSM_EV_PROBE_CLEAR:
	case FSM_EV_PROBE_BUSY:
	case FSM_EV_PROBE_PING_FAIL:
	case FSM_EV_PROBE_ERROR:
		on_probe(f, in, out);
		break;
	case FSM_EV_RETRY:
		evaluate(f, in, out);
		break;
	case FSM_EV_STARTED:
		if (f->state == FSM_TAKING_OVER) {
			f->want = 0;
			f->yield = 0;
			set_state(f, in, out, FSM_ACTIVE, "resources started");
		}
		break;
	case FSM_EV_START_FAILED:
		if (f->state == FSM_TAKING_OVER)
			release(f, in, out, "a resource failed to start");
		break;
	case FSM_EV_STOPPED:
		if (f->state == FSM_RELEASING) {
			set_state(f, in, out, f->to_maintenance ? FSM_MAINTENANCE : FSM_STANDBY,
				  "resources stopped");
			f->to_maintenance = 0;
			/* After a failure with nobody to hand over to, try again only after the retry
			 * delay, so a broken resource cannot spin start/stop. */
			if (f->yield && f->peer != FSM_PEER_ALIVE)
				out->actions |= FSM_ACT_RETRY;
			else
				evaluate(f, in, out);
		}
		break;
	case FSM_EV_RESOURCE_FAILED:
		if (f->state != FSM_ACTIVE)
			break;
		if (f->peer == FSM_PEER_ALIVE && f->peer_state == FSM_STANDBY)
			release(f, in, out, "a resource failed after its restart");
		else
			out->refused = "a resource failed but the peer cannot take over: keeping "
				       "the role";
		break;
	case FSM_EV_ADMIN_TAKEOVER:
	case FSM_EV_ADMIN_RELEASE:
	case FSM_EV_ADMIN_MAINTENANCE:
		on_admin(f, in, out);
		break;
	case FSM_EV_RESUME:
		if (f->state == FSM_STANDBY) {
			out->actions |= FSM_ACT_START;
			set_state(f, in, out, FSM_TAKING_OVER,
				  "the service address is already configured here: resuming");
		}
		break;
	case FSM_EV_SHUTDOWN:
		/* Unlike an admin release this goes ahead without a standing-by peer: the daemon
		 * is leaving either way, and resources must not outlive their supervisor. */
		if (f->state == FSM_ACTIVE || f->state == FSM_TAKING_OVER)
			release(f, in, out, "standbyd stopping");
		else if (f->state == FSM_STANDBY)
			f->yield = 1;
		break;
	case FSM_EV_REPL:
		f->repl = in->repl;
		break;
	case FSM_EV_OUTDATED:
		f->outdated = in->outdated;
		if (f->outdated && f->state == FSM_STANDBY)
			f->probe = FSM_PROBE_NONE;	/* a takeover under way stops here */
		evaluate(f, in, out);
		break;
	case FSM_NEVENTS:
		break;
	}
}
