/* standbyd's control socket: status for vdiskctl and pxed, role commands for the admin. */
#include "standby/ctl.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "common/netaddr.h"
#include "standby/daemon.h"

/* The flags a heartbeat advertises, as an array of words (empty when none). */
static json_t *flag_words(const char *const *words, const int *set, unsigned n)
{
	json_t *a = json_array();
	unsigned i;

	for (i = 0; a && i < n; i++)
		if (set[i] && json_array_append_new(a, json_string(words[i]))) {
			json_decref(a);
			return NULL;
		}
	return a;
}

/* "flags" (ours, as the heartbeats advertise them; failed: a resource failed here) and,
 * with a peer heard, "peer_flags". */
static void status_flags(struct standbyd *d, json_t *answer)
{
	static const char *const mine[] = { "yield", "want", "failed" };
	static const char *const theirs[] = { "yield", "want", "failed", "holding_address",
					      "outdating_us", "outdated" };
	const struct fsm *f = &d->fsm;
	int set[6];

	set[0] = !!(fsm_flags(f) & FSM_F_YIELD);
	set[1] = !!f->want;
	set[2] = !!f->failed;
	ctl_set(answer, "flags", flag_words(mine, set, 3));
	if (f->peer == FSM_PEER_UNKNOWN)
		return;
	set[0] = !!(f->peer_flags & HB_F_YIELD);
	set[1] = !!(f->peer_flags & HB_F_WANT);
	set[2] = !!f->peer_failed;
	set[3] = !!(d->peer_msg.flags & HB_F_HOLDING);
	set[4] = !!(d->peer_msg.flags & HB_F_OUTDATE_PEER);
	set[5] = !!(d->peer_msg.flags & HB_F_OUTDATED);
	ctl_set(answer, "peer_flags", flag_words(theirs, set, 6));
}

/* What the last heartbeat of a heard peer told beyond its state. */
static void status_peer_heartbeat(struct standbyd *d, json_t *answer)
{
	uint8_t mac[6];
	char m[MAC_STRLEN] = "unknown";

	if (d->fsm.peer == FSM_PEER_UNKNOWN)
		return;
	if (sb_peer_lan_mac(d, mac))
		mac_format(mac, m);
	/* The ARP probe counts an answer from this address only (unknown: any). */
	ctl_set(answer, "peer_heartbeat", json_pack("{s:i}", "version", (int)d->peer_msg.version));
	/* the peer's clock minus ours, give or take the network's delay */
	ctl_set(answer, "peer_clock_offset_ms", json_integer(d->peer_clock_offset_ms));
	ctl_set(answer, "peer_lan_mac", json_string(m));
}

/* The service address, when haresources has one. */
static void status_address(struct standbyd *d, json_t *answer)
{
	char ip[INET_ADDRSTRLEN];

	if (!d->svc)
		return;
	ipv4_format(d->svc->addr, ip);
	ctl_set(answer, "address", json_pack("{s:s,s:i,s:o,s:b}", "ip", ip, "prefix",
					     (int)d->svc_rt->prefix, "ifname",
					     ctl_text(d->svc_rt->ifname), "held",
					     d->svc_rt->running));
}

/* Every resource of haresources, in order. */
static void status_resources(struct standbyd *d, json_t *answer)
{
	json_t *list = json_array();
	unsigned i;

	ctl_set(answer, "resource", list);
	for (i = 0; i < d->cfg.res.nres; i++) {
		const struct ha_resource *r = &d->cfg.res.res[i];
		json_t *e = json_pack("{s:o}", "name", ctl_text(r->name));

		/* NAME::ARG in haresources: the argument, when there is one */
		if (e && ((*r->arg && json_object_set_new(e, "arg", ctl_text(r->arg))) ||
			  json_object_set_new(e, "state", json_string(d->rt[i].failed ? "failed"
					      : d->rt[i].running ? "running" : "stopped")))) {
			json_decref(e);
			e = NULL;
		}
		ctl_push(answer, list, e);
	}
}

/* Every heartbeat link; last_rx_ms_ago is missing while nothing came over it. */
static void status_links(struct standbyd *d, json_t *answer)
{
	json_t *list = json_array();
	uint64_t now = ev_now_ms();
	unsigned i;

	ctl_set(answer, "link", list);
	for (i = 0; i < d->links.n; i++) {
		const struct sb_link *l = &d->links.link[i];
		json_t *e = json_pack("{s:o,s:I,s:I,s:I}", "name", ctl_text(l->cfg.ifname),
				      "rx", (json_int_t)l->rx, "tx", (json_int_t)l->tx,
				      "tx_errors", (json_int_t)l->tx_err);

		if (e && l->last_rx_ms &&
		    json_object_set_new(e, "last_rx_ms_ago", json_integer((json_int_t)
									(now - l->last_rx_ms)))) {
			json_decref(e);
			e = NULL;
		}
		ctl_push(answer, list, e);
	}
}

/* Heartbeats taken and dropped, and the receiver process. */
static void status_counters(struct standbyd *d, json_t *answer)
{
	char key[48];
	int k;

	ctl_set(answer, "heartbeats_accepted", json_integer((json_int_t)d->rx_ok));
	ctl_set(answer, "receiver", json_pack("{s:i,s:I}", "pid", (int)d->links.rx.pid,
					      "restarts", (json_int_t)d->links.rx_restarts));
	/* the privileged helper (privop.h); refused: requests it turned down, a bug here;
	 * arp_dropped: claims of the service address lost on their way, as of its last answer */
	ctl_set(answer, "helper", json_pack("{s:i,s:I,s:I}", "pid", (int)d->priv.pid,
					    "refused", (json_int_t)d->priv.refused,
					    "arp_dropped", (json_int_t)d->priv.arp_dropped));
	for (k = HB_DROP_MALFORMED; k < HB_DROP_SELF; k++) {
		snprintf(key, sizeof(key), "dropped_%s", hb_drop_name(k));
		ctl_set(answer, key, json_integer((json_int_t)d->drops[k]));
	}
}

static void print_status(struct standbyd *d, json_t *answer)
{
	const struct fsm *f = &d->fsm;

	ctl_set(answer, "node", ctl_text(d->cfg.node));
	ctl_set(answer, "state", json_string(fsm_state_name(f->state)));
	ctl_set(answer, "peer", ctl_text(d->cfg.peer));
	ctl_set(answer, "peer_status", json_string(fsm_peer_name(f->peer)));
	ctl_set(answer, "peer_state", json_string(f->peer == FSM_PEER_UNKNOWN ? "unknown"
						  : fsm_state_name(f->peer_state)));
	ctl_set(answer, "replication", json_string(hb_repl_name(d->repl)));
	sb_fence_status(d, answer);
	ctl_set(answer, "peer_replication", json_string(f->peer == FSM_PEER_UNKNOWN ? "unknown"
							: hb_repl_name(f->peer_repl)));
	ctl_set(answer, "db_seq", json_integer(d->db_seq));
	if (f->peer != FSM_PEER_UNKNOWN)
		ctl_set(answer, "peer_db_seq", json_integer(d->peer_msg.db_seq));
	sb_ship_status(d, answer);
	sb_tickle_status(d, answer);
	ctl_set(answer, "preferred", ctl_text(d->cfg.res.node));
	ctl_set(answer, "auto_failback", json_boolean(d->cfg.cf.auto_failback));
	status_flags(d, answer);
	status_peer_heartbeat(d, answer);
	status_address(d, answer);
	status_resources(d, answer);
	status_links(d, answer);
	status_counters(d, answer);
	if (d->last_refusal)
		ctl_set(answer, "last_refusal", ctl_text(d->last_refusal));
}

static void admin(struct standbyd *d, enum fsm_event ev, json_t *answer)
{
	struct fsm_input in = { .ev = ev };
	enum fsm_state was = d->fsm.state;
	struct fsm_output o;

	sb_feed(d, &in, &o);
	if (o.admin_rc) {
		ctl_fail(answer, "%s", o.admin_msg);
		return;
	}
	sb_event(d, LOG_NOTICE, "admin %s in state %s: %s", fsm_event_name(ev),
		 fsm_state_name(was), o.admin_msg);
	ctl_set(answer, "message", ctl_text(o.admin_msg));
	ctl_set(answer, "state", json_string(fsm_state_name(d->fsm.state)));
}

void sb_ctl_handle(void *arg, int argc, char **argv, json_t *answer)
{
	struct standbyd *d = arg;
	enum fsm_event ev;
	const char *cmd = argv[0];
	int to_peer, force = 0;

	if (strcmp(cmd, "status") == 0 && argc == 1) {
		print_status(d, answer);
		return;
	}
	if (strcmp(cmd, "replication") == 0 && argc == 2) {
		int r;

		/* For setups whose data side is not vdiskd; with a vdiskd resource its status
		 * overrides this at the next check. */
		for (r = HB_REPL_UNKNOWN; r <= HB_REPL_MAX; r++)
			if (strcmp(argv[1], hb_repl_name(r)) == 0) {
				sb_set_repl(d, r);
				ctl_set(answer, "replication", json_string(hb_repl_name(d->repl)));
				return;
			}
		ctl_fail(answer, "replication state '%.40s' unknown (in_sync, syncing, degraded, "
			 "split_brain, unknown)", argv[1]);
		return;
	}
	if (strcmp(cmd, "fence-peer") == 0 && argc == 1) {
		sb_fence_request(d, answer);
		return;
	}
	/* "takeover [NODE] force": also with an outdated copy, losing what it lacks */
	if (strcmp(cmd, "takeover") == 0 && argc >= 2 && strcmp(argv[argc - 1], "force") == 0) {
		force = 1;
		argc--;
	}
	if (strcmp(cmd, "takeover") == 0)
		ev = FSM_EV_ADMIN_TAKEOVER;
	else if (strcmp(cmd, "release") == 0)
		ev = FSM_EV_ADMIN_RELEASE;
	else if (strcmp(cmd, "maintenance") == 0)
		ev = FSM_EV_ADMIN_MAINTENANCE;
	else {
		ctl_fail(answer, "unknown request '%.40s' (status, takeover [NODE] [force], "
			 "release, maintenance, replication, fence-peer)", cmd);
		return;
	}
	if (argc > 2) {
		ctl_fail(answer, "%s takes at most one node name", cmd);
		return;
	}
	to_peer = argc == 2 && strcmp(argv[1], d->cfg.peer) == 0;
	if (argc == 2 && !to_peer && strcmp(argv[1], d->cfg.node) != 0) {
		ctl_fail(answer, "node '%.40s' is neither %s nor %s", argv[1], d->cfg.node,
			 d->cfg.peer);
		return;
	}
	/* Naming the peer: taking over there is releasing here and the reverse. */
	if (to_peer) {
		if (ev == FSM_EV_ADMIN_MAINTENANCE) {
			ctl_fail(answer, "put %s into maintenance on %s itself", d->cfg.peer,
				 d->cfg.peer);
			return;
		}
		ev = ev == FSM_EV_ADMIN_TAKEOVER ? FSM_EV_ADMIN_RELEASE : FSM_EV_ADMIN_TAKEOVER;
	}
	if (force && ev != FSM_EV_ADMIN_TAKEOVER) {
		ctl_fail(answer, "force goes with a takeover by this node");
		return;
	}
	if (force && sb_fence_force(d) < 0) {
		ctl_fail(answer, "cannot clear the outdated mark in the state file");
		return;
	}
	admin(d, ev, answer);
}
