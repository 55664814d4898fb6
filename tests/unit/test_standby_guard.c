/* vdiskctl's standby guard: from standbyd's status answer, edits are refused only on a node
 * that does not hold the role while its live peer does. */
#include <string.h>

#include "client-admin/standby_guard.h"
#include "tests/lib/tap.h"

static int refuses(const char *body, char *active)
{
	strcpy(active, "-");
	return standby_guard_refuses(body, active, 64);
}

int main(void)
{
	char active[64];

	ok(refuses("node: b\nstate: standby\npeer: a alive\npeer_state: active\n", active),
	   "standby with an active peer: refused");
	is_str(active, "a", "names the active node");
	ok(refuses("node: b\nstate: maintenance\npeer: srv-a alive\npeer_state: taking_over\n",
		   active), "maintenance with a peer taking over: refused");
	is_str(active, "srv-a", "names it");
	ok(!refuses("node: a\nstate: active\npeer: b alive\npeer_state: standby\n", active),
	   "the active node: allowed");
	ok(!refuses("state: taking_over\npeer: b alive\npeer_state: standby\n", active),
	   "taking over: allowed");
	ok(!refuses("state: standby\npeer: a dead\npeer_state: active\n", active),
	   "peer dead: allowed (nobody else can take the change)");
	ok(!refuses("state: standby\npeer: a unknown\npeer_state: unknown\n", active),
	   "peer never heard: allowed");
	ok(!refuses("state: standby\npeer: a alive\npeer_state: standby\n", active),
	   "both standing by: allowed");
	ok(!refuses("state: active\npeer: srv-b alive\nsessions: 3\n", active),
	   "an answer without peer_state (another daemon's fields): allowed");
	ok(!refuses("", active), "empty answer: allowed");
	ok(!refuses("state: standby\npeer: \npeer_state: active\n", active),
	   "peer line without a name: allowed");
	ok(refuses("state: standby\npeer_state: active\npeer: a alive", active),
	   "fields in any order, last line without a newline: refused");
	ok(!refuses("xstate: standby\nstate: active\npeer: a alive\npeer_state: active\n", active),
	   "a key is matched whole, at the start of a line");
	ok(!refuses("state: standby\npeer: aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
		    " alive\npeer_state: active\n", active) && strcmp(active, "-") == 0,
	   "an overlong peer name (standbyd's are under 32 bytes) is not taken, nor copied");
	return done_testing();
}
