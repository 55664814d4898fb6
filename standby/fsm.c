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
		"resource_failed", "resources_ok", "admin_takeover", "admin_release",
		"admin_maintenance", "resume", "shutdown", "repl", "outdated",
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
	return (f->yield || f->failed ? FSM_F_YIELD : 0) | (f->want ? FSM_F_WANT : 0);
}

static void set_yield(struct fsm *f, int yield)
{
	f->yield = yield;
	f->peer_took = 0;
}

static void set_state(struct fsm *f, const struct fsm_input *in, struct fsm_output *out,
		      enum fsm_state s, const char *why)
{
	if (f->state == s)
		return;
	out->changed = 1;
	out->why = why;
	f->state = s;
	if (s == FSM_ACTIVE) {
		f->active_since = in->now_ms;
		f->peer_yield_moot = 0;
	} else if (s != FSM_RELEASING) {
		f->active_since = 0;
	}
}

/* Whether the peer yields, as far as the tie between two standing-by nodes goes. A yield
 * it advertised while we held the role ends when we give the role up (track_handover, on its
 * side); its heartbeats may say so only after we decide, so we do not wait for them. */
static int peer_yields(const struct fsm *f)
{
	if (!(f->peer_flags & FSM_F_YIELD))
		return 0;
	return f->peer_failed || !f->peer_yield_moot;
}

/* Should this standby node have the role now, given what it knows of the peer? */
static int should_take(const struct fsm *f)
{
	unsigned pf = f->peer_flags;

	if (f->state != FSM_STANDBY || f->peer == FSM_PEER_UNKNOWN || f->outdated)
		return 0;
	/* Failed and released: not again before the retry timer, so a resource that cannot
	 * run does not spin start/stop when nobody else can take the role either. */
	if (f->failed && f->holdoff)
		return 0;
	if (f->peer == FSM_PEER_DEAD || f->peer_state == FSM_MAINTENANCE)
		return 1;
	if (f->peer_state != FSM_STANDBY)
		return 0;
	/* Both standing by: a current copy before an outdated one, then an admin's wish, then
	 * the node whose resources can run (Heartbeat's rule: a failed node yields), then
	 * whoever does not yield, then the preferred node. */
	if (pf & FSM_F_OUTDATED)
		return 1;
	if (f->want != !!(pf & FSM_F_WANT))
		return f->want;
	if (f->failed != !!f->peer_failed)
		return !f->failed;
	if (!!(fsm_flags(f) & FSM_F_YIELD) != peer_yields(f))
		return !(fsm_flags(f) & FSM_F_YIELD);
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
			  f->peer == FSM_PEER_DEAD ? "peer dead and not answering for the service address"
			  : f->peer_state == FSM_MAINTENANCE ? "peer in maintenance"
			  : f->want ? "takeover requested"
			  : f->peer_failed && !f->failed ? "the peer's resources failed"
			  : "peer standing by and this node should hold the role");
		return;
	case FSM_PROBE_BUSY:
		why = "the service address answers ARP on the LAN: its holder is alive";
		break;
	case FSM_PROBE_PING_FAIL:
		why = "no ping node answers: this node may be the one cut off";
		break;
	case FSM_PROBE_ERROR:
		why = "cannot probe the LAN (link down, send failed, or answers lost)";
		break;
	}
	out->refused = why;
	f->probe = FSM_PROBE_NONE;
	out->actions |= FSM_ACT_RETRY;
}

static void stop_all(struct fsm *f, const struct fsm_input *in, struct fsm_output *out,
		     const char *why)
{
	f->peer_yield_moot = 1;
	f->want = 0;
	out->actions |= FSM_ACT_STOP;
	set_state(f, in, out, FSM_RELEASING, why);
}

/* Hands the role over: yield until the peer, having taken it, gives it up in its turn. */
static void release(struct fsm *f, const struct fsm_input *in, struct fsm_output *out,
		    const char *why)
{
	set_yield(f, 1);
	stop_all(f, in, out, why);
}

/* A resource failed: yield until the daemon says every failed resource can run again, not
 * for as long as the peer holds the role, so auto_failback can bring it back. */
static void give_up(struct fsm *f, const struct fsm_input *in, struct fsm_output *out,
		    const char *why)
{
	f->failed = 1;
	stop_all(f, in, out, why);
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

/* Our yield says "I handed the role over". Once the peer, having taken the role, gives it
 * up (released, failed, went into maintenance), that is the newer move and the yield is
 * stale: kept, it would let the preferred node win every tie, whatever the last move was. */
static void track_handover(struct fsm *f)
{
	if (!f->yield)
		return;
	if (f->peer_state == FSM_ACTIVE || f->peer_state == FSM_TAKING_OVER)
		f->peer_took = 1;
	else if (f->peer_took)
		set_yield(f, 0);
}

/* auto_failback counts from when the peer became ready to hold the role, not from when it
 * came up: a preferred node whose resource just came back must stay well that long. */
static void track_peer_ready(struct fsm *f, const struct fsm_input *in)
{
	int ready = f->peer_state == FSM_STANDBY && !(f->peer_flags & FSM_F_YIELD) &&
		    !f->peer_failed;

	if (!ready)
		f->peer_ready_since = 0;
	else if (!f->peer_ready_since)
		f->peer_ready_since = in->now_ms;
}

static void on_heartbeat(struct fsm *f, const struct fsm_input *in, struct fsm_output *out)
{
	if (f->peer != FSM_PEER_ALIVE)
		f->peer_alive_since = in->now_ms;
	f->peer = FSM_PEER_ALIVE;
	f->peer_state = in->peer_state;
	f->peer_flags = in->peer_flags;
	f->peer_failed = in->peer_failed;
	f->peer_repl = in->peer_repl;
	f->peer_active_since = in->peer_active_since;
	if (!(f->peer_flags & FSM_F_YIELD))
		f->peer_yield_moot = 0;	/* it heard: its flags say it all again */
	track_handover(f);
	track_peer_ready(f, in);

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
		} else if (f->cfg.auto_failback && !f->cfg.preferred && f->peer_ready_since &&
			   in->now_ms - f->peer_ready_since >= f->cfg.failback_after_ms) {
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

static const char *peer_not_ready(const struct fsm *f)
{
	return f->peer_failed ? "the peer's resources failed: it cannot take over"
	       : f->peer_flags & FSM_F_OUTDATED
	       ? "the peer's copy is outdated (its resync is not done)"
	       : "the peer is not standing by to take over";
}

static void on_admin(struct fsm *f, const struct fsm_input *in, struct fsm_output *out)
{
	int peer_ready = f->peer == FSM_PEER_ALIVE && f->peer_state == FSM_STANDBY &&
			 !f->peer_failed && !(f->peer_flags & FSM_F_OUTDATED);

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
		set_yield(f, 0);
		/* The admin vouches for this node's resources; a start that fails marks them
		 * again and hands the role back. */
		f->failed = 0;
		f->holdoff = 0;
		out->admin_msg = f->peer == FSM_PEER_ALIVE && f->peer_state == FSM_ACTIVE
				 ? "asked the peer to hand the role over" : "taking over";
		evaluate(f, in, out);
		return;
	case FSM_EV_ADMIN_RELEASE:
		if (f->state == FSM_ACTIVE) {
			if (!peer_ready) {
				out->admin_rc = -EAGAIN;
				out->admin_msg = peer_not_ready(f);
				return;
			}
			release(f, in, out, "release requested");
			out->admin_msg = "releasing";
			return;
		}
		if (f->state == FSM_MAINTENANCE)
			set_state(f, in, out, FSM_STANDBY, "leaving maintenance");
		set_yield(f, 1);
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
				out->admin_msg = peer_not_ready(f);
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
		f->peer_ready_since = 0;
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
		f->holdoff = 0;
		evaluate(f, in, out);
		break;
	case FSM_EV_STARTED:
		if (f->state == FSM_TAKING_OVER) {
			f->want = 0;
			set_yield(f, 0);
			f->failed = 0;	/* they all run: whatever failed before works now */
			f->holdoff = 0;
			set_state(f, in, out, FSM_ACTIVE, "resources started");
		}
		break;
	case FSM_EV_START_FAILED:
		if (f->state == FSM_TAKING_OVER)
			give_up(f, in, out, "a resource failed to start");
		break;
	case FSM_EV_STOPPED:
		if (f->state == FSM_RELEASING) {
			set_state(f, in, out, f->to_maintenance ? FSM_MAINTENANCE : FSM_STANDBY,
				  "resources stopped");
			f->to_maintenance = 0;
			/* After a failure, try again only after the retry delay (and only if nobody
			 * healthy takes the role meanwhile), so a broken resource cannot spin
			 * start/stop; the same after a handover with nobody to take the role. */
			f->holdoff = f->failed;
			if (f->failed || (f->yield && f->peer != FSM_PEER_ALIVE))
				out->actions |= FSM_ACT_RETRY;
			else
				evaluate(f, in, out);
		}
		break;
	case FSM_EV_RESOURCE_FAILED:
		if (f->state != FSM_ACTIVE)
			break;
		f->failed = 1;
		/* an outdated peer cannot take over: giving the role up would leave none */
		if (f->peer == FSM_PEER_ALIVE && f->peer_state == FSM_STANDBY && !f->peer_failed &&
		    !(f->peer_flags & FSM_F_OUTDATED))
			give_up(f, in, out, "a resource failed after its restart");
		else
			out->refused = "a resource failed but the peer cannot take over: keeping "
				       "the role";
		break;
	case FSM_EV_RESOURCES_OK:
		/* Flags are cleared when they stop being true: eligible again at once, and a
		 * lone node (or one whose peer failed too) takes the role now. */
		f->failed = 0;
		f->holdoff = 0;
		evaluate(f, in, out);
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
