/* Replication state and auto_failback: vdiskd's "mirror STATE" line read into the heartbeat's
 * state, and the failback decisions it drives. The role goes back only when both replicas
 * say in sync; a split brain refuses it (and says so), whatever else holds. */
#include <errno.h>
#include <string.h>

#include "standby/fsm.h"
#include "standby/hbpkt.h"
#include "standby/resource.h"
#include "tests/lib/tap.h"

static uint64_t now = 1000000;
static struct fsm_output out;

static void step(struct fsm *f, enum fsm_event ev)
{
	struct fsm_input in = { .ev = ev, .now_ms = now };

	fsm_step(f, &in, &out);
}

static void repl(struct fsm *f, enum hb_repl r)
{
	struct fsm_input in = { .ev = FSM_EV_REPL, .now_ms = now, .repl = (uint8_t)r };

	fsm_step(f, &in, &out);
}

static void hb(struct fsm *f, enum hb_repl peer_repl)
{
	struct fsm_input in = { .ev = FSM_EV_HEARTBEAT, .now_ms = now,
				.peer_state = FSM_STANDBY, .peer_repl = (uint8_t)peer_repl };

	fsm_step(f, &in, &out);
}

/* The non-preferred node, active after a takeover, auto_failback on; its own replication
 * state ours; the preferred peer back and alive past the failback delay. */
static void mk(struct fsm *f, int failback, enum hb_repl ours)
{
	struct fsm_config c = { 0, failback, 2000 };

	fsm_init(f, &c);
	step(f, FSM_EV_PEER_DEAD);
	step(f, FSM_EV_PROBE_CLEAR);
	step(f, FSM_EV_STARTED);
	repl(f, ours);
	hb(f, HB_REPL_UNKNOWN);
	now += 2500;
}

static void test_mirror_line(void)
{
	static const struct { const char *reply; enum hb_repl want; const char *what; } v[] = {
		{ "ok\nstate: active\nmirror in-sync\n", HB_REPL_IN_SYNC, "in-sync" },
		{ "ok\nmirror off\nsessions: 3\n", HB_REPL_IN_SYNC, "off (no mirror): in sync" },
		{ "ok\nmirror unprotected\n", HB_REPL_DEGRADED,
		  "unprotected (hot-standby clients, no mirror): degraded" },
		{ "ok\nmirror syncing\n", HB_REPL_SYNCING, "syncing" },
		{ "ok\nmirror degraded\n", HB_REPL_DEGRADED, "degraded" },
		{ "ok\nmirror split-brain\n", HB_REPL_SPLIT_BRAIN, "split-brain" },
		{ "ok\nmirror: degraded\n", HB_REPL_DEGRADED, "'mirror: STATE' too" },
		{ "ok\nsessions: 3\nmirror degraded", HB_REPL_DEGRADED, "last line, no newline" },
		{ "ok\nmirror degraded\r\n", HB_REPL_DEGRADED, "CRLF" },
		{ "ok\nstate: active\npeer: srv-b alive\nsessions: 3\n", HB_REPL_UNKNOWN,
		  "no mirror line (an older vdiskd): unknown" },
		{ "ok\nmirror on-fire\n", HB_REPL_UNKNOWN, "unknown state: unknown" },
		{ "ok\nmirror in-syncx\n", HB_REPL_UNKNOWN, "a prefix of a state is not it" },
		{ "ok\nmirror\n", HB_REPL_UNKNOWN, "no state" },
		{ "ok\nmirrors in-sync\n", HB_REPL_UNKNOWN, "another key starting with mirror" },
		{ "ok\nxmirror in-sync\n", HB_REPL_UNKNOWN, "key not at the start of the line" },
		{ "", HB_REPL_UNKNOWN, "empty" },
	};
	size_t i;

	for (i = 0; i < sizeof(v) / sizeof(v[0]); i++)
		is_int(res_vdiskd_mirror(v[i].reply), v[i].want, "mirror line: %s", v[i].what);
	is_str(hb_repl_name(HB_REPL_SPLIT_BRAIN), "split_brain", "split_brain has a name");
}

/* The active node's status check: a vdiskd restarted in the secondary role between two
 * checks is not running as the resource, so the monitor's restart tells it primary again. */
static void test_status_role(void)
{
	static const struct { const char *reply; int rc, want; const char *what; } v[] = {
		{ "ok\nrole primary\nclients 2\nmirror in-sync\n", 0, 0, "primary" },
		{ "ok\nsessions 0\nrole secondary\nclients 0\n", 0, -ESRCH, "secondary: restart" },
		{ "ok\nrole secondary", 0, -ESRCH, "secondary, last line without newline" },
		{ "ok\nrole secondary\r\n", 0, -ESRCH, "secondary, CRLF" },
		{ "ok\nstate: active\nsessions: 3\n", 0, 0, "no role line (an older vdiskd)" },
		{ "ok\nrole secondaryx\n", 0, 0, "not the word secondary" },
		{ "ok\nxrole secondary\n", 0, 0, "not at the start of a line" },
		{ "error: busy\n", 0, -EIO, "an error answer" },
		{ "", -ECONNREFUSED, -ECONNREFUSED, "nobody listening (killed)" },
	};
	size_t i;

	for (i = 0; i < sizeof(v) / sizeof(v[0]); i++)
		is_int(res_vdiskd_result(RES_STATUS, v[i].rc, v[i].reply), v[i].want,
		       "status: %s", v[i].what);
	is_int(res_vdiskd_result(RES_START, 0, "ok\nrole secondary\n"), 0,
	       "only a status answer is read for the role");
}

static void test_failback(void)
{
	struct fsm f;

	mk(&f, 1, HB_REPL_IN_SYNC);
	hb(&f, HB_REPL_SYNCING);
	is_int(f.state, FSM_ACTIVE, "peer syncing: no failback");
	ok(out.failback_held && !out.failback_split, "held, and says why");
	hb(&f, HB_REPL_IN_SYNC);
	is_int(f.state, FSM_RELEASING, "both in sync: failback");
	ok(!out.failback_held, "nothing held then");

	mk(&f, 1, HB_REPL_DEGRADED);
	hb(&f, HB_REPL_IN_SYNC);
	is_int(f.state, FSM_ACTIVE, "our mirror degraded (peer says in sync): no failback");
	repl(&f, HB_REPL_SYNCING);
	is_int(f.state, FSM_ACTIVE, "a replication change alone moves nothing");
	hb(&f, HB_REPL_IN_SYNC);
	is_int(f.state, FSM_ACTIVE, "resync running: still no failback");
	repl(&f, HB_REPL_IN_SYNC);
	hb(&f, HB_REPL_IN_SYNC);
	is_int(f.state, FSM_RELEASING, "resync done: failback at the next heartbeat");

	mk(&f, 1, HB_REPL_UNKNOWN);
	hb(&f, HB_REPL_IN_SYNC);
	is_int(f.state, FSM_ACTIVE, "our state unknown (vdiskd without the line): no failback");

	mk(&f, 1, HB_REPL_SPLIT_BRAIN);
	hb(&f, HB_REPL_IN_SYNC);
	is_int(f.state, FSM_ACTIVE, "split brain here: failback refused");
	ok(out.failback_split && out.failback_held && strstr(out.failback_held, "split brain"),
	   "flagged as split brain, for the loud event");

	mk(&f, 1, HB_REPL_IN_SYNC);
	hb(&f, HB_REPL_SPLIT_BRAIN);
	is_int(f.state, FSM_ACTIVE, "split brain reported by the peer: failback refused");
	ok(out.failback_split, "flagged");
	now += 60000;
	hb(&f, HB_REPL_SPLIT_BRAIN);
	is_int(f.state, FSM_ACTIVE, "however long it lasts");

	mk(&f, 0, HB_REPL_SPLIT_BRAIN);
	hb(&f, HB_REPL_SPLIT_BRAIN);
	ok(f.state == FSM_ACTIVE && !out.failback_held, "auto_failback off: nothing due, nothing held");

	mk(&f, 1, HB_REPL_DEGRADED);
	now -= 2000;	/* peer alive only 500 ms */
	hb(&f, HB_REPL_IN_SYNC);
	ok(f.state == FSM_ACTIVE && !out.failback_held,
	   "before the failback delay: not due yet, so not reported as held");
}

int main(void)
{
	test_mirror_line();
	test_status_role();
	test_failback();
	return done_testing();
}
