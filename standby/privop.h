/* The privileged helper: a child process (standbyd-priv in ps) that keeps standbyd's root
 * and capabilities and does, on request, the few things that need them: add, remove and
 * check a resource of haresources (the service address through netlink, an LSB script,
 * pxed; vdiskd, which takes a role from root only, is sent its request from here), send the
 * takeover's ARP probe and the gratuitous ARPs, the pings before a
 * takeover and the tickle ACKs after it, and start or stop the heartbeat receiver (a new
 * user and root, hbrx.h). It also reads the two raw sockets (the ARP capture, the ICMP
 * socket), which can send anything, and hands up what they received, unparsed, as frame
 * records: the loop keeps no raw socket. standbyd's loop, which parses the network
 * (heartbeats, DB shipping, connection lists, ARP claims and echo replies, the control
 * socket), then runs as an unprivileged user (PRIVOP_USER) with no capabilities.
 *
 * Requests are fixed-size records on a SOCK_SEQPACKET pair, one answer each, in order. A
 * request never carries an address, a path or a command: it names a resource by its index
 * in the haresources the helper parsed before the loop could be reached, or a ping node by
 * its index in ha.cf; the one free-form request, a tickle ACK, must come from one of the
 * configured service addresses. The helper checks every request (privop_req_check) and
 * answers anything else with an error. A script's exit (or its time limit) is reported on a
 * second pair as a record, since it comes later, while the loop goes on.
 *
 * The helper ends when standbyd does (its end of the pair closes: it stops pxed and a script
 * still running, as standbyd did at exit, and leaves the address as it is, as a killed
 * standbyd did). An unprivileged standbyd cannot start another one: when the helper is
 * lost, standbyd exits and its service manager starts it again (docs/standby.md). */
#ifndef STANDBY_PRIVOP_H
#define STANDBY_PRIVOP_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "standby/arp.h"
#include "standby/config.h"
#include "standby/connlist.h"
#include "standby/hbrx.h"
#include "standby/ping.h"
#include "standby/resource.h"

/* The user standbyd's loop runs as once the helper runs: the packages make it, in the group
 * vdisk (the database, vdiskd's socket for its status). Without it standbyd stays root,
 * with a warning. */
#define PRIVOP_USER "vdisk-ha"
#define PRIVOP_MAGIC 0x76705231u	/* "vpR1": the record layout's version */
/* How long a request may take before the helper is taken for stuck (lost). Starting or
 * stopping a receiver (1 s) may take PRIVOP_CALL_MS; everything else (the address, an ARP, a
 * ping, a tickle, a resource step: a script's fork, pxed's start or SIGTERM, vdiskd's
 * request) is quick and gets PRIVOP_FAST_MS, so that a stuck helper is found within a
 * fraction of the deadtime on a takeover's path. */
#define PRIVOP_CALL_MS 5000
#define PRIVOP_FAST_MS 500
/* The helper enforces a child's limit itself (res_limit_ms) and reports res_expire's result;
 * standbyd waits this much longer before it gives up on the record. */
#define PRIVOP_LIMIT_GRACE_MS 1000

enum privop_kind {
	PRIVOP_RES = 1,		/* idx: a resource (not vdiskd); op: enum res_op */
	PRIVOP_RES_CANCEL,	/* kill the script running now, if any; no record follows */
	PRIVOP_ARP_PROBE,	/* idx: the service address (haresources' first IPaddr) */
	PRIVOP_ARP_GARP,	/* idx: the service address */
	PRIVOP_PING,		/* idx: a ping node of ha.cf */
	PRIVOP_TICKLE,		/* conn: from one of the IPaddr resources' addresses */
	PRIVOP_RX_START,	/* a new heartbeat receiver: its end of the pair comes back */
	PRIVOP_RX_STOP,		/* kill and reap the receiver */
	PRIVOP_VDISKD,		/* idx: a vdiskd resource; op: its request is sent as root,
				 * the socket comes back for the loop to read the answer */
	PRIVOP_SYNC,		/* nothing: what the helper read before it is in the frame
				 * pair, or counted in the answer's arp_dropped */
	PRIVOP_NKINDS
};

struct privop_req {
	uint32_t magic;		/* PRIVOP_MAGIC */
	uint32_t seq;		/* echoed; for PRIVOP_RES also the exit record's */
	uint16_t kind;		/* enum privop_kind */
	uint16_t idx;
	uint16_t op;		/* PRIVOP_RES: enum res_op; else 0 */
	uint16_t zero;		/* 0 */
	uint32_t laddr, raddr;	/* PRIVOP_TICKLE, host order; else 0 */
	uint16_t lport, rport;
};

/* An answer (on the request pair), or a script's exit (on the exit pair, kind PRIVOP_RES). */
struct privop_rep {
	uint32_t seq;		/* the request's */
	uint16_t kind;		/* the request's; 0 when the request was refused unread */
	uint16_t zero;
	int32_t rc;		/* 0 or a negative errno; PRIVOP_RES as res_begin's, and
				 * -EINPROGRESS when a child runs and its exit record follows */
	int32_t pid;		/* PRIVOP_RX_START: the receiver; else 0 */
	uint32_t arp_dropped;	/* claims of the service address the helper lost so far (its
				 * capture's buffer, or the frame pair, full); answers only */
};

/* What the helper read on a raw socket, as received (cut to PRIVOP_FRAME_MAX: an ARP frame
 * is 42 bytes, an echo reply at most 60 of IP header and 8 of ICMP), on a third pair. */
#define PRIVOP_FRAME_MAX 128
enum privop_frame_kind {
	PRIVOP_FRAME_ARP = 1,	/* a frame of the capture: a claim of the service address */
	PRIVOP_FRAME_ICMP,	/* an IPv4 packet of the ICMP socket: an echo reply */
};

struct privop_frame {
	uint32_t seq;		/* the last request the helper had served when it read it */
	uint16_t kind;		/* enum privop_frame_kind */
	uint16_t len;		/* bytes of data, at most PRIVOP_FRAME_MAX */
	uint8_t data[PRIVOP_FRAME_MAX];
};

/* Whether frame record f was read once the request seq was served (seq numbers wrap). */
static inline int privop_frame_since(const struct privop_frame *f, uint32_t seq)
{
	return (int32_t)(f->seq - seq) >= 0;
}

/* What the helper works with, as standbyd set it up (the helper uses its own copy, made by
 * fork: standbyd cannot change it afterwards). */
struct privop_setup {
	const struct ha_config *cfg;
	struct res_runtime *rt;		/* cfg->res.nres, prepared (res_prepare) */
	struct arp_port *arp;		/* the service address's interface; NULL without one */
	struct pinger *ping;		/* fd -1 without ping nodes */
	int tickle_fd;			/* tcpack_open's, or -1 */
	const int *link_fds;		/* the heartbeat links, for the receivers */
	unsigned nlinks;
};

struct privop {
	pid_t pid;		/* 0 when none runs */
	int fd;			/* requests and answers; -1 when none */
	int exit_fd;		/* scripts' exit records; readable (EOF) when the helper is lost */
	int frame_fd;		/* frame records */
	uint32_t seq;
	const struct ha_config *cfg;	/* the setup's, for the resources' kinds */
	int lost;		/* it answered wrong or not at all: no more requests */
	unsigned long refused;	/* requests the helper refused (a bug here, or worse) */
	uint32_t arp_dropped;	/* the last answer's: claims of the address lost so far */
	/* called once, at the moment the helper is found lost (inside the request that found
	 * it, before that request returns -EPIPE); set after privop_start */
	void (*on_lost)(void *arg);
	void *lost_arg;
};

/* Forks the helper; returns once it is ready (0), or a negative errno (logged). */
int privop_start(struct privop *p, const struct privop_setup *s);
/* Closes standbyd's ends and, when still root and the helper is not lost, waits (up to
 * PRIVOP_CALL_MS, then SIGKILL) for it to stop what it runs and exit. A lost helper, or one
 * an unprivileged standbyd could not kill, is not waited for (only reaped if already gone):
 * the service manager ends what is left of the unit. Safe when none runs. */
void privop_stop(struct privop *p);

/* Becomes user (PRIVOP_USER: the packages make it) with its group and no other, no
 * capabilities, no new privileges and not dumpable. 1 when done, 0 when the user does not
 * exist (a warning: standbyd stays as it was), a negative errno when it failed (logged). */
int privop_drop(const char *user);

/* The requests. Each returns the helper's rc; -EPIPE when the helper is lost (then exit_fd
 * reads EOF, where standbyd's loop learns it). */
/* A resource step: its result, or -EINPROGRESS when a child runs (a script, pxed stopping);
 * then its exit comes as a record with this *seq (privop_read_exit). */
int privop_res(struct privop *p, unsigned idx, enum res_op op, uint32_t *seq);
int privop_res_cancel(struct privop *p);
int privop_arp(struct privop *p, unsigned idx, int garp);
int privop_ping(struct privop *p, unsigned idx);
int privop_tickle(struct privop *p, const struct tcp_conn *c);
/* A round trip: then every frame the helper read before it is in the frame pair, and every
 * claim it lost counted in p->arp_dropped. */
int privop_sync(struct privop *p);
/* The vdiskd resource idx's request for op (res_vdiskd_request), sent by the helper: the
 * socket to read the answer from (for ctl_call_wait; shut for writing), or a negative errno:
 * -EACCES when the socket's peer is not vdiskd's user (the user vdisk; without it, the uid
 * that owned the socket file when the helper started), and then nothing was sent. */
int privop_vdiskd(struct privop *p, unsigned idx, enum res_op op);
/* A receiver as hbrx_start's, started by the helper: rx gets its pid and the pair's end. */
int privop_rx_start(struct privop *p, struct hbrx *rx);
void privop_rx_stop(struct privop *p, struct hbrx *rx);

/* Reads a script's exit record without blocking: 1 with *seq and *rc, 0 when none waits,
 * -EPIPE when the helper is lost (or sent something that is not such a record). */
int privop_read_exit(struct privop *p, uint32_t *seq, int *rc);

/* Reads a frame record without blocking: 1 with *f, 0 when none waits, -EPIPE when the
 * helper is lost (or sent something that is not such a record). A frame the helper could not
 * hand up because the loop was behind (the pair full) is dropped: an echo reply with a log
 * line (a lost reply can only refuse a takeover), a claim of the address counted in
 * arp_dropped, as are those its capture's buffer lost. */
int privop_read_frame(struct privop *p, struct privop_frame *f);

/* Checks got bytes (as received) as a request against cfg, the helper's configuration.
 * 0, or what the helper answers instead: -EMSGSIZE (not one record), -EBADMSG (magic,
 * padding, fields the kind does not use), -EOPNOTSUPP (unknown kind), -ERANGE (index out of
 * range), -EINVAL (an op that is not one, a resource of the wrong kind, a tickle not from
 * a service address, a port 0). Exposed for the unit test and the fuzz target. */
int privop_req_check(const void *buf, size_t got, const struct ha_config *cfg);

#endif
