/* The failover state machine, transition by transition: every edge of the diagram in
 * docs/standby.md is walked here, with the refusals that must keep a node where it is. */
#include <errno.h>
#include <string.h>

#include "standby/fsm.h"
#include "standby/hbpkt.h"
#include "tests/lib/tap.h"

static uint64_t now = 1000000;
static struct fsm_output out;

static void step(struct fsm *f, enum fsm_event ev)
{
	struct fsm_input in = { .ev = ev, .now_ms = now };

	fsm_step(f, &in, &out);
}

static void hbf(struct fsm *f, enum fsm_state peer_state, unsigned flags, int peer_failed,
		uint8_t repl, uint64_t peer_active_since)
{
	struct fsm_input in = { .ev = FSM_EV_HEARTBEAT, .now_ms = now,
				.peer_state = (uint8_t)peer_state, .peer_flags = (uint8_t)flags,
				.peer_failed = (uint8_t)peer_failed, .peer_repl = repl,
				.peer_active_since = peer_active_since };

	fsm_step(f, &in, &out);
}

static void hb(struct fsm *f, enum fsm_state peer_state, unsigned flags, uint8_t repl,
	       uint64_t peer_active_since)
{
	hbf(f, peer_state, flags, 0, repl, peer_active_since);
}

static void mk(struct fsm *f, int preferred, int failback)
{
	struct fsm_config c = { preferred, failback, 2000 };

	fsm_init(f, &c);
}

/* A node brought to ACTIVE by a dead peer and a clear probe. */
static void mk_active(struct fsm *f, int preferred, int failback)
{
	mk(f, preferred, failback);
	step(f, FSM_EV_PEER_DEAD);
	step(f, FSM_EV_PROBE_CLEAR);
	step(f, FSM_EV_STARTED);
}

static void test_takeover_on_death(void)
{
	struct fsm f;

	mk(&f, 0, 1);
	is_int(f.state, FSM_STANDBY, "starts standby");
	is_int(f.peer, FSM_PEER_UNKNOWN, "peer unknown at start");
	step(&f, FSM_EV_PEER_DEAD);
	ok(out.peer_died, "initdead passing reports the peer dead");
	is_int(out.actions, FSM_ACT_PROBE, "standby + peer dead: probe first");
	is_int(f.state, FSM_STANDBY, "still standby while probing");
	step(&f, FSM_EV_PEER_DEAD);
	ok(!out.peer_died && out.actions == 0, "second deadtime: no new death, probe pending");
	step(&f, FSM_EV_PROBE_CLEAR);
	is_int(f.state, FSM_TAKING_OVER, "standby -> taking_over on a clear probe");
	is_int(out.actions, FSM_ACT_START, "start resources");
	ok(out.changed && out.from == FSM_STANDBY, "change reported from standby");
	step(&f, FSM_EV_STARTED);
	is_int(f.state, FSM_ACTIVE, "taking_over -> active when resources started");
	ok(f.active_since == now, "active since now");
	step(&f, FSM_EV_PEER_DEAD);
	is_int(f.state, FSM_ACTIVE, "active ignores a dead peer");
}

static void test_refusals(void)
{
	static const struct { enum fsm_event ev; const char *word; } v[] = {
		{ FSM_EV_PROBE_BUSY, "answers ARP" },
		{ FSM_EV_PROBE_PING_FAIL, "ping node" },
		{ FSM_EV_PROBE_ERROR, "cannot probe" },
	};
	size_t i;

	for (i = 0; i < 3; i++) {
		struct fsm f;

		mk(&f, 1, 1);
		step(&f, FSM_EV_PEER_DEAD);
		step(&f, v[i].ev);
		is_int(f.state, FSM_STANDBY, "%s: no takeover", fsm_event_name(v[i].ev));
		ok(out.refused && strstr(out.refused, v[i].word), "%s: refusal says why",
		   fsm_event_name(v[i].ev));
		is_int(out.actions, FSM_ACT_RETRY, "%s: retry later", fsm_event_name(v[i].ev));
		step(&f, FSM_EV_RETRY);
		is_int(out.actions, FSM_ACT_PROBE, "%s: retry probes again", fsm_event_name(v[i].ev));
		step(&f, FSM_EV_PROBE_CLEAR);
		is_int(f.state, FSM_TAKING_OVER, "%s: then a clear probe takes over",
		       fsm_event_name(v[i].ev));
	}
	{
		struct fsm f;

		mk(&f, 1, 1);
		step(&f, FSM_EV_PROBE_CLEAR);
		ok(f.state == FSM_STANDBY && out.actions == 0, "an unrequested probe result is ignored");
		step(&f, FSM_EV_RETRY);
		ok(f.state == FSM_STANDBY && out.actions == 0, "retry with a live-unknown peer: nothing");
	}
}

static void test_early_probe(void)
{
	struct fsm f;

	mk(&f, 0, 1);
	hb(&f, FSM_ACTIVE, 0, HB_REPL_IN_SYNC, 5);
	is_int(out.actions, 0, "peer active: standby waits");
	step(&f, FSM_EV_PEER_SUSPECT);
	is_int(out.actions, FSM_ACT_PROBE, "suspect: probe before deadtime");
	step(&f, FSM_EV_PROBE_CLEAR);
	is_int(f.state, FSM_STANDBY, "clear probe alone does not take over a live peer");
	step(&f, FSM_EV_PEER_DEAD);
	is_int(f.state, FSM_TAKING_OVER, "deadtime after a clear early probe: takes over at once");
	is_int(out.actions, FSM_ACT_START, "no second probe");

	mk(&f, 0, 1);
	hb(&f, FSM_ACTIVE, 0, HB_REPL_IN_SYNC, 5);
	step(&f, FSM_EV_PEER_SUSPECT);
	hb(&f, FSM_ACTIVE, 0, HB_REPL_IN_SYNC, 5);
	is_int(f.probe, FSM_PROBE_NONE, "a heartbeat cancels the early probe");
	step(&f, FSM_EV_PROBE_CLEAR);
	step(&f, FSM_EV_PEER_DEAD);
	is_int(out.actions, FSM_ACT_PROBE, "so death needs a fresh probe");
	step(&f, FSM_EV_PROBE_BUSY);
	is_int(f.state, FSM_STANDBY, "and a busy address keeps it standby");

	mk(&f, 0, 1);
	step(&f, FSM_EV_ADMIN_MAINTENANCE);
	step(&f, FSM_EV_PEER_SUSPECT);
	is_int(out.actions, 0, "no early probe in maintenance");
}

static void test_pairing(void)
{
	struct fsm a, b;

	mk(&a, 1, 1);
	mk(&b, 0, 1);
	hb(&a, FSM_STANDBY, 0, HB_REPL_IN_SYNC, 0);
	is_int(out.actions, FSM_ACT_PROBE, "both standby: preferred node probes");
	hb(&b, FSM_STANDBY, 0, HB_REPL_IN_SYNC, 0);
	is_int(out.actions, 0, "both standby: the other waits");
	hb(&a, FSM_STANDBY, 0, HB_REPL_IN_SYNC, 0);
	is_int(a.probe, FSM_PROBE_PENDING, "heartbeats keep the pairing probe running");
	step(&a, FSM_EV_PROBE_CLEAR);
	is_int(a.state, FSM_TAKING_OVER, "preferred standby -> taking_over");
	hb(&b, FSM_TAKING_OVER, 0, HB_REPL_IN_SYNC, 0);
	ok(b.state == FSM_STANDBY && out.actions == 0, "peer taking over: wait");
	hb(&b, FSM_MAINTENANCE, 0, HB_REPL_IN_SYNC, 0);
	is_int(out.actions, FSM_ACT_PROBE, "peer in maintenance: the other probes");
	step(&b, FSM_EV_PROBE_CLEAR);
	is_int(b.state, FSM_TAKING_OVER, "standby -> taking_over when the peer is in maintenance");

	mk(&b, 0, 1);
	hb(&b, FSM_STANDBY, FSM_F_YIELD, HB_REPL_IN_SYNC, 0);
	is_int(out.actions, FSM_ACT_PROBE, "peer yields: the non-preferred node takes");
	mk(&a, 1, 1);
	step(&a, FSM_EV_ADMIN_RELEASE);
	hb(&a, FSM_STANDBY, 0, HB_REPL_IN_SYNC, 0);
	is_int(out.actions, 0, "a yielding preferred node waits");
	mk(&a, 1, 1);
	hb(&a, FSM_STANDBY, FSM_F_WANT, HB_REPL_IN_SYNC, 0);
	is_int(out.actions, 0, "peer wants the role: the preferred node lets it");
}

static void test_resume(void)
{
	struct fsm f;

	mk(&f, 0, 0);
	step(&f, FSM_EV_RESUME);
	is_int(f.state, FSM_TAKING_OVER, "address held at start: standby -> taking_over");
	is_int(out.actions, FSM_ACT_START, "resume restarts resources, no probe");
	step(&f, FSM_EV_RESUME);
	ok(!out.changed && out.actions == 0, "resume is only for a standby node");
}

static void test_start_failed(void)
{
	struct fsm f;

	mk(&f, 1, 1);
	step(&f, FSM_EV_PEER_DEAD);
	step(&f, FSM_EV_PROBE_CLEAR);
	step(&f, FSM_EV_START_FAILED);
	is_int(f.state, FSM_RELEASING, "taking_over -> releasing when a start fails");
	is_int(out.actions, FSM_ACT_STOP, "stop what started");
	ok(fsm_flags(&f) & FSM_F_YIELD, "and yield the role");
	step(&f, FSM_EV_STOPPED);
	is_int(f.state, FSM_STANDBY, "releasing -> standby when stopped");
	is_int(out.actions, FSM_ACT_RETRY, "peer still dead: try again after the retry delay");
	step(&f, FSM_EV_RETRY);
	is_int(out.actions, FSM_ACT_PROBE, "retry probes (yield does not stop a lone node)");
	step(&f, FSM_EV_PROBE_CLEAR);
	step(&f, FSM_EV_STARTED);
	ok(f.state == FSM_ACTIVE && !f.failed && fsm_flags(&f) == 0,
	   "this time every resource started: no longer failed, no longer yielding");
}

static void test_admin(void)
{
	struct fsm f;

	mk_active(&f, 1, 0);
	step(&f, FSM_EV_ADMIN_RELEASE);
	is_int(out.admin_rc, -EAGAIN, "release refused while the peer is dead");
	is_int(f.state, FSM_ACTIVE, "stays active");
	hb(&f, FSM_STANDBY, 0, HB_REPL_IN_SYNC, 0);
	step(&f, FSM_EV_ADMIN_RELEASE);
	is_int(out.admin_rc, 0, "release accepted with the peer standing by");
	is_int(f.state, FSM_RELEASING, "active -> releasing on admin release");
	step(&f, FSM_EV_ADMIN_TAKEOVER);
	is_int(out.admin_rc, -EBUSY, "admin command while releasing: busy");
	step(&f, FSM_EV_STOPPED);
	is_int(f.state, FSM_STANDBY, "releasing -> standby");
	ok(fsm_flags(&f) & FSM_F_YIELD, "released node yields");
	step(&f, FSM_EV_ADMIN_RELEASE);
	ok(out.admin_rc == 0 && f.state == FSM_STANDBY, "release on standby: stays standby");

	step(&f, FSM_EV_ADMIN_TAKEOVER);
	ok(fsm_flags(&f) & FSM_F_WANT, "takeover on standby asks for the role");
	ok(!(fsm_flags(&f) & FSM_F_YIELD), "and stops yielding");
	is_int(out.actions, FSM_ACT_PROBE, "peer standby: takeover probes");
	step(&f, FSM_EV_PROBE_CLEAR);
	is_int(f.state, FSM_TAKING_OVER, "standby -> taking_over on admin takeover");
	step(&f, FSM_EV_ADMIN_RELEASE);
	is_int(out.admin_rc, -EBUSY, "admin command while taking over: busy");
	step(&f, FSM_EV_STARTED);
	is_int(fsm_flags(&f), 0, "active clears want and yield");
	step(&f, FSM_EV_ADMIN_TAKEOVER);
	ok(out.admin_rc == 0 && strstr(out.admin_msg, "already"), "takeover on active: already");

	mk(&f, 0, 0);
	hb(&f, FSM_ACTIVE, 0, HB_REPL_IN_SYNC, 5);
	step(&f, FSM_EV_ADMIN_TAKEOVER);
	ok(strstr(out.admin_msg, "asked the peer"), "takeover with an active peer asks it");
	is_int(out.actions, 0, "and waits for it");
}

static void test_peer_wants(void)
{
	struct fsm f;

	mk_active(&f, 1, 0);
	hb(&f, FSM_STANDBY, FSM_F_WANT, HB_REPL_IN_SYNC, 0);
	is_int(f.state, FSM_RELEASING, "active -> releasing when the peer wants the role");
	step(&f, FSM_EV_STOPPED);
	hb(&f, FSM_TAKING_OVER, 0, HB_REPL_IN_SYNC, 0);
	ok(f.state == FSM_STANDBY && out.actions == 0, "then stands by while the peer takes it");
}

static void test_maintenance(void)
{
	struct fsm f;

	mk(&f, 1, 1);
	step(&f, FSM_EV_ADMIN_MAINTENANCE);
	is_int(f.state, FSM_MAINTENANCE, "standby -> maintenance");
	step(&f, FSM_EV_ADMIN_MAINTENANCE);
	ok(out.admin_rc == 0 && strstr(out.admin_msg, "already"), "maintenance twice: already");
	step(&f, FSM_EV_PEER_DEAD);
	ok(f.state == FSM_MAINTENANCE && out.actions == 0, "maintenance never takes over");
	ok(out.refused && strstr(out.refused, "maintenance"), "refusal says maintenance");
	hb(&f, FSM_STANDBY, 0, HB_REPL_IN_SYNC, 0);
	ok(f.state == FSM_MAINTENANCE && out.actions == 0, "nor when the peer stands by");
	step(&f, FSM_EV_ADMIN_RELEASE);
	is_int(f.state, FSM_STANDBY, "maintenance -> standby on admin release");
	ok(fsm_flags(&f) & FSM_F_YIELD, "yielding");

	mk(&f, 0, 1);
	step(&f, FSM_EV_ADMIN_MAINTENANCE);
	step(&f, FSM_EV_PEER_DEAD);
	step(&f, FSM_EV_ADMIN_TAKEOVER);
	is_int(f.state, FSM_STANDBY, "maintenance -> standby on admin takeover");
	is_int(out.actions, FSM_ACT_PROBE, "which then probes (peer dead)");
	ok(out.changed && out.from == FSM_MAINTENANCE, "change reported from maintenance");

	mk_active(&f, 1, 1);
	step(&f, FSM_EV_ADMIN_MAINTENANCE);
	is_int(out.admin_rc, -EAGAIN, "maintenance on active refused without a standing-by peer");
	hb(&f, FSM_STANDBY, 0, HB_REPL_IN_SYNC, 0);
	step(&f, FSM_EV_ADMIN_MAINTENANCE);
	is_int(f.state, FSM_RELEASING, "active -> releasing on maintenance");
	step(&f, FSM_EV_STOPPED);
	is_int(f.state, FSM_MAINTENANCE, "releasing -> maintenance when stopped");
}

static void test_failback(void)
{
	struct fsm f;
	struct fsm_input in_sync = { .ev = FSM_EV_REPL, .repl = HB_REPL_IN_SYNC };

	mk_active(&f, 0, 1);
	fsm_step(&f, &in_sync, &out);	/* our side too: tests/unit/test_standby_fsm_repl.c */
	now += 10;
	hb(&f, FSM_STANDBY, 0, HB_REPL_IN_SYNC, 0);
	is_int(f.state, FSM_ACTIVE, "auto_failback waits for the peer to be ready a while");
	now += 2000;
	hb(&f, FSM_STANDBY, FSM_F_YIELD, HB_REPL_IN_SYNC, 0);
	is_int(f.state, FSM_ACTIVE, "not while it yields");
	hb(&f, FSM_STANDBY, 0, HB_REPL_IN_SYNC, 0);
	is_int(f.state, FSM_ACTIVE, "ready again: the delay counts afresh");
	now += 2000;
	hbf(&f, FSM_STANDBY, FSM_F_YIELD, 1, HB_REPL_IN_SYNC, 0);
	is_int(f.state, FSM_ACTIVE, "not while its resources failed");
	hb(&f, FSM_STANDBY, 0, HB_REPL_IN_SYNC, 0);
	now += 1999;
	hb(&f, FSM_STANDBY, 0, HB_REPL_IN_SYNC, 0);
	is_int(f.state, FSM_ACTIVE, "they run again: not before the delay has passed once more");
	now += 1;
	hb(&f, FSM_STANDBY, 0, HB_REPL_SYNCING, 0);
	is_int(f.state, FSM_ACTIVE, "and for the peer to be in sync");
	hb(&f, FSM_STANDBY, 0, HB_REPL_IN_SYNC, 0);
	is_int(f.state, FSM_RELEASING, "active -> releasing: auto_failback to the preferred node");
	ok(out.why && strstr(out.why, "auto_failback"), "reason names auto_failback");
	ok(fsm_flags(&f) & FSM_F_YIELD, "the node that failed back yields");

	mk_active(&f, 0, 0);
	hb(&f, FSM_STANDBY, 0, HB_REPL_IN_SYNC, 0);
	now += 5000;
	hb(&f, FSM_STANDBY, 0, HB_REPL_IN_SYNC, 0);
	is_int(f.state, FSM_ACTIVE, "auto_failback off: the role stays");

	mk_active(&f, 1, 1);
	now += 5000;
	hb(&f, FSM_STANDBY, 0, HB_REPL_IN_SYNC, 0);
	is_int(f.state, FSM_ACTIVE, "the preferred node never fails back to the other");
}

static void test_resource_failed(void)
{
	struct fsm f;

	mk_active(&f, 1, 1);
	step(&f, FSM_EV_RESOURCE_FAILED);
	is_int(f.state, FSM_ACTIVE, "resource failed, peer dead: keep the role");
	ok(out.refused != NULL, "and say why");
	ok(f.failed && (fsm_flags(&f) & FSM_F_YIELD), "marked failed, yielding");
	hbf(&f, FSM_STANDBY, FSM_F_YIELD, 1, HB_REPL_IN_SYNC, 0);
	step(&f, FSM_EV_RESOURCE_FAILED);
	ok(f.state == FSM_ACTIVE && out.refused, "peer failed too: keep the role");
	step(&f, FSM_EV_ADMIN_RELEASE);
	ok(out.admin_rc == -EAGAIN && strstr(out.admin_msg, "failed"),
	   "release refused: the peer's resources failed");
	step(&f, FSM_EV_RESOURCES_OK);
	ok(f.state == FSM_ACTIVE && !f.failed && fsm_flags(&f) == 0,
	   "resources back while active: the mark and the yield go");
	step(&f, FSM_EV_RESOURCE_FAILED);
	hb(&f, FSM_STANDBY, FSM_F_YIELD, HB_REPL_IN_SYNC, 0);
	step(&f, FSM_EV_RESOURCE_FAILED);
	is_int(f.state, FSM_RELEASING, "active -> releasing on a failed resource, peer healthy");
	ok(fsm_flags(&f) & FSM_F_YIELD, "and the node yields, so the peer takes over");
	ok(!f.yield && f.failed, "as a failed node, not as one that handed the role over");
}

/* A node whose resource failed yields and does not take the role while its resources
 * cannot run, whatever the peer's flags; when they can, the flag goes at once. */
static void test_failed_yields(void)
{
	static const struct {
		unsigned peer_flags;
		int peer_failed, takes_after_retry;
		const char *what;
	} v[] = {
		{ 0, 0, 0, "peer standing by" },
		{ FSM_F_YIELD, 0, 0, "peer yielding after a handover" },
		{ FSM_F_YIELD, 1, 1, "peer failed too: after the retry delay" },
		{ FSM_F_WANT, 0, 0, "peer asking for the role" },
	};
	size_t i;

	for (i = 0; i < sizeof(v) / sizeof(v[0]); i++) {
		struct fsm f;

		mk_active(&f, 1, 1);
		hb(&f, FSM_STANDBY, 0, HB_REPL_IN_SYNC, 0);
		step(&f, FSM_EV_RESOURCE_FAILED);
		step(&f, FSM_EV_STOPPED);
		ok(f.state == FSM_STANDBY && out.actions == FSM_ACT_RETRY,
		   "%s: standby, retry timer armed, no probe", v[i].what);
		hbf(&f, FSM_STANDBY, v[i].peer_flags, v[i].peer_failed, HB_REPL_IN_SYNC, 0);
		ok(out.actions == 0 && f.probe == FSM_PROBE_NONE,
		   "%s: the failed node does not probe for the role", v[i].what);
		step(&f, FSM_EV_RETRY);
		is_int(out.actions, v[i].takes_after_retry ? FSM_ACT_PROBE : 0,
		       "%s: after the retry delay", v[i].what);
		hbf(&f, FSM_ACTIVE, 0, 0, HB_REPL_IN_SYNC, now);
		ok(fsm_flags(&f) & FSM_F_YIELD, "%s: yields while failed", v[i].what);
		step(&f, FSM_EV_RESOURCES_OK);
		is_int(fsm_flags(&f), 0, "%s: resources back: no longer yields", v[i].what);
		ok(!f.failed && out.actions == 0, "%s: peer active: nothing to take", v[i].what);
	}
	{
		struct fsm f;

		mk(&f, 0, 1);
		step(&f, FSM_EV_PEER_DEAD);
		step(&f, FSM_EV_PROBE_CLEAR);
		step(&f, FSM_EV_START_FAILED);
		step(&f, FSM_EV_STOPPED);
		step(&f, FSM_EV_RESOURCES_OK);
		is_int(out.actions, FSM_ACT_PROBE, "a lone node whose resources are back takes at once");
		mk_active(&f, 0, 1);
		hb(&f, FSM_STANDBY, 0, HB_REPL_IN_SYNC, 0);
		step(&f, FSM_EV_RESOURCE_FAILED);
		step(&f, FSM_EV_STOPPED);
		step(&f, FSM_EV_ADMIN_TAKEOVER);
		ok(!f.failed && (fsm_flags(&f) & FSM_F_WANT) && out.actions == FSM_ACT_PROBE,
		   "an admin takeover vouches for the resources: unmarked, wanting, probing");
	}
	{
		/* A failure is a fact, a release a preference: the healthy node takes the role
		 * even when an admin released it. */
		struct fsm f;

		mk_active(&f, 1, 1);
		hb(&f, FSM_STANDBY, 0, HB_REPL_IN_SYNC, 0);
		step(&f, FSM_EV_RESOURCE_FAILED);
		step(&f, FSM_EV_STOPPED);
		hb(&f, FSM_STANDBY, 0, HB_REPL_IN_SYNC, 0);
		hb(&f, FSM_STANDBY, FSM_F_YIELD, HB_REPL_IN_SYNC, 0);
		step(&f, FSM_EV_RETRY);
		is_int(out.actions, 0, "a failed node does not take the role from a released peer");
		mk(&f, 0, 1);
		step(&f, FSM_EV_ADMIN_RELEASE);
		hbf(&f, FSM_STANDBY, FSM_F_YIELD, 1, HB_REPL_IN_SYNC, 0);
		is_int(out.actions, FSM_ACT_PROBE, "a released node takes it from a failed peer");
	}
}

/* A yield after a handover lasts while the peer holds the role, and no longer. */
static void test_yield_cleared(void)
{
	static const struct { enum fsm_state after; const char *what; } v[] = {
		{ FSM_RELEASING, "releasing" },
		{ FSM_STANDBY, "standing by" },
		{ FSM_MAINTENANCE, "in maintenance" },
	};
	size_t i;

	for (i = 0; i < sizeof(v) / sizeof(v[0]); i++) {
		struct fsm f;

		mk_active(&f, 0, 1);
		hb(&f, FSM_STANDBY, 0, HB_REPL_IN_SYNC, 0);
		step(&f, FSM_EV_ADMIN_RELEASE);
		step(&f, FSM_EV_STOPPED);
		hb(&f, FSM_STANDBY, 0, HB_REPL_IN_SYNC, 0);
		ok(fsm_flags(&f) & FSM_F_YIELD, "%s: yields after the handover", v[i].what);
		hb(&f, FSM_TAKING_OVER, 0, HB_REPL_IN_SYNC, 0);
		hb(&f, FSM_ACTIVE, 0, HB_REPL_IN_SYNC, now);
		ok(fsm_flags(&f) & FSM_F_YIELD, "%s: still while the peer holds the role", v[i].what);
		hb(&f, v[i].after, FSM_F_YIELD, HB_REPL_IN_SYNC, 0);
		is_int(fsm_flags(&f), 0, "%s: the peer gave the role up: no longer", v[i].what);
	}
	{
		struct fsm f;

		mk(&f, 0, 1);
		step(&f, FSM_EV_ADMIN_RELEASE);
		hb(&f, FSM_STANDBY, 0, HB_REPL_IN_SYNC, 0);
		hb(&f, FSM_STANDBY, FSM_F_YIELD, HB_REPL_IN_SYNC, 0);
		ok(fsm_flags(&f) & FSM_F_YIELD, "a release on a standby node lasts while nobody "
		   "took the role");
	}
}

/* Two state machines wired together as two daemons would be: heartbeats both ways every
 * 100 ms, probes always clear, the retry timer firing every 500 ms (deadtime), starts that
 * fail while a node's resources cannot run, a monitor that fails an active node's resources
 * when they cannot run and reports them back when they can. */
struct node {
	struct fsm f;
	int can_run, retry, changes;
};

static void act(struct node *n, const struct fsm_output *o);

static void feed(struct node *n, const struct fsm_input *in)
{
	struct fsm_output o;

	fsm_step(&n->f, in, &o);
	act(n, &o);
}

static void feed_ev(struct node *n, enum fsm_event ev)
{
	struct fsm_input in = { .ev = ev, .now_ms = now, .repl = HB_REPL_IN_SYNC };

	feed(n, &in);
}

static void act(struct node *n, const struct fsm_output *o)
{
	n->changes += o->changed;
	if (o->actions & FSM_ACT_RETRY)
		n->retry = 1;
	if (o->actions & FSM_ACT_PROBE)
		feed_ev(n, FSM_EV_PROBE_CLEAR);
	if (o->actions & FSM_ACT_START)
		feed_ev(n, n->can_run ? FSM_EV_STARTED : FSM_EV_START_FAILED);
	if (o->actions & FSM_ACT_STOP)
		feed_ev(n, FSM_EV_STOPPED);
}

static void hear(struct node *to, const struct node *from)
{
	struct fsm_input in = { .ev = FSM_EV_HEARTBEAT, .now_ms = now,
				.peer_state = (uint8_t)from->f.state,
				.peer_flags = (uint8_t)fsm_flags(&from->f),
				.peer_failed = (uint8_t)from->f.failed, .peer_repl = HB_REPL_IN_SYNC,
				.peer_active_since = from->f.active_since };

	feed(to, &in);
}

static void node_tick(struct node *n, int round)
{
	if (n->f.state == FSM_ACTIVE && !n->can_run && !n->f.failed)
		feed_ev(n, FSM_EV_RESOURCE_FAILED);
	else if (n->f.state == FSM_ACTIVE && !n->can_run && round % 3 == 0)
		feed_ev(n, FSM_EV_RESOURCE_FAILED);	/* monitor_interval */
	if (n->f.failed && n->can_run)
		feed_ev(n, FSM_EV_RESOURCES_OK);
	if (n->retry && round % 5 == 0) {
		n->retry = 0;
		feed_ev(n, FSM_EV_RETRY);
	}
}

enum op_kind { OP_NONE, OP_KILL, OP_REVIVE, OP_RELEASE, OP_TAKEOVER };
struct op { int round; char node; enum op_kind kind; };

static void do_op(struct node *n, enum op_kind kind)
{
	if (kind == OP_KILL)
		n->can_run = 0;
	else if (kind == OP_REVIVE)
		n->can_run = 1;
	else if (kind == OP_RELEASE)
		feed_ev(n, FSM_EV_ADMIN_RELEASE);
	else if (kind == OP_TAKEOVER)
		feed_ev(n, FSM_EV_ADMIN_TAKEOVER);
}

/* b took the role once and handed it back: it yields (what made the pair livelock). */
#define B_HANDED_OVER { 1, 'b', OP_TAKEOVER }, { 10, 'a', OP_TAKEOVER }

static void test_pair(void)
{
	static const struct {
		const char *what;
		int failback;
		struct op ops[5];
		int count_from;		/* round from which state changes are counted */
		char holder;		/* who is active at the end, '-' nobody */
		int max_a, max_b;	/* state changes from count_from on */
		unsigned flags_a, flags_b;	/* at the end */
	} v[] = {
		{ "kill -9 on the active preferred node", 1, { B_HANDED_OVER, { 20, 'a', OP_KILL } },
		  20, 'b', 2, 2, FSM_F_YIELD, 0 },
		{ "... back, auto_failback off", 0, { B_HANDED_OVER, { 20, 'a', OP_KILL },
		  { 50, 'a', OP_REVIVE } }, 20, 'b', 2, 2, 0, 0 },
		{ "... back, auto_failback on", 1, { B_HANDED_OVER, { 20, 'a', OP_KILL },
		  { 50, 'a', OP_REVIVE } }, 20, 'a', 4, 4, 0, FSM_F_YIELD },
		{ "release on the active preferred node", 1, { B_HANDED_OVER,
		  { 20, 'a', OP_RELEASE } }, 20, 'b', 2, 2, FSM_F_YIELD, 0 },
		{ "both nodes released while standing by", 1, { { 0, 'a', OP_RELEASE },
		  { 0, 'b', OP_RELEASE } }, 0, 'a', 2, 0, 0, FSM_F_YIELD },
		{ "the standby released, then the active", 1, { { 5, 'b', OP_RELEASE },
		  { 10, 'a', OP_RELEASE } }, 10, 'b', 2, 2, FSM_F_YIELD, 0 },
		{ "both fail: the last holder keeps the role", 0, { { 5, 'a', OP_KILL },
		  { 15, 'b', OP_KILL } }, 15, 'b', 0, 0, FSM_F_YIELD, FSM_F_YIELD },
		{ "... until the other's resources are back", 0, { { 5, 'a', OP_KILL },
		  { 15, 'b', OP_KILL }, { 30, 'a', OP_REVIVE } }, 15, 'a', 2, 2, 0, FSM_F_YIELD },
		/* Both failed from the start: the preferred node tries once per retry delay
		 * (deadtime), the other waits; 95 rounds, at most 19 tries of 3 changes. */
		{ "neither can run: one try per retry delay", 0, { { 0, 'a', OP_KILL },
		  { 0, 'b', OP_KILL } }, 5, '-', 57, 0, FSM_F_YIELD, FSM_F_YIELD },
	};
	size_t i;

	for (i = 0; i < sizeof(v) / sizeof(v[0]); i++) {
		struct fsm_config ca = { 1, v[i].failback, 2000 }, cb = { 0, v[i].failback, 2000 };
		struct node a = { .can_run = 1 }, b = { .can_run = 1 };
		int r, from_a = 0, from_b = 0;
		size_t k;
		char holder;

		fsm_init(&a.f, &ca);
		fsm_init(&b.f, &cb);
		feed_ev(&a, FSM_EV_REPL);
		feed_ev(&b, FSM_EV_REPL);
		for (r = 0; r < 100; r++) {
			if (r == v[i].count_from) {
				from_a = a.changes;
				from_b = b.changes;
			}
			for (k = 0; k < 5 && v[i].ops[k].kind != OP_NONE; k++)
				if (v[i].ops[k].round == r)
					do_op(v[i].ops[k].node == 'a' ? &a : &b, v[i].ops[k].kind);
			now += 100;
			hear(&a, &b);
			hear(&b, &a);
			node_tick(&a, r);
			node_tick(&b, r);
		}
		holder = a.f.state == FSM_ACTIVE ? 'a' : b.f.state == FSM_ACTIVE ? 'b' : '-';
		ok(holder == v[i].holder, "%s: %c holds the role (got %c)", v[i].what, v[i].holder,
		   holder);
		ok(a.changes - from_a <= v[i].max_a && b.changes - from_b <= v[i].max_b,
		   "%s: state changes a %d (at most %d), b %d (at most %d)", v[i].what,
		   a.changes - from_a, v[i].max_a, b.changes - from_b, v[i].max_b);
		ok(fsm_flags(&a.f) == v[i].flags_a && fsm_flags(&b.f) == v[i].flags_b,
		   "%s: flags a %u b %u", v[i].what, fsm_flags(&a.f), fsm_flags(&b.f));
	}
}

static void test_split_brain(void)
{
	struct fsm a, b;

	mk_active(&a, 1, 1);		/* active since t0 */
	now += 100;
	mk_active(&b, 0, 1);		/* took the role later */
	hb(&a, FSM_ACTIVE, 0, HB_REPL_IN_SYNC, b.active_since);
	ok(out.split_brain, "split brain reported");
	is_int(a.state, FSM_RELEASING, "the node that was active first releases");
	hb(&b, FSM_ACTIVE, 0, HB_REPL_IN_SYNC, now - 100);
	ok(out.split_brain, "split brain reported on the other side too");
	is_int(b.state, FSM_ACTIVE, "the last taker keeps the role");

	mk_active(&a, 1, 1);
	mk_active(&b, 0, 1);
	hb(&a, FSM_ACTIVE, 0, HB_REPL_IN_SYNC, b.active_since);
	is_int(a.state, FSM_ACTIVE, "same instant: the preferred node keeps it");
	hb(&b, FSM_ACTIVE, 0, HB_REPL_IN_SYNC, a.active_since);
	is_int(b.state, FSM_RELEASING, "same instant: the other releases");
}

static void test_shutdown(void)
{
	struct fsm f;

	mk_active(&f, 1, 1);
	step(&f, FSM_EV_SHUTDOWN);
	is_int(f.state, FSM_RELEASING, "active -> releasing on shutdown, even with the peer dead");
	is_int(out.actions, FSM_ACT_STOP, "stop resources");
	step(&f, FSM_EV_STOPPED);
	ok(f.state == FSM_STANDBY && (fsm_flags(&f) & FSM_F_YIELD), "then standby and yielding");
	mk(&f, 1, 1);
	step(&f, FSM_EV_SHUTDOWN);
	ok(f.state == FSM_STANDBY && (fsm_flags(&f) & FSM_F_YIELD), "standby just yields");
}

static void test_names(void)
{
	int s;

	for (s = 0; s < FSM_NSTATES; s++)
		is_int(fsm_state_parse(fsm_state_name(s)), s, "state name %s round trips",
		       fsm_state_name(s));
	is_int(fsm_state_parse("bogus"), -1, "unknown state name");
}

int main(void)
{
	test_takeover_on_death();
	test_refusals();
	test_early_probe();
	test_pairing();
	test_resume();
	test_start_failed();
	test_admin();
	test_peer_wants();
	test_maintenance();
	test_failback();
	test_resource_failed();
	test_failed_yields();
	test_yield_cleared();
	test_pair();
	test_split_brain();
	test_shutdown();
	test_names();
	return done_testing();
}
