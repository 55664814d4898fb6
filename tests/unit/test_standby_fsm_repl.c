/* Replication state and auto_failback: vdiskd's status member "mirror" read into the heartbeat's
 * state, and the failback decisions it drives. The role goes back only when both replicas
 * say in sync; a split brain refuses it (and says so), whatever else holds. */
#include <errno.h>
#include <string.h>

#include "common/ctlsock.h"
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

/* A vdiskd answer as standbyd's client gets it: through ctl_parse, the one parser. NULL for
 * text that is not an answer, as a failed call gives none. */
static json_t *answer_of(const char *text)
{
	json_t *a = NULL;

	if (!text || ctl_parse(text, strlen(text), &a))
		return NULL;
	return a;
}

static void test_mirror_line(void)
{
	static const struct { const char *reply; enum hb_repl want; const char *what; } v[] = {
		{ "{\"ok\":true,\"state\":\"active\",\"mirror\":\"in-sync\"}", HB_REPL_IN_SYNC,
		  "in-sync" },
		{ "{\"ok\":true,\"mirror\":\"off\",\"sessions\":3}", HB_REPL_IN_SYNC,
		  "off (no mirror): in sync" },
		{ "{\"ok\":true,\"mirror\":\"unprotected\"}", HB_REPL_DEGRADED,
		  "unprotected (hot-standby clients, no mirror): degraded" },
		{ "{\"ok\":true,\"mirror\":\"syncing\"}", HB_REPL_SYNCING, "syncing" },
		{ "{\"ok\":true,\"mirror\":\"degraded\"}", HB_REPL_DEGRADED, "degraded" },
		{ "{\"ok\":true,\"mirror\":\"split-brain\"}", HB_REPL_SPLIT_BRAIN, "split-brain" },
		{ "{\"ok\":true,\"mirror\":\"degraded\",\"fence\":{\"state\":\"asking\"}}",
		  HB_REPL_DEGRADED, "among other members, an object too" },
		{ "{\"ok\":true,\"sessions\":3,\"mirror\":\"degraded\"}", HB_REPL_DEGRADED,
		  "last member, no newline" },
		{ "{\"ok\":true,\"mirror\":\"degraded\"}\r\n", HB_REPL_DEGRADED, "CRLF" },
		{ "{\"ok\":true,\"state\":\"active\",\"peer\":\"srv-b\",\"sessions\":3}",
		  HB_REPL_UNKNOWN, "no mirror member (an older vdiskd): unknown" },
		{ "{\"ok\":true,\"mirror\":\"on-fire\"}", HB_REPL_UNKNOWN, "unknown state: unknown" },
		{ "{\"ok\":true,\"mirror\":\"in-syncx\"}", HB_REPL_UNKNOWN,
		  "a prefix of a state is not it" },
		{ "{\"ok\":true,\"mirror\":\"\"}", HB_REPL_UNKNOWN, "no state" },
		{ "{\"ok\":true,\"mirrors\":\"in-sync\"}", HB_REPL_UNKNOWN,
		  "another key starting with mirror" },
		{ "{\"ok\":true,\"mirror_client\":[{\"name\":\"PC001\",\"state\":\"in-sync\"}]}",
		  HB_REPL_UNKNOWN, "a client's state is not the pair's" },
		{ "{\"ok\":true,\"mirror\":1}", HB_REPL_UNKNOWN, "not a string: as if missing" },
		{ "{\"ok\":true,\"mirror\":[\"in-sync\"]}", HB_REPL_UNKNOWN,
		  "an array: as if missing" },
		{ "{\"ok\":false,\"error\":\"busy\",\"mirror\":\"in-sync\"}", HB_REPL_UNKNOWN,
		  "an error answer says nothing of the mirror" },
		{ "", HB_REPL_UNKNOWN, "empty (no answer)" },
	};
	size_t i;

	for (i = 0; i < sizeof(v) / sizeof(v[0]); i++) {
		json_t *a = answer_of(v[i].reply);

		is_int(res_vdiskd_mirror(a), v[i].want, "mirror member: %s", v[i].what);
		json_decref(a);
	}
	ok(answer_of("ok\nmirror in-sync\n") == NULL, "the old text is no answer");
	is_int(res_vdiskd_mirror(NULL), HB_REPL_UNKNOWN, "no answer: unknown");
	is_str(hb_repl_name(HB_REPL_SPLIT_BRAIN), "split_brain", "split_brain has a name");
}

/* The active node's status check: a vdiskd restarted in the secondary role between two
 * checks is not running as the resource, so the monitor's restart tells it primary again. */
static void test_status_role(void)
{
	static const struct { const char *reply; int rc, want; const char *what; } v[] = {
		{ "{\"ok\":true,\"role\":\"primary\",\"clients\":2,\"mirror\":\"in-sync\"}", 0, 0,
		  "primary" },
		{ "{\"ok\":true,\"sessions\":0,\"role\":\"secondary\",\"clients\":0}", 0, -ESRCH,
		  "secondary: restart" },
		{ "{\"ok\":true,\"role\":\"secondary\"}", 0, -ESRCH,
		  "secondary, last member, no newline" },
		{ "{\"ok\":true,\"role\":\"secondary\"}\r\n", 0, -ESRCH, "secondary, CRLF" },
		{ "{\"ok\":true,\"state\":\"active\",\"sessions\":3}", 0, 0,
		  "no role member (an older vdiskd)" },
		{ "{\"ok\":true,\"role\":\"secondaryx\"}", 0, 0, "not the word secondary" },
		{ "{\"ok\":true,\"xrole\":\"secondary\"}", 0, 0, "another key" },
		{ "{\"ok\":true,\"role\":[\"secondary\"]}", 0, 0, "not a string: as if missing" },
		{ "{\"ok\":false,\"error\":\"busy\"}", 0, -EIO, "an error answer" },
		{ NULL, -ECONNREFUSED, -ECONNREFUSED, "nobody listening (killed)" },
	};
	size_t i;

	for (i = 0; i < sizeof(v) / sizeof(v[0]); i++) {
		json_t *a = answer_of(v[i].reply);

		ok(a || !v[i].reply, "answer parses: %s", v[i].what);
		is_int(res_vdiskd_result(RES_STATUS, v[i].rc, a), v[i].want, "status: %s",
		       v[i].what);
		json_decref(a);
	}
	{
		json_t *a = answer_of("{\"ok\":true,\"role\":\"secondary\"}");

		is_int(res_vdiskd_result(RES_START, 0, a), 0,
		       "only a status answer is read for the role");
		json_decref(a);
		a = answer_of("{\"ok\":true}");
		is_int(res_vdiskd_result(RES_START, 0, a), 0, "role primary answered {\"ok\":true}");
		json_decref(a);
	}
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
	is_int(f.state, FSM_ACTIVE, "our state unknown (vdiskd without the member): no failback");

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
