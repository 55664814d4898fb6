/* standbyd's running state: the links, the state machine, the service address and the
 * resources, all driven from one event loop. */
#ifndef STANDBY_DAEMON_H
#define STANDBY_DAEMON_H

#include <netinet/in.h>
#include <stdint.h>
#include <time.h>

#include "common/ctlsock.h"
#include "common/evloop.h"
#include "common/log.h"
#include "standby/arp.h"
#include "standby/config.h"
#include "standby/dbship.h"
#include "standby/fence.h"
#include "standby/fsm.h"
#include "standby/hbpkt.h"
#include "standby/links.h"
#include "standby/ping.h"
#include "standby/privop.h"
#include "standby/resource.h"
#include "standby/tickle.h"

struct db;
struct standbyd;

/* The one resource job at a time: starting all, stopping all, or checking all (with the one
 * restart a failing resource gets). A script step runs in the privileged helper and waits in
 * the loop for the helper's record of its exit. */
enum sb_job_kind { JOB_IDLE, JOB_START, JOB_STOP, JOB_MONITOR };

struct sb_job {
	enum sb_job_kind kind;
	enum res_op op;		/* step running now */
	unsigned idx;		/* resource of that step */
	int restarting;		/* monitor: 0 checking, 1 stopping, 2 starting again */
	int script;		/* a script runs in the helper: its exit record is awaited */
	uint32_t seq;		/* that record's (the request's) */
	struct ctl_req *ctl;	/* vdiskd request in flight, or NULL */
	struct ev_timer limit;	/* the helper's limit and a grace: a record never come */
};

struct standbyd_opts {
	const char *confdir;
	const char *node;		/* NULL: uname -n */
	const char *ctl_path;
	const char *db_path;		/* events, and the DB shipped to / from the peer */
	const char *state_dir;		/* standbyd.state: whether our copy is outdated */
	const char *user;		/* who the loop runs as once the helper runs */
	/* Answers the control socket, with the daemon as arg: ctl.c's sb_ctl_handle, which
	 * works on the daemon from above it (the program's main hands it down). */
	ctl_handler_fn ctl_handler;
};

struct sb_hooks;

struct standbyd {
	const struct sb_hooks *hooks;
	struct ha_config cfg;
	struct evloop *loop;
	struct fsm fsm;
	struct sb_links links;
	struct res_runtime rt[HA_MAX_RES];
	struct sb_job job;

	const struct ha_resource *svc;	/* the service address (first IPaddr), or NULL */
	struct res_runtime *svc_rt;
	struct arp_port arp;		/* its capture the helper's: our MAC, the interface */
	struct pinger ping;		/* its socket the helper's: the echo id */
	int probing, probe_phase, ping_replies;
	uint32_t probe_seq;		/* the probe's first request to the helper */
	int probe_lossy;		/* claims may have been lost during this probe */
	uint32_t probe_arp_dropped;	/* the helper's count of lost claims when it began */

	struct ev_timer t_hb, t_warn, t_suspect, t_dead, t_probe, t_retry, t_monitor, t_garp;
	unsigned garp_round;
	uint64_t last_conflict_garp_ms;
	int probe_conflict;		/* a stranger's claim was reported during this probe */
	uint8_t conflict_mac[6];	/* while active: the last stranger reported, and when */
	uint64_t conflict_event_ms;

	uint64_t boot_gen, seq;
	unsigned long rx_ok, drops[HB_DROP_NKINDS];
	uint64_t burst_start_ms;
	unsigned burst_count;
	int burst_reported;
	struct log_ratelimit rl_drop;
	struct log_ratelimit rl_repl;	/* vdiskd's status out of reach */

	enum hb_repl repl;		/* ours, as the data side reports it */
	const struct ha_resource *vdiskd;	/* the vdiskd resource, asked for repl; or NULL */
	struct ctl_req *repl_req;	/* its status request in flight */
	uint64_t repl_asked_ms;		/* when that request went out (monotonic) */
	struct sb_fence fence;
	struct ev_timer t_repl;
	const char *failback_held;	/* last reason auto_failback waited, for the log */
	struct hb_msg peer_msg;		/* last accepted heartbeat */
	int64_t peer_clock_offset_ms;	/* its sender's wall clock minus ours on arrival */
	unsigned tx_version;		/* heartbeat version we answer the peer in (1 or 2) */
	uint64_t v2_probe_ms;		/* the last version 2 packet while answering in 1 */
	uint64_t peer_v2_gen;		/* the peer's last boot generation heard in version 2 */
	uint8_t peer_lan_mac[6];	/* its LAN address, from that generation's heartbeats */
	int late_warned, split_reported;
	const char *last_refusal;
	uint64_t db_seq_at_ms;
	int64_t db_seq;

	struct privop priv;		/* the privileged helper */
	struct ev_io priv_io;		/* its scripts' exit records, and its loss */
	int priv_lost;			/* set at the moment the helper is lost: exiting */
	int priv_io_added;
	struct ev_io frame_io;		/* what it read on the raw sockets */
	int frame_io_added;
	struct ctl_server *ctl;
	struct db *db;
	const char *db_path;
	struct sb_ship ship;
	struct sb_tickle tickle;
	int stopping;
};

/* Sets up everything (privileged work first: sockets, pcap, netlink checks), starts the
 * privileged helper, becomes opts->user and runs the loop until SIGTERM/SIGINT, or until the
 * helper is lost. Returns 0 or a negative errno (already logged). */
int standbyd_run(const struct ha_config *cfg, const struct standbyd_opts *opts);

/* Logs and records an event (DB events table when --db is given). level: LOG_*. */
__attribute__((format(printf, 3, 4)))
void sb_event(struct standbyd *d, int level, const char *fmt, ...);

/* Feeds one event to the state machine and carries out what it asks (daemon.c). If out is
 * not NULL it receives the machine's output for this event. */
void sb_feed(struct standbyd *d, struct fsm_input *in, struct fsm_output *out);
void sb_feed_ev(struct standbyd *d, enum fsm_event ev);

/* A heartbeat now, rather than at the next keepalive: the peer must learn a change soon. */
void sb_send_heartbeat(struct standbyd *d);

/* Our replication state changed (vdiskd's status, or the control socket): logs it, tells the
 * state machine and the peer. */
void sb_set_repl(struct standbyd *d, enum hb_repl repl);

/* What the daemon does for fence.c, which reaches it only through these (d->hooks, set
 * before it is opened): an input for the state machine (sb_feed); a heartbeat now. */
struct sb_hooks {
	void (*feed)(struct standbyd *d, struct fsm_input *in, struct fsm_output *out);
	void (*send_heartbeat)(struct standbyd *d);
};

/* 1 with the peer's LAN address in mac when its current boot generation sent one in an
 * authenticated heartbeat (version 2), else 0: unknown. */
int sb_peer_lan_mac(const struct standbyd *d, uint8_t mac[6]);

#endif
