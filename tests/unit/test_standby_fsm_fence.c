/* Fencing in the state machine and on the wire: a node whose copy is outdated (the peer
 * acknowledged writes it lacks) never takes the role by itself, not when the peer dies, not on
 * a tie; it gives the role up to a current peer on a split brain; an admin may force it. The
 * heartbeat's fence bits and epoch: encoded, decoded, and malformed combinations dropped.
 * vdiskd's status member "fence" (and "role") as standbyd reads it. */
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

static void outdated(struct fsm *f, int on)
{
	struct fsm_input in = { .ev = FSM_EV_OUTDATED, .now_ms = now, .outdated = on };

	fsm_step(f, &in, &out);
}

static void hb(struct fsm *f, enum fsm_state peer_state, unsigned peer_flags)
{
	struct fsm_input in = { .ev = FSM_EV_HEARTBEAT, .now_ms = now,
				.peer_state = (uint8_t)peer_state, .peer_flags = (uint8_t)peer_flags,
				.peer_active_since = now - 10 };

	fsm_step(f, &in, &out);
}

static void mk(struct fsm *f, int preferred)
{
	struct fsm_config c = { preferred, 0, 2000 };

	fsm_init(f, &c);
}

static void test_peer_dead(void)
{
	struct fsm f;

	mk(&f, 0);
	hb(&f, FSM_ACTIVE, HB_F_OUTDATE_PEER);
	outdated(&f, 1);
	step(&f, FSM_EV_PEER_DEAD);
	ok(f.state == FSM_STANDBY && !(out.actions & FSM_ACT_PROBE) && out.refused &&
	   strstr(out.refused, "outdated"), "outdated: the peer dies, no probe, no takeover, "
	   "the refusal names the outdated copy");
	step(&f, FSM_EV_RETRY);
	ok(f.state == FSM_STANDBY && !(out.actions & FSM_ACT_PROBE), "a retry does not take it");
	outdated(&f, 0);
	ok(out.actions & FSM_ACT_PROBE, "current again (an admin's force): the takeover goes on "
	   "with its probe");
	step(&f, FSM_EV_PROBE_CLEAR);
	ok(f.state == FSM_TAKING_OVER, "and takes the role");

	mk(&f, 1);
	step(&f, FSM_EV_PEER_DEAD);
	ok(out.actions & FSM_ACT_PROBE, "not outdated: the peer dies, a probe starts");
	outdated(&f, 1);
	step(&f, FSM_EV_PROBE_CLEAR);
	ok(f.state == FSM_STANDBY, "outdated while the probe ran: no takeover when it comes back");
}

static void test_tie(void)
{
	struct fsm f;

	mk(&f, 1);
	outdated(&f, 1);
	hb(&f, FSM_STANDBY, 0);
	ok(!(out.actions & FSM_ACT_PROBE), "both standing by, the preferred node outdated: it does "
	   "not go for the role");
	mk(&f, 0);
	hb(&f, FSM_STANDBY, HB_F_OUTDATED | HB_F_YIELD);
	ok(out.actions & FSM_ACT_PROBE, "both standing by, the peer outdated: the current "
	   "non-preferred node goes for the role");
	mk(&f, 0);
	hb(&f, FSM_STANDBY, HB_F_OUTDATED | HB_F_WANT);
	ok(out.actions & FSM_ACT_PROBE, "even when the outdated peer asks for it");
}

static void test_split_brain(void)
{
	struct fsm f;

	mk(&f, 1);
	step(&f, FSM_EV_PEER_DEAD);
	step(&f, FSM_EV_PROBE_CLEAR);
	step(&f, FSM_EV_STARTED);
	now += 100;
	outdated(&f, 1);
	hb(&f, FSM_ACTIVE, HB_F_OUTDATE_PEER);
	ok(out.split_brain && f.state == FSM_RELEASING && out.why && strstr(out.why, "outdated"),
	   "both active, this copy outdated: it releases, whoever was active first");
	mk(&f, 0);
	step(&f, FSM_EV_PEER_DEAD);
	step(&f, FSM_EV_PROBE_CLEAR);
	step(&f, FSM_EV_STARTED);
	now += 100;
	hb(&f, FSM_ACTIVE, HB_F_OUTDATED);
	ok(out.split_brain && f.state == FSM_ACTIVE, "both active, the peer's copy outdated: this "
	   "node keeps the role though it took it last");
}

static void test_admin(void)
{
	struct fsm f;

	mk(&f, 0);
	hb(&f, FSM_ACTIVE, HB_F_OUTDATE_PEER);
	outdated(&f, 1);
	step(&f, FSM_EV_ADMIN_TAKEOVER);
	ok(out.admin_rc == -EPERM && out.admin_msg && strstr(out.admin_msg, "--force") &&
	   !f.want, "admin takeover of an outdated copy: refused, pointing at --force");

	mk(&f, 1);
	step(&f, FSM_EV_PEER_DEAD);
	step(&f, FSM_EV_PROBE_CLEAR);
	step(&f, FSM_EV_STARTED);
	hb(&f, FSM_STANDBY, HB_F_OUTDATED);
	step(&f, FSM_EV_ADMIN_RELEASE);
	ok(out.admin_rc == -EAGAIN && f.state == FSM_ACTIVE && strstr(out.admin_msg, "outdated"),
	   "release while the peer's copy is outdated: refused (its resync is not done)");
	step(&f, FSM_EV_ADMIN_MAINTENANCE);
	ok(out.admin_rc == -EAGAIN && f.state == FSM_ACTIVE, "maintenance too");
	hb(&f, FSM_STANDBY, 0);
	step(&f, FSM_EV_ADMIN_RELEASE);
	ok(out.admin_rc == 0 && f.state == FSM_RELEASING, "the peer current again: release goes");

	mk(&f, 1);
	step(&f, FSM_EV_PEER_DEAD);
	step(&f, FSM_EV_PROBE_CLEAR);
	step(&f, FSM_EV_STARTED);
	hb(&f, FSM_STANDBY, HB_F_OUTDATED);
	step(&f, FSM_EV_RESOURCE_FAILED);
	ok(f.state == FSM_ACTIVE && out.refused, "a resource fails while the peer's copy is "
	   "outdated: the role is kept (the peer could not take it)");
}

static const struct ha_authkeys *keys(void)
{
	static struct ha_authkeys k;

	k.active = 1;
	k.keys[1].alg = HA_AUTH_SHA256;
	memcpy(k.keys[1].key, "a-test-key-of-at-least-32-bytes!!", 33);
	k.keys[1].keylen = 33;
	return &k;
}

static enum hb_drop roundtrip(unsigned flags, uint16_t epoch, struct hb_msg *got)
{
	struct hb_msg m = { .key_index = 1, .state = FSM_ACTIVE, .flags = (uint8_t)flags,
			    .cluster = "c", .node = "a", .boot_gen = 7, .seq = 1,
			    .fence_epoch = epoch };
	uint8_t pkt[HB_LEN];

	if (hb_encode(&m, keys(), pkt) != HB_LEN)
		return HB_DROP_NKINDS;
	return hb_decode(pkt, HB_LEN, keys(), got);
}

static void test_wire(void)
{
	struct hb_msg got;

	ok(roundtrip(HB_F_OUTDATE_PEER, 0xbeef, &got) == HB_OK &&
	   (got.flags & HB_F_OUTDATE_PEER) && got.fence_epoch == 0xbeef,
	   "OUTDATE_PEER with its epoch goes through");
	ok(roundtrip(HB_F_OUTDATED | HB_F_YIELD, 1, &got) == HB_OK &&
	   got.flags == (HB_F_OUTDATED | HB_F_YIELD) && got.fence_epoch == 1,
	   "OUTDATED with the epoch it acknowledges goes through");
	ok(roundtrip(HB_F_OUTDATE_PEER | HB_F_OUTDATED, 1, &got) == HB_DROP_MALFORMED,
	   "both fence bits at once: malformed");
	ok(roundtrip(0, 5, &got) == HB_DROP_MALFORMED, "an epoch without a fence bit: malformed");
	ok(roundtrip(1u << 5, 0, &got) == HB_DROP_MALFORMED, "an unknown flag: malformed");
	ok(roundtrip(HB_F_HOLDING, 0, &got) == HB_OK && got.fence_epoch == 0,
	   "no fence: epoch 0");
}

/* A vdiskd answer as standbyd's client gets it (ctl_parse); NULL for none. */
static json_t *answer_of(const char *text)
{
	json_t *a = NULL;

	if (!text || ctl_parse(text, strlen(text), &a))
		return NULL;
	return a;
}

static void test_status_line(void)
{
	static const struct { const char *reply; int want; const char *what; } v[] = {
		{ "{\"ok\":true,\"mirror\":\"in-sync\",\"fence\":{\"state\":\"none\",\"fences\":0}}",
		  0, "none" },
		{ "{\"ok\":true,\"mirror\":\"in-sync\",\"fence\":{\"state\":\"off\"}}", 0, "off" },
		{ "{\"ok\":true,\"mirror\":\"in-sync\"}", 0, "no fence member (an older vdiskd)" },
		{ "{\"ok\":true,\"mirror\":\"degraded\",\"fence\":{\"state\":\"asking\","
		  "\"since_ms\":12,\"fences\":0}}", 1, "asking" },
		{ "{\"ok\":true,\"mirror\":\"in-sync\",\"fence\":{\"state\":\"done\","
		  "\"peer\":\"outdated\",\"fences\":1}}", 1, "done" },
		{ "{\"ok\":true,\"fence\":{\"state\":\"donex\"}}", 0, "a longer word is not done" },
		{ "{\"ok\":true,\"fences\":{\"state\":\"done\"}}", 0, "another key" },
		{ "{\"ok\":true,\"fence\":\"done\"}", 0, "not an object: as if missing" },
		{ "{\"ok\":true,\"fence\":{\"state\":1}}", 0, "a state not a string" },
		{ "{\"ok\":false,\"error\":\"x\",\"fence\":{\"state\":\"done\"}}", 0,
		  "an error answer" },
	};

	for (size_t i = 0; i < sizeof(v) / sizeof(v[0]); i++) {
		json_t *a = answer_of(v[i].reply);

		ok(a != NULL, "answer parses: %s", v[i].what);
		is_int(res_vdiskd_fencing(a), v[i].want, "fence member: %s", v[i].what);
		json_decref(a);
	}
	is_int(res_vdiskd_fencing(NULL), 0, "no answer: not fencing");
	/* a restarted vdiskd says in-sync while secondary with nothing open: no news then */
	static const struct { const char *reply; int want; const char *what; } r[] = {
		{ "{\"ok\":true,\"node\":\"a\",\"role\":\"primary\",\"mirror\":\"in-sync\"}", 1,
		  "role primary" },
		{ "{\"ok\":true,\"role\":\"secondary\",\"mirror\":\"in-sync\"}", 0,
		  "role secondary" },
		{ "{\"ok\":true,\"mirror\":\"in-sync\"}", 0, "no role member" },
		{ "{\"ok\":true,\"role\":\"primaryx\"}", 0, "a longer word is not primary" },
		{ "{\"ok\":true,\"role\":true}", 0, "not a string: as if missing" },
		{ "{\"ok\":false,\"error\":\"x\",\"role\":\"primary\"}", 0, "an error answer" },
	};

	for (size_t i = 0; i < sizeof(r) / sizeof(r[0]); i++) {
		json_t *a = answer_of(r[i].reply);

		ok(a && res_vdiskd_primary(a) == r[i].want, "%s", r[i].what);
		json_decref(a);
	}
	ok(!res_vdiskd_primary(NULL), "no answer: not primary");
}

int main(void)
{
	test_peer_dead();
	test_tie();
	test_split_brain();
	test_admin();
	test_wire();
	test_status_line();
	printf("1..%d\n", tap_count);
	return tap_failed != 0;
}
