/* The daemon proper: heartbeat timers, the state machine's actions (probe, start, stop),
 * gratuitous ARPs, resource monitoring. */
#include "standby/daemon.h"

#include <errno.h>
#include <limits.h>
#include <sched.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <systemd/sd-daemon.h>
#include <time.h>
#include <unistd.h>

#include "common/netaddr.h"
#include "db/db.h"
#include "standby/ipaddr.h"

/* What vdiskd and pxed, let in by the group vdisk, may ask (common/ctlsock.h) */
static const char *const group_requests[] = { "status", "fence-peer", NULL };

/* Gratuitous ARP rounds after a takeover, in ms after the first: clients that missed one
 * (a busy switch, a NIC coming up) get another. */
static const unsigned garp_delays[] = { 150, 350, 1000, 2000 };
#define FRAMES_PER_ROUND 128	/* frame records read per wake-up (the helper's two batches) */
#define FRAMES_PAIR_MAX 8192	/* more than the frame pair holds (privop.c) */
#define N_GARP_ROUNDS (sizeof(garp_delays) / sizeof(garp_delays[0]))

#define BURST_WINDOW_MS	10000
#define BURST_THRESHOLD	10

static uint32_t res_bits(const struct standbyd *d, int failed)
{
	uint32_t bits = 0;
	unsigned i;

	for (i = 0; i < d->cfg.res.nres && i < 32; i++)
		if (failed ? d->rt[i].failed : d->rt[i].running)
			bits |= 1u << i;
	return bits;
}

void sb_send_heartbeat(struct standbyd *d)
{
	struct hb_msg m;
	uint8_t pkt[HB_LEN];
	uint64_t now = ev_now_ms();
	int len;

	if (d->priv_lost)
		return;		/* silent, as a killed standbyd: its successor resumes */

	if (d->db && now - d->db_seq_at_ms >= 1000) {
		int64_t seq;

		if (db_change_seq(d->db, &seq) == 0)
			d->db_seq = seq;
		d->db_seq_at_ms = now;
	}
	memset(&m, 0, sizeof(m));
	m.version = (uint8_t)hb_tx_version(d->links.win.gen, d->peer_v2_gen, now, &d->v2_probe_ms);
	if (d->svc)
		memcpy(m.lan_mac, d->arp.mac, 6);	/* what our ARP answers come from */
	m.key_index = (uint8_t)d->cfg.keys.active;
	m.state = (uint8_t)d->fsm.state;
	m.flags = (uint8_t)(fsm_flags(&d->fsm) |
			    (d->svc_rt && d->svc_rt->running ? HB_F_HOLDING : 0) |
			    sb_fence_flags(d, &m.fence_epoch));
	memcpy(m.cluster, d->cfg.cf.cluster, sizeof(m.cluster));
	memcpy(m.node, d->cfg.node, sizeof(m.node));
	m.boot_gen = d->boot_gen;
	m.seq = ++d->seq;
	m.time_ms = hb_wall_ms();
	m.res_running = res_bits(d, 0);
	m.res_failed = res_bits(d, 1);
	m.db_seq = d->db_seq;
	m.repl = (uint8_t)d->repl;
	m.active_since = d->fsm.active_since;
	len = hb_encode(&m, &d->cfg.keys, pkt);
	if (len > 0)
		sb_links_send(&d->links, pkt, (size_t)len);
}

static void on_hb_timer(struct ev_timer *t)
{
	struct standbyd *d = t->arg;

	sb_send_heartbeat(d);
	ev_timer_arm(d->loop, &d->t_hb, d->cfg.cf.keepalive_ms);
}

/* ---- service address: probe and gratuitous ARP ---- */

static void probe_finish(struct standbyd *d, enum fsm_event result)
{
	d->probing = 0;
	ev_timer_cancel(d->loop, &d->t_probe);
	if (!d->priv_lost)
		sb_feed_ev(d, result);
}

static void probe_start(struct standbyd *d)
{
	unsigned i;
	int rc;

	ev_timer_cancel(d->loop, &d->t_probe);
	d->probing = 1;
	d->probe_phase = 0;
	d->ping_replies = 0;
	d->probe_lossy = 0;
	/* what the helper read before our first request answers an older probe */
	d->probe_seq = d->priv.seq + 1;
	if (d->svc) {
		rc = if_running(d->svc_rt->ifname);
		if (rc <= 0) {
			log_warn("probe: %s is down", d->svc_rt->ifname);
			probe_finish(d, FSM_EV_PROBE_ERROR);
			return;
		}
		d->probe_conflict = 0;
		rc = privop_arp(&d->priv, (unsigned)d->cfg.res.ipaddr_idx, 0);
		if (rc == -EPIPE && d->priv_lost)
			return;		/* not the probe's failure: standbyd exits */
		/* claims lost before the probe went out answered older ones */
		d->probe_arp_dropped = d->priv.arp_dropped;
		if (rc) {
			log_warn("probe: cannot send on %s: %s", d->svc_rt->ifname, strerror(-rc));
			probe_finish(d, FSM_EV_PROBE_ERROR);
			return;
		}
	}
	for (i = 0; i < d->cfg.cf.nping; i++)
		privop_ping(&d->priv, i);
	ev_timer_arm(d->loop, &d->t_probe, d->cfg.cf.probe_ms / 2);
}

static int frames_take(struct standbyd *d, unsigned max);

static void on_probe_timer(struct ev_timer *t)
{
	struct standbyd *d = t->arg;

	if (!d->probing || d->priv_lost)
		return;
	/* what came in time but waits in the pair counts */
	frames_take(d, FRAMES_PER_ROUND);
	if (!d->probing || d->priv_lost)
		return;		/* a claim finished the probe */
	if (d->probe_phase == 0) {
		/* A second probe halfway: one lost frame must not hand us a live address. */
		d->probe_phase = 1;
		if (d->svc)
			privop_arp(&d->priv, (unsigned)d->cfg.res.ipaddr_idx, 0);
		ev_timer_arm(d->loop, &d->t_probe, d->cfg.cf.probe_ms - d->cfg.cf.probe_ms / 2);
		return;
	}
	/* A claim the helper lost may have been the holder's answer: no address taken on
	 * that. The round trip first, so that what it read by now is counted or in the pair,
	 * and read all of that. */
	if (d->svc) {
		int rc = privop_sync(&d->priv);

		if (rc == -EPIPE && d->priv_lost)
			return;
		if (rc)
			d->probe_lossy = 1;	/* no round trip: nothing is known complete */
		if (frames_take(d, FRAMES_PAIR_MAX) == (int)FRAMES_PAIR_MAX)
			d->probe_lossy = 1;	/* a flood: more than we read */
		if (!d->probing || d->priv_lost)
			return;		/* a claim finished the probe */
		if (d->priv.arp_dropped != d->probe_arp_dropped)
			d->probe_lossy = 1;
	}
	if (d->probe_lossy) {
		char ip[INET_ADDRSTRLEN];

		ipv4_format(d->svc->addr, ip);
		log_warn("probe: claims of %s on %s may have been lost on their way (the capture "
			 "or the helper's pair full, %u counted; or a flood): inconclusive, probing "
			 "again", ip, d->svc_rt->ifname, d->priv.arp_dropped - d->probe_arp_dropped);
		probe_finish(d, FSM_EV_PROBE_ERROR);
	} else if (d->cfg.cf.nping && !d->ping_replies) {
		probe_finish(d, FSM_EV_PROBE_PING_FAIL);
	} else {
		probe_finish(d, FSM_EV_PROBE_CLEAR);
	}
}

static void garp_send(struct standbyd *d)
{
	int rc = privop_arp(&d->priv, (unsigned)d->cfg.res.ipaddr_idx, 1);

	if (rc)
		log_warn("gratuitous ARP on %s: %s", d->svc_rt->ifname, strerror(-rc));
}

static void garp_start(struct standbyd *d)
{
	garp_send(d);
	d->garp_round = 0;
	ev_timer_arm(d->loop, &d->t_garp, garp_delays[0]);
}

static void on_garp_timer(struct ev_timer *t)
{
	struct standbyd *d = t->arg;

	if (!d->svc_rt->running)
		return;
	garp_send(d);
	if (++d->garp_round < N_GARP_ROUNDS)
		ev_timer_arm(d->loop, &d->t_garp,
			     garp_delays[d->garp_round] - garp_delays[d->garp_round - 1]);
}

int sb_peer_lan_mac(const struct standbyd *d, uint8_t mac[6])
{
	static const uint8_t zero[6];

	if (!d->peer_v2_gen || d->peer_v2_gen != d->links.win.gen ||
	    memcmp(d->peer_lan_mac, zero, 6) == 0)
		return 0;
	memcpy(mac, d->peer_lan_mac, 6);
	return 1;
}

/* A claim of the service address from a MAC that is not the peer's: some PC configured with
 * it, or answering for it. It is no reason to leave the address to it: the takeover goes on,
 * the gratuitous ARPs move clients back, and the admin hears of it once per probe. */
static void probe_conflict(struct standbyd *d, const char *ip, const char *mac,
			   const uint8_t peer[6])
{
	char pmac[MAC_STRLEN];

	if (d->probe_conflict)
		return;
	d->probe_conflict = 1;
	mac_format(peer, pmac);
	sb_event(d, LOG_ERR, "address conflict: %s is answered on the LAN by %s, which is not %s "
		 "(%s): a takeover goes ahead anyway and its gratuitous ARPs win the address back; "
		 "find that machine", ip, mac, d->cfg.peer, pmac);
}

static void probe_claim(struct standbyd *d, enum arp_claim k, const char *ip, const char *mac,
			const uint8_t *peer)
{
	if (k == ARP_CLAIM_STRANGER) {
		probe_conflict(d, ip, mac, peer);
		return;
	}
	if (peer)
		log_notice("probe: %s answered by %s, %s's LAN address", ip, mac, d->cfg.peer);
	else
		log_notice("probe: %s answered by %s (%s's LAN address is unknown: counted as its "
			   "answer)", ip, mac, d->cfg.peer);
	probe_finish(d, FSM_EV_PROBE_BUSY);
}

/* While active: someone else claims our address. The peer (back, believing it holds it) or a
 * stranger: fresh gratuitous ARPs at most every second so clients do not stay with it; a
 * stranger is also an event, once a minute per MAC. */
static void active_claim(struct standbyd *d, enum arp_claim k, const uint8_t who[6],
			 const char *ip, const char *mac)
{
	uint64_t now = ev_now_ms();

	if (k == ARP_CLAIM_STRANGER &&
	    (memcmp(who, d->conflict_mac, 6) != 0 || now - d->conflict_event_ms > 60000)) {
		memcpy(d->conflict_mac, who, 6);
		d->conflict_event_ms = now;
		sb_event(d, LOG_ERR, "address conflict: %s, held here, is also claimed by %s, "
			 "which is not %s: sending gratuitous ARPs; find that machine", ip, mac,
			 d->cfg.peer);
	}
	if (now - d->last_conflict_garp_ms > 1000) {
		d->last_conflict_garp_ms = now;
		log_warn("%s also claimed by %s: sending gratuitous ARPs", ip, mac);
		garp_send(d);
	}
}

/* What the helper read on the raw sockets: claims of the service address (the strongest of
 * a batch is the one answer, the first claimant of its kind named) and echo replies to our
 * pings. While probing, what the helper read before the probe's first request answers an
 * older one. Reads at most max records; returns how many. */
static int frames_take(struct standbyd *d, unsigned max)
{
	char mac[MAC_STRLEN], ip[INET_ADDRSTRLEN];
	uint8_t who[6], w[6], peer[6];
	int known = sb_peer_lan_mac(d, peer);
	enum arp_claim found = ARP_CLAIM_NONE, k;
	struct privop_frame f;
	unsigned n;

	for (n = 0; n < max && privop_read_frame(&d->priv, &f) == 1; n++) {
		int fresh = !d->probing || privop_frame_since(&f, d->probe_seq);

		if (!fresh)
			continue;
		if (f.kind == PRIVOP_FRAME_ICMP) {
			if (d->probing && icmp_is_echo_reply(f.data, f.len, d->ping.id))
				d->ping_replies++;
			continue;
		}
		k = d->svc ? arp_classify(f.data, f.len, d->svc->addr, d->arp.mac,
					  known ? peer : NULL, w) : ARP_CLAIM_NONE;
		if (k > found) {
			found = k;
			memcpy(who, w, 6);
		}
	}
	/* a lost helper (a record that is not one) took effect in privop_read_frame */
	if (d->priv_lost || found == ARP_CLAIM_NONE)
		return (int)n;
	mac_format(who, mac);
	ipv4_format(d->svc->addr, ip);
	if (d->probing)
		probe_claim(d, found, ip, mac, known ? peer : NULL);
	else if (d->fsm.state == FSM_ACTIVE)
		active_claim(d, found, who, ip, mac);
	return (int)n;
}

static void on_frames(struct ev_io *io, uint32_t events)
{
	(void)events;
	/* level-triggered: what is left of a flood is read on the next round */
	frames_take(io->arg, FRAMES_PER_ROUND);
}

/* ---- resources ---- */

static const char *res_label(const struct ha_resource *r, char *buf, size_t len)
{
	snprintf(buf, len, "%s%s%s", r->name, *r->arg ? "::" : "", r->arg);
	return buf;
}

static void job_run(struct standbyd *d);

/* Every resource that failed here can run again: tell the state machine, which clears the
 * node's failed mark (and its yield) and lets it hold the role again. */
static void resources_ok(struct standbyd *d)
{
	if (d->fsm.failed && !res_bits(d, 1))
		sb_feed_ev(d, FSM_EV_RESOURCES_OK);
}

/* Ends the job, then tells the state machine (which may start the next job at once). */
static void job_end(struct standbyd *d, enum fsm_event ev)
{
	d->job.kind = JOB_IDLE;
	if (ev != FSM_NEVENTS)
		sb_feed_ev(d, ev);
}

/* Takes the result of the step on job.idx. Returns 1 to go on with the next step, 0 when the
 * job ended. */
static int job_result(struct standbyd *d, int rc)
{
	struct sb_job *j = &d->job;
	const struct ha_resource *r = &d->cfg.res.res[j->idx];
	struct res_runtime *rt = &d->rt[j->idx];
	char label[HA_RES_ARG_MAX + 80];

	/* the helper's loss is no resource's result: nothing is marked, nothing fed */
	if (d->priv_lost)
		return 0;
	res_label(r, label, sizeof(label));
	switch (j->kind) {
	case JOB_START:
		if (rc) {
			rt->failed = 1;
			sb_event(d, LOG_ERR, "resource %s failed to start: %s", label, strerror(-rc));
			job_end(d, FSM_EV_START_FAILED);
			return 0;
		}
		rt->running = 1;
		rt->failed = 0;
		rt->restarted = 0;
		if (r == d->svc)
			garp_start(d);
		/* Clients still hold connections to the old active node: end them now. */
		if (r->kind == HA_RES_IPADDR && d->fsm.state == FSM_TAKING_OVER)
			sb_tickle_takeover(d);
		log_info("resource %s started", label);
		if (++j->idx < d->cfg.res.nres)
			return 1;
		job_end(d, FSM_EV_STARTED);
		return 0;
	case JOB_STOP:
		if (rc)
			sb_event(d, LOG_ERR, "resource %s failed to stop: %s", label, strerror(-rc));
		else
			log_info("resource %s stopped", label);
		rt->running = 0;
		if (j->idx-- > 0)
			return 1;
		job_end(d, FSM_EV_STOPPED);
		return 0;
	case JOB_MONITOR:
		if (j->restarting == 1) {	/* stopped: start it again */
			j->restarting = 2;
			return 1;
		}
		if (j->restarting == 2 && rc == 0) {
			j->restarting = 0;
			rt->failed = 0;
			if (r == d->svc)
				garp_start(d);
			log_notice("resource %s restarted", label);
		} else if (rc && rt->failed && j->restarting == 0 && r->kind == HA_RES_VDISKD) {
			/* The node kept the role through vdiskd's failure (nobody could take
			 * over). Its service manager restarts it in the secondary role, which the
			 * status check reads as not running: try the restart (two requests on its
			 * socket) at every check, so the vdiskd that is back is told primary. */
			j->restarting = 1;
			return 1;
		} else if (rc && !rt->restarted) {
			sb_event(d, LOG_WARNING, "resource %s is not running (%s): restarting it once",
				 label, strerror(-rc));
			rt->restarted = 1;
			j->restarting = 1;
			return 1;
		} else if (rc) {
			/* Said once: a node that keeps the role (nobody can take over) checks on. */
			if (!rt->failed)
				sb_event(d, LOG_ERR, "resource %s failed again after its restart (%s)",
					 label, strerror(-rc));
			rt->failed = 1;
			job_end(d, FSM_EV_RESOURCE_FAILED);
			return 0;
		} else if (rt->failed) {
			/* Back after a failure the node kept the role through: start it again,
			 * so that vdiskd, restarted in the secondary role, is told primary. */
			j->restarting = 2;
			return 1;
		}
		if (++j->idx < d->cfg.res.nres)
			return 1;
		job_end(d, FSM_NEVENTS);
		resources_ok(d);
		return 0;
	case JOB_IDLE:
		break;
	}
	return 0;
}

/* rc: the child's result as the helper reported it (res_finish's, or res_expire's). */
static void job_script_done(struct standbyd *d, int rc)
{
	struct sb_job *j = &d->job;

	ev_timer_cancel(d->loop, &j->limit);
	j->script = 0;
	if (d->priv_lost)
		return;
	if (job_result(d, rc))
		job_run(d);
}

/* The helper kills a child at its limit and reports res_expire's result. A record that has
 * not come a grace later never will: the step fails (-ETIMEDOUT), and the child, if it still
 * runs, is killed. */
static void on_script_limit(struct ev_timer *t)
{
	struct standbyd *d = t->arg;

	if (privop_res_cancel(&d->priv) == -EPIPE && d->priv_lost)
		return;
	job_script_done(d, -ETIMEDOUT);
}

/* Runs steps until one waits for a script or the job ends. */
static void on_vdiskd_reply(void *arg, int rc, const json_t *answer)
{
	struct standbyd *d = arg;

	d->job.ctl = NULL;
	if (d->priv_lost)
		return;
	if (job_result(d, res_vdiskd_result(d->job.op, rc, answer)))
		job_run(d);
}

static void job_run(struct standbyd *d)
{
	struct sb_job *j = &d->job;

	for (;;) {
		const struct ha_resource *r = &d->cfg.res.res[j->idx];
		int rc;

		j->op = j->kind == JOB_START ? RES_START : j->kind == JOB_STOP ? RES_STOP
			: j->restarting == 1 ? RES_STOP : j->restarting == 2 ? RES_START : RES_STATUS;
		if (r->kind == HA_RES_VDISKD) {
			/* vdiskd takes a role from root only: the helper sends the request; a hung
			 * vdiskd must not hold the heartbeats: the answer is read without blocking */
			rc = privop_vdiskd(&d->priv, j->idx, j->op);
			if (rc == -EPIPE && d->priv_lost)
				return;
			if (rc >= 0)
				rc = ctl_call_wait(d->loop, rc, RES_VDISKD_TIMEOUT_MS,
						   on_vdiskd_reply, d, &j->ctl);
			if (rc == 0)
				return;
			if (!job_result(d, rc))
				return;
			continue;
		}
		/* the address, pxed and scripts need root: the helper's (privop.h) */
		rc = privop_res(&d->priv, j->idx, j->op, &j->seq);
		if (rc == -EPIPE && d->priv_lost)
			return;		/* no resource's failure: standbyd exits */
		if (rc == -EINPROGRESS) {
			j->script = 1;
			ev_timer_arm(d->loop, &j->limit, res_limit_ms(r, j->op) + PRIVOP_LIMIT_GRACE_MS);
			return;
		}
		if (!job_result(d, rc))
			return;
	}
}

/* The helper is gone (or answered wrong, or not in time): nothing privileged can be done
 * here any more, and an unprivileged standbyd cannot start another helper. So it stops at
 * once, with no handover (which could not remove the address): the address, if held, stays,
 * as when standbyd is killed, and the service manager's restart resumes the role before the
 * peer's deadtime (tests/ha/standby_killed.t). Staying would leave a node that holds the
 * role but could neither give the address up nor restart a resource. */
static void priv_lost(struct standbyd *d)
{
	if (d->priv_lost)
		return;
	d->priv_lost = 1;
	/* from here on nothing reaches the state machine or the peer: no state of ours that
	 * the loss made up (a failed resource, a release) is announced */
	ev_timer_cancel(d->loop, &d->t_hb);
	ev_timer_cancel(d->loop, &d->t_probe);
	ev_timer_cancel(d->loop, &d->job.limit);
	if (d->priv_io_added) {
		ev_io_del(d->loop, &d->priv_io);
		d->priv_io_added = 0;
	}
	if (d->frame_io_added) {
		ev_io_del(d->loop, &d->frame_io);
		d->frame_io_added = 0;
	}
	sb_event(d, LOG_CRIT, "the privileged helper is lost: standbyd exits (state %s; the "
		 "address, if held, stays) for its service manager to start it again",
		 fsm_state_name(d->fsm.state));
	ev_stop(d->loop);
}

static void priv_lost_hook(void *arg)
{
	priv_lost(arg);
}

/* A script's exit record, or the helper's end closed. A record of a step that was cancelled
 * since is old news. */
static void on_priv(struct ev_io *io, uint32_t events)
{
	struct standbyd *d = io->arg;
	uint32_t seq;
	int rc, res;

	(void)events;
	while ((res = privop_read_exit(&d->priv, &seq, &rc)) == 1)
		if (d->job.script && seq == d->job.seq)
			job_script_done(d, rc);
	if (res < 0)
		priv_lost(d);
}

/* Drops the job running now, killing its script: the state machine wants something else. */
static void job_cancel(struct standbyd *d)
{
	struct sb_job *j = &d->job;

	ctl_call_cancel(j->ctl);
	j->ctl = NULL;
	if (j->script) {
		ev_timer_cancel(d->loop, &j->limit);
		j->script = 0;
		privop_res_cancel(&d->priv);
	}
	j->kind = JOB_IDLE;
}

static void job_begin(struct standbyd *d, enum sb_job_kind kind)
{
	struct sb_job *j = &d->job;

	job_cancel(d);
	if (kind == JOB_STOP)
		ev_timer_cancel(d->loop, &d->t_garp);
	if (!d->cfg.res.nres) {
		sb_feed_ev(d, kind == JOB_START ? FSM_EV_STARTED : FSM_EV_STOPPED);
		return;
	}
	j->kind = kind;
	j->restarting = 0;
	j->idx = kind == JOB_STOP ? d->cfg.res.nres - 1 : 0;
	job_run(d);
}

static void on_monitor(struct ev_timer *t)
{
	struct standbyd *d = t->arg;

	if (d->fsm.state != FSM_ACTIVE)
		return;
	ev_timer_arm(d->loop, &d->t_monitor, d->cfg.cf.monitor_ms);
	if (d->job.kind == JOB_IDLE && d->cfg.res.nres)
		job_begin(d, JOB_MONITOR);
}

/* ---- our replication state, from vdiskd ---- */

void sb_set_repl(struct standbyd *d, enum hb_repl repl)
{
	struct fsm_input in = { .ev = FSM_EV_REPL, .repl = (uint8_t)repl };

	if (repl == d->repl)
		return;
	if (repl == HB_REPL_SPLIT_BRAIN)
		sb_event(d, LOG_ERR, "split brain between the replicas (vdiskd reports mirror "
			 "split-brain): no automatic resync, no auto_failback; the admin decides "
			 "with 'vdiskctl mirror resolve'");
	else
		log_notice("replication %s -> %s", hb_repl_name(d->repl), hb_repl_name(repl));
	d->repl = repl;
	sb_feed(d, &in, NULL);
	sb_send_heartbeat(d);	/* the peer's failback decision waits on it */
}

/* vdiskd answers. If it had failed here, its service manager restarted it: a node standing
 * by needs nothing more (vdiskd starts in the secondary role), so it can hold the role again.
 * An active node's monitor sees it too, and gives it the primary role first. */
static void vdiskd_back(struct standbyd *d)
{
	struct res_runtime *rt = &d->rt[d->vdiskd - d->cfg.res.res];

	if (d->fsm.state != FSM_STANDBY && d->fsm.state != FSM_MAINTENANCE)
		return;
	if (rt->failed)
		sb_event(d, LOG_NOTICE, "resource vdiskd answers again: its failure is over");
	rt->failed = 0;
	resources_ok(d);
}

static void on_repl_reply(void *arg, int rc, const json_t *answer)
{
	struct standbyd *d = arg;
	int answered = rc == 0 && !ctl_error(answer);

	d->repl_req = NULL;
	/* A vdiskd that does not answer cannot vouch for its replicas. */
	sb_set_repl(d, answered ? (enum hb_repl)res_vdiskd_mirror(answer) : HB_REPL_UNKNOWN);
	if (answered)
		vdiskd_back(d);
	/* in sync as a primary that has reopened every mirror its state files name: a vdiskd
	 * that restarted says in-sync while it stands by with nothing open, which is no news */
	if (d->repl == HB_REPL_IN_SYNC)
		sb_fence_vdiskd(d, !res_vdiskd_fencing(answer) && res_vdiskd_primary(answer),
				d->repl_asked_ms);
}

/* On both nodes, whatever the role: the standby's replica side counts for failback too. */
static void on_repl_timer(struct ev_timer *t)
{
	struct standbyd *d = t->arg;

	const char *path = res_vdiskd_socket(d->vdiskd);
	int rc;

	ev_timer_arm(d->loop, &d->t_repl, d->cfg.cf.monitor_ms);
	if (d->repl_req)
		return;
	d->repl_asked_ms = ev_now_ms();
	rc = ctl_call_start(d->loop, path, "status", RES_VDISKD_TIMEOUT_MS, on_repl_reply, d,
			    &d->repl_req);
	if (!rc)
		return;
	/* No vdiskd listening (stopped, restarting) is no news. A socket this user may not open
	 * is a setup fault that would otherwise show only as "unknown": the peer's copy, once
	 * outdated, would stay so for good. */
	if (rc == -EACCES || rc == -EPERM)
		log_limited(&d->rl_repl, LOG_WARNING, "vdiskd's status on %s: %s: the replication "
			    "state stays unknown (is standbyd's user in the socket's group, vdisk?)",
			    path, strerror(-rc));
	else if (rc != -ENOENT && rc != -ECONNREFUSED)
		log_limited(&d->rl_repl, LOG_WARNING, "vdiskd's status on %s: %s: the replication "
			    "state stays unknown", path, strerror(-rc));
	sb_set_repl(d, HB_REPL_UNKNOWN);
}

/* ---- the state machine's input and output ---- */

static void on_retry(struct ev_timer *t)
{
	sb_feed_ev(t->arg, FSM_EV_RETRY);
}

void sb_feed_ev(struct standbyd *d, enum fsm_event ev)
{
	struct fsm_input in = { .ev = ev };

	sb_feed(d, &in, NULL);
}

/* The failed mark went away in the state machine (resources back, or an admin takeover that
 * vouches for them): the resources' own marks, which the heartbeats carry, go with it. */
static void clear_failures(struct standbyd *d)
{
	unsigned i;

	for (i = 0; i < d->cfg.res.nres; i++)
		d->rt[i].failed = 0;
}

void sb_feed(struct standbyd *d, struct fsm_input *in, struct fsm_output *result)
{
	struct fsm_output out;
	unsigned flags = fsm_flags(&d->fsm);
	int failed = d->fsm.failed;

	if (d->priv_lost) {
		/* exiting (priv_lost): the state stays what the peer last heard */
		if (result) {
			memset(result, 0, sizeof(*result));
			result->admin_rc = -EPIPE;	/* an admin command: refused */
			result->admin_msg = "the privileged helper is lost: standbyd exits";
		}
		return;
	}
	in->now_ms = hb_wall_ms();
	fsm_step(&d->fsm, in, &out);
	if (result)
		*result = out;
	if (failed && !d->fsm.failed) {
		clear_failures(d);
		sb_event(d, LOG_NOTICE, "resources can run here again: no longer failed");
	}
	if (out.peer_died)
		sb_event(d, LOG_ERR, d->fsm.peer_alive_since
			 ? "peer %s dead: no heartbeat on any link for %u ms"
			 : "peer %s not heard from within initdead (%u ms)", d->cfg.peer,
			 d->fsm.peer_alive_since ? d->cfg.cf.deadtime_ms : d->cfg.cf.initdead_ms);
	if (out.peer_died)
		d->last_refusal = NULL;	/* a new death: its refusal is news again */
	if (out.split_brain && !d->split_reported)
		sb_event(d, LOG_ERR, "split brain: %s and %s are both active", d->cfg.node,
			 d->cfg.peer);
	d->split_reported = out.split_brain;
	if (out.refused && out.refused != d->last_refusal)
		sb_event(d, LOG_WARNING, "takeover refused: %s", out.refused);
	if (out.refused)
		d->last_refusal = out.refused;
	if (out.failback_held && out.failback_held != d->failback_held) {
		if (out.failback_split)
			sb_event(d, LOG_ERR, "%s (here %s, %s %s); resolve with 'vdiskctl mirror "
				 "resolve CLIENT --keep NODE'", out.failback_held,
				 hb_repl_name(d->repl), d->cfg.peer, hb_repl_name(d->fsm.peer_repl));
		else
			log_notice("%s (here %s, %s %s)", out.failback_held, hb_repl_name(d->repl),
				   d->cfg.peer, hb_repl_name(d->fsm.peer_repl));
	}
	if (out.failback_held || out.changed)
		d->failback_held = out.failback_held;
	if (out.changed) {
		d->last_refusal = NULL;
		if (d->fsm.state == FSM_TAKING_OVER)
			sb_event(d, LOG_WARNING, "taking over: %s", out.why);
		/* The peer's last word on its mirror: clients' replicas here may lack writes it
		 * acknowledged while degraded, or hold a diverged history. Said before the
		 * resources start, so the admin reads it next to the takeover. */
		if (d->fsm.state == FSM_TAKING_OVER && d->fsm.peer == FSM_PEER_DEAD &&
		    (d->peer_msg.repl == HB_REPL_DEGRADED || d->peer_msg.repl == HB_REPL_SPLIT_BRAIN))
			sb_event(d, LOG_ERR, "replicas may be outdated: %s's last heartbeat said its "
				 "mirror was %s; writes it acknowledged while so may be missing here",
				 d->cfg.peer, hb_repl_name(d->peer_msg.repl));
		sb_event(d, LOG_NOTICE, "state %s -> %s: %s", fsm_state_name(out.from),
			 fsm_state_name(d->fsm.state), out.why);
		if (d->fsm.state == FSM_ACTIVE)
			ev_timer_arm(d->loop, &d->t_monitor, d->cfg.cf.monitor_ms);
		else
			ev_timer_cancel(d->loop, &d->t_monitor);
		if (d->fsm.state == FSM_STANDBY || d->fsm.state == FSM_MAINTENANCE)
			sb_fence_stop(d);
	}
	/* Tell the peer now rather than at the next keepalive: it decides on our state and
	 * flags. */
	if (out.changed || flags != fsm_flags(&d->fsm) || failed != d->fsm.failed)
		sb_send_heartbeat(d);
	if (out.actions & FSM_ACT_PROBE)
		probe_start(d);
	if (out.actions & FSM_ACT_RETRY)
		ev_timer_arm(d->loop, &d->t_retry, d->cfg.cf.deadtime_ms);
	if (out.actions & FSM_ACT_START)
		job_begin(d, JOB_START);
	if (out.actions & FSM_ACT_STOP)
		job_begin(d, JOB_STOP);
	if (d->stopping && d->fsm.state != FSM_RELEASING && d->fsm.state != FSM_TAKING_OVER)
		ev_stop(d->loop);
}

/* ---- heartbeats in ---- */

static void on_warn(struct ev_timer *t)
{
	struct standbyd *d = t->arg;

	if (!d->late_warned && d->fsm.peer == FSM_PEER_ALIVE)
		log_warn("heartbeat from %s late: none for %u ms (warntime)", d->cfg.peer,
			 d->cfg.cf.warntime_ms);
	d->late_warned = 1;
}

static void on_suspect(struct ev_timer *t)
{
	sb_feed_ev(t->arg, FSM_EV_PEER_SUSPECT);
}

static void on_dead(struct ev_timer *t)
{
	sb_feed_ev(t->arg, FSM_EV_PEER_DEAD);
}

static void arm_liveness(struct standbyd *d, unsigned dead_ms)
{
	if (d->cfg.cf.warntime_ms < dead_ms)
		ev_timer_arm(d->loop, &d->t_warn, d->cfg.cf.warntime_ms);
	ev_timer_arm(d->loop, &d->t_suspect, dead_ms - d->cfg.cf.probe_ms);
	ev_timer_arm(d->loop, &d->t_dead, dead_ms);
}

/* The peer's heartbeat version and LAN address. An old peer (version 1 only in this boot
 * generation) is answered in version 1, so both keep hearing each other through a rolling
 * upgrade; its LAN address is unknown meanwhile, and the ARP probe falls back to counting
 * every answer as the peer's. */
static void peer_version(struct standbyd *d, const struct hb_msg *msg)
{
	unsigned v;

	if (msg->version >= 2) {
		d->peer_v2_gen = msg->boot_gen;
		memcpy(d->peer_lan_mac, msg->lan_mac, 6);
	}
	v = d->links.win.gen && d->links.win.gen != d->peer_v2_gen ? 1 : HB_VERSION;
	if (v == d->tx_version)
		return;
	if (v == 1)
		sb_event(d, LOG_WARNING, "peer %s speaks heartbeat version 1 (an older standbyd): "
			 "answering in version 1 (and version 2 every %u s) until it is upgraded; its "
			 "LAN address is unknown meanwhile, so any answer to the takeover's ARP probe "
			 "holds a takeover back", d->cfg.peer, HB_V2_PROBE_MS / 1000);
	else
		sb_event(d, LOG_NOTICE, "peer %s speaks heartbeat version %u: answering in it",
			 d->cfg.peer, v);
	d->tx_version = v;
}

static void link_heard(void *arg, struct sb_link *l, const struct hb_msg *msg)
{
	struct fsm_input in = { .ev = FSM_EV_HEARTBEAT };
	struct standbyd *d = arg;
	int was_alive = d->fsm.peer == FSM_PEER_ALIVE;

	d->rx_ok++;
	l->rx++;
	l->last_rx_ms = ev_now_ms();
	if (d->fsm.peer != FSM_PEER_ALIVE)
		sb_event(d, LOG_NOTICE, "peer %s alive (via %s), state %s", msg->node, l->cfg.ifname,
			 fsm_state_name(msg->state));
	else if (d->late_warned)
		log_notice("heartbeat from %s back after a late one", msg->node);
	d->late_warned = 0;
	d->peer_msg = *msg;
	d->peer_clock_offset_ms = (int64_t)msg->time_ms - (int64_t)hb_wall_ms();
	peer_version(d, msg);
	sb_fence_heard(d, msg);
	sb_ship_heard(d, msg, was_alive);
	arm_liveness(d, d->cfg.cf.deadtime_ms);
	in.peer_state = msg->state;
	in.peer_flags = msg->flags;
	in.peer_failed = msg->res_failed != 0;
	in.peer_repl = msg->repl;
	in.peer_active_since = msg->active_since;
	sb_feed(d, &in, NULL);
}

static void link_dropped(void *arg, struct sb_link *l, enum hb_drop why, unsigned long count)
{
	struct standbyd *d = arg;
	uint64_t now = ev_now_ms();

	d->drops[why] += count;
	log_limited(&d->rl_drop, LOG_WARNING, "dropped %lu heartbeat packet%s on %s: %s", count,
		    count == 1 ? "" : "s", l->cfg.ifname, hb_drop_name(why));
	if (now - d->burst_start_ms > BURST_WINDOW_MS) {
		d->burst_start_ms = now;
		d->burst_count = 0;
		d->burst_reported = 0;
	}
	d->burst_count = count > UINT_MAX - d->burst_count ? UINT_MAX
			 : d->burst_count + (unsigned)count;
	if (d->burst_count >= BURST_THRESHOLD && !d->burst_reported) {
		d->burst_reported = 1;
		sb_event(d, LOG_WARNING, "burst of bad heartbeat packets: %u in %u s on %s (last: %s)",
			 d->burst_count, BURST_WINDOW_MS / 1000, l->cfg.ifname, hb_drop_name(why));
	}
}

/* ---- setup and teardown ---- */

static void on_signal(struct evloop *loop, int signo, void *arg)
{
	struct standbyd *d = arg;

	(void)loop;
	if (d->stopping)
		return;
	log_notice("signal %d: stopping, handing the role over", signo);
	sd_notify(0, "STOPPING=1");
	d->stopping = 1;
	sb_feed_ev(d, FSM_EV_SHUTDOWN);
	if (d->fsm.state != FSM_RELEASING)
		ev_stop(d->loop);
}

static int setup_service(struct standbyd *d)
{
	char errbuf[300];
	struct cfg_err err;
	unsigned i;
	int rc;

	for (i = 0; i < d->cfg.res.nres; i++) {
		rc = res_prepare(&d->cfg, &d->cfg.res.res[i], &d->rt[i], &err);
		if (rc) {
			log_err("%s", err.msg);
			return rc;
		}
	}
	if (d->cfg.res.ipaddr_idx >= 0) {
		d->svc = &d->cfg.res.res[d->cfg.res.ipaddr_idx];
		d->svc_rt = &d->rt[d->cfg.res.ipaddr_idx];
		rc = arp_open(&d->arp, d->svc_rt->ifname, d->svc->addr, errbuf, sizeof(errbuf));
		if (rc) {
			log_err("%s", errbuf);
			return rc;
		}
	}
	d->ping.fd = -1;
	if (d->cfg.cf.nping) {
		rc = pinger_open(&d->ping);
		if (rc) {
			log_err("ping socket: %s", strerror(-rc));
			return rc;
		}
	}
	return sb_tickle_open(d);
}

/* At every start, in the events table too: what the admin allowed against advice must not
 * be forgotten. */
static void start_warnings(struct standbyd *d)
{
	unsigned i, weak = ha_authkeys_weak(&d->cfg.keys);

	if (weak)
		sb_event(d, LOG_WARNING, "INSECURE: authkeys holds %u weak key%s (crc or under %d "
			 "bytes), allowed by insecure_auth in ha.cf: whoever breaks one can forge "
			 "heartbeats and move the role", weak, weak == 1 ? "" : "s", HA_KEY_MIN);
	/* Broadcast on the clients' LAN hands every PC heartbeats to replay and to work on. */
	for (i = 0; i < d->links.n; i++) {
		const struct ha_link *c = &d->links.link[i].cfg;

		if (c->kind == HA_LINK_BCAST && d->svc_rt && strcmp(c->ifname, d->svc_rt->ifname) == 0)
			sb_event(d, LOG_WARNING, "ha.cf line %u: bcast %s broadcasts heartbeats to "
				 "every PC on the service address's LAN; use 'ucast %s PEER' there",
				 c->line, c->ifname, c->ifname);
	}
}

/* As Heartbeat's realtime: a busy machine (a boot storm, a resync) must not hold back the
 * heartbeats that tell the peer this node lives, nor delay reading the peer's. SCHED_RR at
 * the lowest real-time priority: above every ordinary process, below the kernel's own. The
 * loop only waits on events, so it takes no more CPU than before. Children (scripts, pxed)
 * go back to the ordinary class (SCHED_RESET_ON_FORK). */
static void go_realtime(struct standbyd *d)
{
	struct sched_param sp = { .sched_priority = 1 };

	if (!d->cfg.cf.realtime)
		return;
	if (sched_setscheduler(0, SCHED_RR | SCHED_RESET_ON_FORK, &sp) < 0)
		log_warn("realtime: cannot run at a real-time priority (%s): heartbeats may be "
			 "late on a busy machine", strerror(errno));
}

/* Forks the helper, which keeps the raw sockets (the ARP capture, the ICMP socket, the
 * tickles' socket: it sends on them and reads them for us), the links for the receivers and
 * root; starts the first receiver through it; then becomes user. What stays open here is
 * what a user may hold: the links' records, the helper's pairs, the database, the control
 * socket, the asking of vdiskd's status (its group may). */
static int start_helper(struct standbyd *d, const char *user)
{
	int fds[HA_MAX_LINKS], rc;
	struct privop_setup s = { .cfg = &d->cfg, .rt = d->rt, .arp = d->svc ? &d->arp : NULL,
				  .ping = &d->ping, .tickle_fd = d->tickle.rawfd,
				  .link_fds = fds, .nlinks = d->links.n };
	unsigned i;

	for (i = 0; i < d->links.n; i++)
		fds[i] = d->links.link[i].fd;
	rc = privop_start(&d->priv, &s);
	if (rc)
		return rc;
	/* the raw sockets could send anything: the helper's alone now (our MAC, the
	 * capture's interface and the pings' id stay, for parsing what it hands up) */
	if (d->tickle.rawfd >= 0)
		close(d->tickle.rawfd);
	d->tickle.rawfd = -1;
	arp_close(&d->arp);
	pinger_close(&d->ping);
	rc = ev_io_add(d->loop, &d->priv_io, d->priv.exit_fd, EPOLLIN, on_priv, d);
	if (rc)
		return rc;
	d->priv_io_added = 1;
	rc = ev_io_add(d->loop, &d->frame_io, d->priv.frame_fd, EPOLLIN, on_frames, d);
	if (rc)
		return rc;
	d->frame_io_added = 1;
	/* the loss takes effect inside the request that finds it (priv_lost) */
	d->priv.on_lost = priv_lost_hook;
	d->priv.lost_arg = d;
	rc = sb_links_start(&d->links, &d->priv);
	if (rc)
		return rc;
	rc = privop_drop(user);
	return rc < 0 ? rc : 0;
}

static const struct sb_links_hooks links_hooks = {
	.heard = link_heard,
	.dropped = link_dropped,
};

static const struct sb_hooks daemon_hooks = {
	.feed = sb_feed,
	.send_heartbeat = sb_send_heartbeat,
};

int standbyd_run(const struct ha_config *cfg, const struct standbyd_opts *opts)
{
	struct fsm_config fc;
	struct standbyd *d;
	struct timespec ts;
	unsigned i;
	int rc, has_vdiskd = 0;

	d = calloc(1, sizeof(*d));
	if (!d)
		return -ENOMEM;
	d->cfg = *cfg;
	d->rl_drop = (struct log_ratelimit)LOG_RATELIMIT_INIT(5);
	d->rl_repl = (struct log_ratelimit)LOG_RATELIMIT_INIT(60);
	d->ping.fd = -1;
	d->tx_version = HB_VERSION;
	clock_gettime(CLOCK_REALTIME, &ts);
	/* Microseconds since the epoch: a restarted standbyd gets a higher generation without
	 * keeping any state on disk. */
	d->boot_gen = (uint64_t)ts.tv_sec * 1000000 + (uint64_t)ts.tv_nsec / 1000;
	for (i = 0; i < cfg->res.nres; i++)
		if (cfg->res.res[i].kind == HA_RES_VDISKD && !has_vdiskd) {
			has_vdiskd = 1;
			d->vdiskd = &d->cfg.res.res[i];
		}
	/* With no data side there is nothing to resync; with vdiskd, it must say so. */
	d->repl = has_vdiskd ? HB_REPL_UNKNOWN : HB_REPL_IN_SYNC;
	fc.preferred = strcmp(cfg->res.node, cfg->node) == 0;
	fc.auto_failback = cfg->cf.auto_failback;
	fc.failback_after_ms = 4ull * cfg->cf.deadtime_ms;
	fsm_init(&d->fsm, &fc);
	d->fsm.repl = (uint8_t)d->repl;	/* the machine's copy, kept by FSM_EV_REPL from now */

	go_realtime(d);
	d->loop = evloop_new();
	if (!d->loop) {
		rc = -errno;
		goto out_free;
	}
	ev_timer_init(&d->t_hb, on_hb_timer, d);
	ev_timer_init(&d->t_warn, on_warn, d);
	ev_timer_init(&d->t_suspect, on_suspect, d);
	ev_timer_init(&d->t_dead, on_dead, d);
	ev_timer_init(&d->t_probe, on_probe_timer, d);
	ev_timer_init(&d->t_retry, on_retry, d);
	ev_timer_init(&d->t_monitor, on_monitor, d);
	ev_timer_init(&d->t_garp, on_garp_timer, d);
	ev_timer_init(&d->t_repl, on_repl_timer, d);
	ev_timer_init(&d->job.limit, on_script_limit, d);
	d->priv.fd = d->priv.exit_fd = d->priv.frame_fd = -1;
	d->hooks = &daemon_hooks;
	sb_ship_init(d);
	sb_tickle_init(d);

	rc = setup_service(d);
	if (rc)
		goto out_close;
	rc = sb_fence_open(d, opts->state_dir);
	if (rc)
		goto out_close;
	/* An outdated copy kept across a restart (the state file) bars takeovers from the first
	 * decision on, as it did before the restart; FSM_EV_OUTDATED tells later changes. */
	d->fsm.outdated = d->fence.outdated;
	rc = sb_links_open(&d->links, d->loop, &d->cfg, &links_hooks, d);
	if (rc)
		goto out_close;
	if (opts->db_path) {
		const char *why = NULL;

		d->db_path = opts->db_path;
		rc = db_open(opts->db_path, 0, &d->db, &why);
		if (rc)
			log_warn("database %s: %s; events go to the log only", opts->db_path,
				 why ? why : strerror(-rc));
	}
	rc = sb_ship_open(d);
	if (rc)
		goto out_close;
	rc = ctl_server_open(d->loop, opts->ctl_path, opts->ctl_handler, d, &d->ctl);
	if (rc) {
		log_err("control socket %s: %s", opts->ctl_path, strerror(-rc));
		goto out_close;
	}
	/* vdiskd (the user vdisk) fences through us, pxed asks who is active; the role is the
	 * admin's (root's) alone */
	ctl_server_group_allow(d->ctl, group_requests);
	ev_signal(d->loop, SIGTERM, on_signal, d);
	ev_signal(d->loop, SIGINT, on_signal, d);
	signal(SIGPIPE, SIG_IGN);
	rc = start_helper(d, opts->user);
	if (rc)
		goto out_close;

	sb_event(d, LOG_NOTICE, "standbyd started: node %s, peer %s, %u link%s, %s node, "
		 "auto_failback %s", cfg->node, cfg->peer, d->links.n, d->links.n == 1 ? "" : "s",
		 fc.preferred ? "preferred" : "non-preferred", fc.auto_failback ? "on" : "off");
	start_warnings(d);
	arm_liveness(d, cfg->cf.initdead_ms);
	/* Restarted while the host kept the address: take the role back as it is, before a
	 * first heartbeat says standby (the peer would read that as the role given up). */
	if (d->svc && ipaddr_is_local(d->svc->addr) == 1)
		sb_feed_ev(d, FSM_EV_RESUME);
	sb_send_heartbeat(d);
	ev_timer_arm(d->loop, &d->t_hb, cfg->cf.keepalive_ms);
	/* links, probe, control socket and DB are open: a unit ordered after us may start */
	sd_notify(0, "READY=1");
	if (d->vdiskd)
		ev_timer_arm(d->loop, &d->t_repl, 0);

	rc = evloop_run(d->loop);
	if (d->priv_lost)
		rc = -EPIPE;
	else
		sb_send_heartbeat(d);	/* last word: our state (standby, yielding) for the peer */
	sb_event(d, LOG_NOTICE, "standbyd stopped in state %s", fsm_state_name(d->fsm.state));
	ctl_server_close(d->ctl);
out_close:
	ctl_call_cancel(d->repl_req);
	sb_ship_close(d);
	sb_tickle_close(d);
	sb_links_close(&d->links);
	if (d->ping.fd >= 0)
		pinger_close(&d->ping);
	arp_close(&d->arp);
	job_cancel(d);
	if (d->priv_io_added)
		ev_io_del(d->loop, &d->priv_io);
	d->priv_io_added = 0;
	if (d->frame_io_added)
		ev_io_del(d->loop, &d->frame_io);
	d->frame_io_added = 0;
	/* it stops pxed and a script still running, as we did before there was a helper */
	privop_stop(&d->priv);
	if (d->db)
		db_close(d->db);
	evloop_free(d->loop);
out_free:
	free(d);
	return rc;
}
