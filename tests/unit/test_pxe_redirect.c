/* standbyd's status reply and the hot-standby decision table (the iPXE script: test_pxe_script.c). */
#include <errno.h>
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

int main(void)
{
	struct standby_status st;
	struct db_client a_hs = client("PC001", "A", 1), a = client("PC002", "A", 0);
	struct db_client b = client("PC003", "B", 0), none = client("PC004", "", 0);
	char why[300];

	/* Parsing standbyd's answer. */
	is_int(standby_parse("ok\nstate: active\npeer: A dead\nlinks: 2\n", &st), 0, "status parses");
	is_str(st.state, "active", "state");
	is_str(st.peer, "A", "peer name");
	is_str(st.peer_state, "dead", "peer state");
	is_int(standby_parse("ok\nnode: B\nstate: standby", &st), 0, "no peer line, no final newline");
	is_str(st.state, "standby", "state without a newline");
	is_str(st.peer, "", "no peer");
	is_int(standby_parse("error: busy\nstate: active\n", &st), -EPROTO, "error reply refused");
	is_int(standby_parse("ok\npeer: A dead\n", &st), -EPROTO, "no state line refused");
	is_int(standby_parse("", &st), -EPROTO, "empty reply refused");
	is_int(standby_parse("okay\nstate: active\n", &st), -EPROTO, "'okay' is not 'ok'");
	is_int(standby_parse("ok\nstate: a-very-long-state-name-that-goes-on-and-on\n", &st), 0,
	       "over-long state value");
	ok(strlen(st.state) < sizeof(st.state), "is cut to its field");
	is_int(standby_parse("ok\nstate:active\npeer: node with spaces alive\n", &st), 0,
	       "no space after ':'; peer name with spaces");
	is_str(st.state, "active", "state read");
	is_str(st.peer, "node with spaces", "peer name up to the last word");
	is_str(st.peer_state, "alive", "its state is the last word");

	/* The decision table. */
	standby_parse("ok\nstate: active\npeer: A dead\n", &st);
	is_int(redirect_decide("", &a, &st, why, sizeof(why)), REDIRECT_OWN, "node unset: answer all");
	is_int(redirect_decide("B", &b, NULL, why, sizeof(why)), REDIRECT_OWN, "own client, standbyd gone");
	is_int(redirect_decide("B", &none, NULL, why, sizeof(why)), REDIRECT_OWN, "unassigned client");
	is_int(redirect_decide("B", &a_hs, &st, why, sizeof(why)), REDIRECT_TAKEOVER,
	       "A dead, B active, hot standby: taken over");
	is_str(why, "PC001 answered by B for dead A (hot standby)", "and says so");
	is_int(redirect_decide("B", &a, &st, why, sizeof(why)), REDIRECT_REFUSE, "no hot standby: refused");
	is_str(why, "PC002 belongs to A and has no hot standby: not answered by B", "why");
	is_int(redirect_decide("B", &a_hs, NULL, why, sizeof(why)), REDIRECT_REFUSE, "standbyd unreachable");
	standby_parse("ok\nstate: standby\npeer: A dead\n", &st);
	is_int(redirect_decide("B", &a_hs, &st, why, sizeof(why)), REDIRECT_REFUSE, "not active yet");
	standby_parse("ok\nstate: taking_over\npeer: A dead\n", &st);
	is_int(redirect_decide("B", &a_hs, &st, why, sizeof(why)), REDIRECT_REFUSE,
	       "taking over is not active yet");
	standby_parse("ok\nstate: active\npeer: A alive\n", &st);
	is_int(redirect_decide("B", &a_hs, &st, why, sizeof(why)), REDIRECT_REFUSE, "A alive");
	standby_parse("ok\nstate: active\npeer: A unknown\n", &st);
	is_int(redirect_decide("B", &a_hs, &st, why, sizeof(why)), REDIRECT_REFUSE, "A unknown");
	standby_parse("ok\nstate: active\npeer: C dead\n", &st);
	is_int(redirect_decide("B", &a_hs, &st, why, sizeof(why)), REDIRECT_REFUSE,
	       "the dead peer is not the client's server");

	return done_testing();
}
