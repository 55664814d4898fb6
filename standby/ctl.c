/* standbyd's control socket: status for vdiskctl and pxed, role commands for the admin. */
#include "standby/ctl.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "common/netaddr.h"
#include "standby/daemon.h"

static void print_status(struct standbyd *d, FILE *out)
{
	const struct fsm *f = &d->fsm;
	uint64_t now = ev_now_ms();
	unsigned i;
	int k;

	fprintf(out, "ok\n");
	fprintf(out, "node: %s\n", d->cfg.node);
	fprintf(out, "state: %s\n", fsm_state_name(f->state));
	fprintf(out, "peer: %s %s\n", d->cfg.peer, fsm_peer_name(f->peer));
	fprintf(out, "peer_state: %s\n", f->peer == FSM_PEER_UNKNOWN ? "unknown"
		: fsm_state_name(f->peer_state));
	fprintf(out, "replication: %s\n", hb_repl_name(d->repl));
	sb_fence_status(d, out);
	fprintf(out, "peer_replication: %s\n", f->peer == FSM_PEER_UNKNOWN ? "unknown"
		: hb_repl_name(f->peer_repl));
	fprintf(out, "db_seq: %lld\n", (long long)d->db_seq);
	if (f->peer != FSM_PEER_UNKNOWN)
		fprintf(out, "peer_db_seq: %lld\n", (long long)d->peer_msg.db_seq);
	sb_ship_status(d, out);
	sb_tickle_status(d, out);
	fprintf(out, "preferred: %s\n", d->cfg.res.node);
	fprintf(out, "auto_failback: %s\n", d->cfg.cf.auto_failback ? "on" : "off");
	/* As the heartbeats advertise them; failed: a resource failed here (or there). */
	fprintf(out, "flags:%s%s%s\n", fsm_flags(f) & FSM_F_YIELD ? " yield" : "",
		f->want ? " want" : "", f->failed ? " failed" : "");
	if (f->peer != FSM_PEER_UNKNOWN)
		fprintf(out, "peer_flags:%s%s%s%s%s%s\n", f->peer_flags & HB_F_YIELD ? " yield" : "",
			f->peer_flags & HB_F_WANT ? " want" : "", f->peer_failed ? " failed" : "",
			d->peer_msg.flags & HB_F_HOLDING ? " holding_address" : "",
			d->peer_msg.flags & HB_F_OUTDATE_PEER ? " outdating_us" : "",
			d->peer_msg.flags & HB_F_OUTDATED ? " outdated" : "");
	if (f->peer != FSM_PEER_UNKNOWN) {
		uint8_t mac[6];
		char m[MAC_STRLEN] = "unknown";

		if (sb_peer_lan_mac(d, mac))
			mac_format(mac, m);
		/* The ARP probe counts an answer from this address only (unknown: any). */
		fprintf(out, "peer_heartbeat: version %u\n", d->peer_msg.version);
		/* the peer's clock minus ours, give or take the network's delay */
		fprintf(out, "peer_clock_offset_ms: %lld\n", (long long)d->peer_clock_offset_ms);
		fprintf(out, "peer_lan_mac: %s\n", m);
	}
	if (d->svc) {
		char ip[INET_ADDRSTRLEN];

		ipv4_format(d->svc->addr, ip);
		fprintf(out, "address: %s/%u %s %s\n", ip, d->svc_rt->prefix, d->svc_rt->ifname,
			d->svc_rt->running ? "held" : "not_held");
	}
	for (i = 0; i < d->cfg.res.nres; i++) {
		const struct ha_resource *r = &d->cfg.res.res[i];

		fprintf(out, "resource: %s%s%s %s\n", r->name, *r->arg ? "::" : "", r->arg,
			d->rt[i].failed ? "failed" : d->rt[i].running ? "running" : "stopped");
	}
	for (i = 0; i < d->links.n; i++) {
		const struct sb_link *l = &d->links.link[i];

		if (l->last_rx_ms)
			fprintf(out, "link: %s rx %lu tx %lu tx_errors %lu last_rx_ms_ago %llu\n",
				l->cfg.ifname, l->rx, l->tx, l->tx_err,
				(unsigned long long)(now - l->last_rx_ms));
		else
			fprintf(out, "link: %s rx %lu tx %lu tx_errors %lu last_rx_ms_ago never\n",
				l->cfg.ifname, l->rx, l->tx, l->tx_err);
	}
	fprintf(out, "heartbeats_accepted: %lu\n", d->rx_ok);
	fprintf(out, "receiver: pid %d restarts %lu\n", (int)d->links.rx.pid, d->links.rx_restarts);
	fprintf(out, "helper: pid %d refused %lu\n", (int)d->priv.pid, d->priv.refused);
	for (k = HB_DROP_MALFORMED; k < HB_DROP_SELF; k++)
		fprintf(out, "dropped_%s: %lu\n", hb_drop_name(k), d->drops[k]);
	if (d->last_refusal)
		fprintf(out, "last_refusal: %s\n", d->last_refusal);
}

static void admin(struct standbyd *d, enum fsm_event ev, FILE *out)
{
	struct fsm_input in = { .ev = ev };
	enum fsm_state was = d->fsm.state;
	struct fsm_output o;

	sb_feed(d, &in, &o);
	if (o.admin_rc) {
		fprintf(out, "error: %s\n", o.admin_msg);
		return;
	}
	sb_event(d, LOG_NOTICE, "admin %s in state %s: %s", fsm_event_name(ev),
		 fsm_state_name(was), o.admin_msg);
	fprintf(out, "ok\nmessage: %s\nstate: %s\n", o.admin_msg, fsm_state_name(d->fsm.state));
}

void sb_ctl_handle(void *arg, int argc, char **argv, FILE *out)
{
	struct standbyd *d = arg;
	enum fsm_event ev;
	const char *cmd = argv[0];
	int to_peer, force = 0;

	if (strcmp(cmd, "status") == 0 && argc == 1) {
		print_status(d, out);
		return;
	}
	if (strcmp(cmd, "replication") == 0 && argc == 2) {
		int r;

		/* For setups whose data side is not vdiskd; with a vdiskd resource its status
		 * overrides this at the next check. */
		for (r = HB_REPL_UNKNOWN; r <= HB_REPL_MAX; r++)
			if (strcmp(argv[1], hb_repl_name(r)) == 0) {
				sb_set_repl(d, r);
				fprintf(out, "ok\nreplication: %s\n", hb_repl_name(d->repl));
				return;
			}
		fprintf(out, "error: replication state '%.40s' unknown (in_sync, syncing, degraded, "
			"split_brain, unknown)\n", argv[1]);
		return;
	}
	if (strcmp(cmd, "fence-peer") == 0 && argc == 1) {
		sb_fence_request(d, out);
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
		fprintf(out, "error: unknown request '%.40s' (status, takeover [NODE] [force], "
			"release, maintenance, replication, fence-peer)\n", cmd);
		return;
	}
	if (argc > 2) {
		fprintf(out, "error: %s takes at most one node name\n", cmd);
		return;
	}
	to_peer = argc == 2 && strcmp(argv[1], d->cfg.peer) == 0;
	if (argc == 2 && !to_peer && strcmp(argv[1], d->cfg.node) != 0) {
		fprintf(out, "error: node '%.40s' is neither %s nor %s\n", argv[1], d->cfg.node,
			d->cfg.peer);
		return;
	}
	/* Naming the peer: taking over there is releasing here and the reverse. */
	if (to_peer) {
		if (ev == FSM_EV_ADMIN_MAINTENANCE) {
			fprintf(out, "error: put %s into maintenance on %s itself\n", d->cfg.peer,
				d->cfg.peer);
			return;
		}
		ev = ev == FSM_EV_ADMIN_TAKEOVER ? FSM_EV_ADMIN_RELEASE : FSM_EV_ADMIN_TAKEOVER;
	}
	if (force && ev != FSM_EV_ADMIN_TAKEOVER) {
		fprintf(out, "error: force goes with a takeover by this node\n");
		return;
	}
	if (force && sb_fence_force(d) < 0) {
		fprintf(out, "error: cannot clear the outdated mark in the state file\n");
		return;
	}
	admin(d, ev, out);
}
