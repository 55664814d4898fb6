/* standbyd's status answer and the hot-standby decision table (the iPXE script: test_pxe_script.c). */
#include <errno.h>
#include <jansson.h>
#include <string.h>

#include "pxe/ipxe_script.h"
#include "pxe/redirect.h"
#include "tests/lib/tap.h"

static struct db_client client(const char *name, const char *server, int hs)
{
	struct db_client c;

	memset(&c, 0, sizeof(c));
	snprintf(c.name, sizeof(c.name), "%s", name);
	snprintf(c.server, sizeof(c.server), "%s", server);
	snprintf(c.mac, sizeof(c.mac), "52:54:00:00:00:01");
	snprintf(c.iqn, sizeof(c.iqn), "iqn.2026-11.lan.vdisk:%s", "pc001");
	c.hot_standby = hs;
	return c;
}

/* standby_parse of the answer text (one JSON object; NULL: no answer). */
static int parse(const char *text, struct standby_status *st)
{
	json_t *answer = text ? json_loads(text, 0, NULL) : NULL;
	int rc;

	if (text && !answer) {
		diag("not JSON: %s", text);
		return -EINVAL;
	}
	rc = standby_parse(answer, st);
	json_decref(answer);
	return rc;
}

/* standbyd's status with only what redirect reads */
static void status(const char *state, const char *peer_status, struct standby_status *st)
{
	char text[200];

	snprintf(text, sizeof(text), "{\"ok\":true,\"state\":\"%s\",\"peer\":\"A\","
		 "\"peer_status\":\"%s\"}", state, peer_status);
	if (parse(text, st))
		diag("does not parse: %s", text);
}

int main(void)
{
	struct standby_status st;
	struct db_client a_hs = client("PC001", "A", 1), a = client("PC002", "A", 0);
	struct db_client b = client("PC003", "B", 0), none = client("PC004", "", 0);
	char why[300];

	/* Reading standbyd's answer. */
	is_int(parse("{\"ok\":true,\"state\":\"active\",\"peer\":\"A\",\"peer_status\":\"dead\","
		     "\"peer_state\":\"unknown\",\"link\":[{\"name\":\"ha0\",\"rx\":2}]}", &st), 0,
	       "status reads");
	is_str(st.state, "active", "state");
	is_str(st.peer, "A", "peer name");
	is_str(st.peer_status, "dead", "peer status (alive, dead, unknown)");
	is_int(parse("{\"ok\":true,\"node\":\"B\",\"state\":\"standby\"}", &st), 0, "no peer member");
	is_str(st.state, "standby", "state");
	is_str(st.peer, "", "no peer");
	is_str(st.peer_status, "", "no peer status");
	is_int(parse("{\"ok\":false,\"error\":\"busy\",\"state\":\"active\"}", &st), -EPROTO,
	       "error answer refused");
	is_int(parse("{\"ok\":true,\"peer\":\"A\",\"peer_status\":\"dead\"}", &st), -EPROTO,
	       "no state refused");
	is_int(parse("{}", &st), -EPROTO, "empty answer refused");
	is_int(parse(NULL, &st), -EPROTO, "no answer refused");
	is_int(parse("{\"ok\":\"yes\",\"state\":\"active\"}", &st), -EPROTO,
	       "'ok' must be true, not a string");
	is_int(parse("{\"ok\":true,\"state\":7}", &st), -EPROTO,
	       "a state that is not a string is none");
	is_int(parse("{\"ok\":true,\"state\":\"a-very-long-state-name-that-goes-on-and-on\"}", &st),
	       0, "over-long state value");
	ok(strlen(st.state) < sizeof(st.state), "is cut to its field");
	is_int(parse("{\"ok\":true,\"state\":\"active\",\"peer\":\"node with spaces\","
		     "\"peer_status\":\"alive\"}", &st), 0, "peer name with spaces");
	is_str(st.state, "active", "state read");
	is_str(st.peer, "node with spaces", "peer name whole");
	is_str(st.peer_status, "alive", "its status apart");
	is_int(parse("{\"ok\":true,\"state\":\"active\",\"peer\":[\"A\"],\"peer_status\":1}", &st),
	       0, "peer members of the wrong type");
	ok(!*st.peer && !*st.peer_status, "are read as none");
	is_int(parse("{\"ok\":true,\"state\":\"active\",\"peer\":\"AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"
		     "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"
		     "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"
		     "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"
		     "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA\","
		     "\"peer_status\":\"dead\"}", &st), 0, "over-long peer name");
	ok(strlen(st.peer) < sizeof(st.peer), "is cut to its field");

	/* The decision table. */
	status("active", "dead", &st);
	is_int(redirect_decide("", &a, &st, why, sizeof(why)), REDIRECT_OWN, "node unset: answer all");
	is_int(redirect_decide("B", &b, NULL, why, sizeof(why)), REDIRECT_OWN, "own client, standbyd gone");
	is_int(redirect_decide("B", &none, NULL, why, sizeof(why)), REDIRECT_OWN, "unassigned client");
	is_int(redirect_decide("B", &a_hs, &st, why, sizeof(why)), REDIRECT_TAKEOVER,
	       "A dead, B active, hot standby: taken over");
	is_str(why, "PC001 answered by B for dead A (hot standby)", "and says so");
	is_int(redirect_decide("B", &a, &st, why, sizeof(why)), REDIRECT_REFUSE, "no hot standby: refused");
	is_str(why, "PC002 belongs to A and has no hot standby: not answered by B", "why");
	is_int(redirect_decide("B", &a_hs, NULL, why, sizeof(why)), REDIRECT_REFUSE, "standbyd unreachable");
	status("standby", "dead", &st);
	is_int(redirect_decide("B", &a_hs, &st, why, sizeof(why)), REDIRECT_REFUSE, "not active yet");
	status("taking_over", "dead", &st);
	is_int(redirect_decide("B", &a_hs, &st, why, sizeof(why)), REDIRECT_REFUSE,
	       "taking over is not active yet");
	status("active", "alive", &st);
	is_int(redirect_decide("B", &a_hs, &st, why, sizeof(why)), REDIRECT_REFUSE, "A alive");
	status("active", "unknown", &st);
	is_int(redirect_decide("B", &a_hs, &st, why, sizeof(why)), REDIRECT_REFUSE, "A unknown");
	parse("{\"ok\":true,\"state\":\"active\",\"peer\":\"C\",\"peer_status\":\"dead\"}", &st);
	is_int(redirect_decide("B", &a_hs, &st, why, sizeof(why)), REDIRECT_REFUSE,
	       "the dead peer is not the client's server");
	parse("{\"ok\":true,\"state\":\"active\",\"peer\":\"A\"}", &st);
	is_int(redirect_decide("B", &a_hs, &st, why, sizeof(why)), REDIRECT_REFUSE,
	       "no peer_status: not taken over");
	is_str(why, "PC001 belongs to A, which is unknown: not taken over", "said unknown");

	return done_testing();
}
