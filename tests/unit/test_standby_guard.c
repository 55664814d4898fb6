/* vdiskctl's standby guard: from standbyd's status answer, edits are refused only on a node
 * that does not hold the role while its live peer does. */
#include <jansson.h>
#include <string.h>

#include "client-admin/standby_guard.h"
#include "tests/lib/tap.h"

/* The decision for the answer text (one JSON object; NULL: no answer at all). */
static int refuses(const char *text, char *active)
{
	json_t *answer = text ? json_loads(text, 0, NULL) : NULL;
	int r;

	if (text && !answer) {
		diag("not JSON: %s", text);
		return -1;
	}
	strcpy(active, "-");
	r = standby_guard_refuses(answer, active, 64);
	json_decref(answer);
	return r;
}

int main(void)
{
	char active[64];

	ok(refuses("{\"ok\":true,\"node\":\"b\",\"state\":\"standby\",\"peer\":\"a\","
		   "\"peer_status\":\"alive\",\"peer_state\":\"active\"}", active) == 1,
	   "standby with an active peer: refused");
	is_str(active, "a", "names the active node");
	ok(refuses("{\"ok\":true,\"node\":\"b\",\"state\":\"maintenance\",\"peer\":\"srv-a\","
		   "\"peer_status\":\"alive\",\"peer_state\":\"taking_over\"}", active) == 1,
	   "maintenance with a peer taking over: refused");
	is_str(active, "srv-a", "names it");
	ok(!refuses("{\"ok\":true,\"node\":\"a\",\"state\":\"active\",\"peer\":\"b\","
		    "\"peer_status\":\"alive\",\"peer_state\":\"standby\"}", active),
	   "the active node: allowed");
	ok(!refuses("{\"state\":\"taking_over\",\"peer\":\"b\",\"peer_status\":\"alive\","
		    "\"peer_state\":\"standby\"}", active), "taking over: allowed");
	ok(!refuses("{\"state\":\"standby\",\"peer\":\"a\",\"peer_status\":\"dead\","
		    "\"peer_state\":\"active\"}", active),
	   "peer dead: allowed (nobody else can take the change)");
	ok(!refuses("{\"state\":\"standby\",\"peer\":\"a\",\"peer_status\":\"unknown\","
		    "\"peer_state\":\"unknown\"}", active), "peer never heard: allowed");
	ok(!refuses("{\"state\":\"standby\",\"peer\":\"a\",\"peer_status\":\"alive\","
		    "\"peer_state\":\"standby\"}", active), "both standing by: allowed");
	ok(!refuses("{\"ok\":true,\"state\":\"standby\",\"peer\":\"srv-b\",\"peer_status\":\"alive\","
		    "\"sessions\":3}", active),
	   "an answer without peer_state (another daemon's members): allowed");
	ok(!refuses("{}", active), "empty answer: allowed");
	ok(!refuses(NULL, active), "no answer: allowed");
	ok(!refuses("{\"state\":\"standby\",\"peer\":\"\",\"peer_status\":\"alive\","
		    "\"peer_state\":\"active\"}", active), "peer without a name: allowed");
	ok(!refuses("{\"state\":\"standby\",\"peer_status\":\"alive\",\"peer_state\":\"active\"}",
		    active), "no peer member: allowed");
	ok(refuses("{\"peer_state\":\"active\",\"peer_status\":\"alive\",\"peer\":\"a\","
		   "\"state\":\"standby\"}", active) == 1, "members in any order: refused");
	ok(!refuses("{\"xstate\":\"standby\",\"state\":\"active\",\"peer\":\"a\","
		    "\"peer_status\":\"alive\",\"peer_state\":\"active\"}", active),
	   "a key is matched whole");
	ok(!refuses("{\"state\":\"standby\",\"peer\":\"a alive\",\"peer_state\":\"active\"}",
		    active), "the old 'NAME alive' peer without peer_status: allowed");
	ok(!refuses("{\"state\":\"standby\",\"peer\":\"a\",\"peer_status\":true,"
		    "\"peer_state\":\"active\"}", active),
	   "peer_status not a string counts as missing: allowed");
	ok(!refuses("{\"state\":\"standby\",\"peer\":7,\"peer_status\":\"alive\","
		    "\"peer_state\":\"active\"}", active) && strcmp(active, "-") == 0,
	   "a peer that is not a string is no name: allowed, nothing copied");
	ok(!refuses("{\"state\":[\"standby\"],\"peer\":\"a\",\"peer_status\":\"alive\","
		    "\"peer_state\":{\"name\":\"active\"}}", active),
	   "state and peer_state of the wrong type: allowed");
	ok(!refuses("{\"state\":\"standby\",\"peer\":\"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
		    "aaaaaaaaaaaaaaaaaaaaaaaaaaaaa\",\"peer_status\":\"alive\","
		    "\"peer_state\":\"active\"}", active) && strcmp(active, "-") == 0,
	   "an overlong peer name (standbyd's are under 32 bytes) is not taken, nor copied");
	return done_testing();
}
