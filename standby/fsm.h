/* The failover state machine, pure: no clocks, sockets or processes. The daemon feeds it
 * events (heartbeats, timers, probe results, resource results, admin commands) and carries out
 * the actions it returns. docs/standby.md has the diagram.
 *
 *   standby -> taking_over -> active -> releasing -> standby | maintenance
 *
 * A standby node takes the role only through an ARP probe of the service address (and its
 * ping nodes) that comes back clear: a primary the clients can still reach is alive, whatever
 * the heartbeat links say. */
#ifndef STANDBY_FSM_H
#define STANDBY_FSM_H

#include <stdint.h>

enum fsm_state {
	FSM_STANDBY = 0,
	FSM_ACTIVE,
	FSM_TAKING_OVER,
	FSM_RELEASING,
	FSM_MAINTENANCE,
	FSM_NSTATES
};

enum fsm_peer { FSM_PEER_UNKNOWN = 0, FSM_PEER_ALIVE, FSM_PEER_DEAD };

enum fsm_probe { FSM_PROBE_NONE = 0, FSM_PROBE_PENDING, FSM_PROBE_CLEAR, FSM_PROBE_BUSY,
		 FSM_PROBE_PING_FAIL, FSM_PROBE_ERROR };

enum fsm_event {
	FSM_EV_HEARTBEAT,	/* authenticated heartbeat: peer_* fields are set */
	FSM_EV_PEER_SUSPECT,	/* silent for deadtime minus probe_wait: probe early */
	FSM_EV_PEER_DEAD,	/* silent for deadtime (initdead after start) */
	FSM_EV_PROBE_CLEAR,	/* no ARP answer for the service address, ping nodes answer */
	FSM_EV_PROBE_BUSY,	/* the service address answered */
	FSM_EV_PROBE_PING_FAIL,	/* no ping node answered */
	FSM_EV_PROBE_ERROR,	/* could not probe (LAN link down, send failed) */
	FSM_EV_RETRY,		/* retry timer after a refused takeover */
	FSM_EV_STARTED,		/* every resource started */
	FSM_EV_START_FAILED,
	FSM_EV_STOPPED,		/* every resource stopped */
	FSM_EV_RESOURCE_FAILED,	/* a resource failed again after its one restart */
	FSM_EV_RESOURCES_OK,	/* every resource that failed here can run again */
	FSM_EV_ADMIN_TAKEOVER,
	FSM_EV_ADMIN_RELEASE,
	FSM_EV_ADMIN_MAINTENANCE,
	FSM_EV_RESUME,		/* at start: the service address is already configured here */
	FSM_EV_SHUTDOWN,	/* standbyd is asked to stop: hand the role over */
	FSM_EV_REPL,		/* our data side's replication state changed: repl is set */
	FSM_EV_OUTDATED,	/* our copy became outdated or current again: outdated is set */
	FSM_NEVENTS
};

enum fsm_action {
	FSM_ACT_PROBE = 1 << 0,	/* ARP-probe the service address and ping the ping nodes */
	FSM_ACT_START = 1 << 1,	/* start resources in order */
	FSM_ACT_STOP  = 1 << 2,	/* stop resources in reverse order */
	FSM_ACT_RETRY = 1 << 3,	/* arm the retry timer */
};

/* Flags this node advertises in its heartbeats (same bits as HB_F_*). A node yields when it
 * handed the role over (until the peer gives it up in its turn) or when its resources failed
 * (until they can run again); it wants the role after an admin takeover; the peer's OUTDATED
 * says its copy lacks acknowledged writes (fence.h). */
enum { FSM_F_YIELD = 1 << 0, FSM_F_WANT = 1 << 1, FSM_F_OUTDATED = 1 << 4 };

struct fsm_config {
	int preferred;		/* this node is haresources' node */
	int auto_failback;
	uint64_t failback_after_ms;	/* peer alive this long before an auto failback */
};

struct fsm {
	struct fsm_config cfg;
	enum fsm_state state;
	enum fsm_peer peer;
	enum fsm_probe probe;
	int yield;		/* handed the role over */
	int peer_took;		/* ... and the peer took it since: its giving up ends our yield */
	/* we gave up the role the peer's yield handed us: that yield is moot until the peer's
	 * heartbeats drop it (they will once it hears of our release) */
	int peer_yield_moot;
	int failed;		/* a resource failed here: cannot hold the role */
	int holdoff;		/* failed and released: wait for the retry timer before trying */
	int want, to_maintenance;
	uint64_t active_since;		/* wall clock ms when we became active, 0 if not */
	uint64_t peer_alive_since;
	/* since when the peer stands by, neither yielding nor failed; 0 while it does not */
	uint64_t peer_ready_since;
	/* last heartbeat's view of the peer */
	uint8_t peer_state, peer_flags, peer_repl, peer_failed;
	uint64_t peer_active_since;
	uint8_t repl;			/* ours (enum hb_repl) */
	/* Our copy of the hot-standby disks lacks writes the peer acknowledged (fence.h): we
	 * do not take the role, and give it up to a current peer. */
	int outdated;
};

struct fsm_input {
	enum fsm_event ev;
	uint64_t now_ms;	/* wall clock */
	/* FSM_EV_HEARTBEAT only */
	uint8_t peer_state, peer_flags, peer_repl;	/* peer_repl: enum hb_repl */
	uint8_t peer_failed;	/* the peer reports a failed resource */
	uint64_t peer_active_since;
	/* FSM_EV_REPL only */
	uint8_t repl;
	/* FSM_EV_OUTDATED only */
	int outdated;
};

struct fsm_output {
	unsigned actions;		/* FSM_ACT_* */
	enum fsm_state from;		/* state before the event */
	int changed;			/* state changed */
	const char *why;		/* reason for the change, NULL if none */
	const char *refused;		/* a takeover was refused for this reason */
	int peer_died;			/* the peer was alive (or never seen) and is now dead */
	int split_brain;		/* both nodes active */
	/* auto_failback is due but held back by the data: why (NULL when not held). With
	 * failback_split the replicas are split: refused until the admin settles it. */
	const char *failback_held;
	int failback_split;
	int admin_rc;			/* admin events: 0 or -EBUSY/-EAGAIN */
	const char *admin_msg;		/* admin events: what happened, for the reply */
};

void fsm_init(struct fsm *f, const struct fsm_config *cfg);
void fsm_step(struct fsm *f, const struct fsm_input *in, struct fsm_output *out);
/* FSM_F_* bits for our next heartbeat. */
unsigned fsm_flags(const struct fsm *f);

const char *fsm_state_name(enum fsm_state s);
const char *fsm_peer_name(enum fsm_peer p);
const char *fsm_event_name(enum fsm_event e);
/* Parses a state name; -1 if unknown. */
int fsm_state_parse(const char *s);

#endif
